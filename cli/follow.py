"""``caseledger follow``: a department's reference consumer of the office's feed.

It signs in with the department's key, pages through ``GET /v1/feed``, and accepts a page only
if :class:`ledger.feed.FeedFollower` does (checkpoint signed by the trust file's log key and
consistent with the last one accepted, every envelope in the log and admitted by the rules).
What it accepts is appended to ``DIR/envelopes.jsonl`` and fsynced before ``DIR/state.json``
(position, checkpoint, line count) is replaced, so a restart — even after a kill between the
two writes — resumes exactly after the last accepted envelope: nothing missed, nothing twice.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._common import ClientError, boundary, note, read_key
from cli.client._target import RemoteTarget
from cli.texts import say
from ledger.checkpoint import parse_checkpoint
from ledger.envelope import Envelope
from ledger.feed import FEED_KIND, FeedFollower, FeedPage
from ledger.signing import b64decode_strict
from ledger.store.files import write_durably
from ledger.trust import TrustFile

__all__ = ["register"]

ENVELOPES = "envelopes.jsonl"
STATE = "state.json"


def register(app: typer.Typer) -> None:
    app.command("follow")(boundary(follow))


@dataclass
class _Kept:
    """The follower's folder: accepted envelopes and where the follower stands."""

    folder: Path

    def load(self, follower: FeedFollower) -> None:
        state_path = self.folder / STATE
        if not state_path.exists():
            return
        state = json.loads(state_path.read_text("utf-8"))
        if state.get("kind") != FEED_KIND or state.get("org") != follower.trust.org:
            raise ClientError(f"{state_path} is not this office's feed state", code="follow.state")
        lines = self._lines()[: int(state["lines"])]
        self._rewrite(lines)  # drop lines written after the last saved state
        follower.replay(
            [Envelope.from_bytes(json.loads(line)["envelope"].encode()) for line in lines]
        )
        follower.position = int(state["position"])
        follower.checkpoint = state["checkpoint"]

    def keep(self, follower: FeedFollower, page: FeedPage, accepted: list[Envelope]) -> None:
        by_hash = {e.envelope.hash: e for e in page.entries}
        with (self.folder / ENVELOPES).open("a", encoding="utf-8") as out:
            for env in accepted:
                entry = by_hash[env.hash]
                out.write(
                    json.dumps(
                        {
                            "position": entry.position,
                            "leaf_index": entry.leaf_index,
                            "envelope": env.raw.decode("utf-8"),
                        },
                        ensure_ascii=False,
                    )
                )
                out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        state = {
            "kind": FEED_KIND,
            "org": follower.trust.org,
            "position": follower.position,
            "checkpoint": follower.checkpoint,
            "lines": len(self._lines()),
        }
        write_durably(self.folder / STATE, json.dumps(state, ensure_ascii=False).encode("utf-8"))

    def _lines(self) -> list[str]:
        path = self.folder / ENVELOPES
        if not path.exists():
            return []
        return [line for line in path.read_text("utf-8").split("\n") if line]

    def _rewrite(self, lines: list[str]) -> None:
        path = self.folder / ENVELOPES
        if path.exists() and len(self._lines()) != len(lines):
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _consistency(server: RemoteTarget, follower: FeedFollower, page: FeedPage) -> list[bytes]:
    if follower.checkpoint is None:
        return []
    old = parse_checkpoint(follower.checkpoint).checkpoint.size
    new = parse_checkpoint(page.checkpoint).checkpoint.size
    if old == new or new < old:
        return []
    answer = server.get_json("/v1/log/consistency", {"old": old, "new": new}, signed_in=False)
    return [b64decode_strict(h, what="a consistency proof hash") for h in answer["hashes"]]


def follow_once(server: RemoteTarget, follower: FeedFollower, kept: _Kept, limit: int) -> int:
    """Page until the server has nothing more; return how many envelopes were accepted."""
    total = 0
    while True:
        answer: Any = server.get_json(
            "/v1/feed", {"after": follower.position, "limit": limit}, signed_in=True
        )
        page = FeedPage.from_json(answer)
        accepted = follower.accept(page, _consistency(server, follower, page))
        kept.keep(follower, page, accepted)
        total += len(accepted)
        if not page.more or page.next_after == page.after:
            return total


def follow(
    server: Annotated[str, typer.Option("--server", help="The office's base URL.")],
    trust: Annotated[Path, typer.Option("--trust", help="The office's trust.json.")],
    key: Annotated[Path, typer.Option("--key", help="The department's key file.")],
    state: Annotated[Path, typer.Option("--state", help="Folder for what is received.")],
    watch: Annotated[
        float, typer.Option("--watch", help="Keep following, asking every N seconds (0: once).")
    ] = 0.0,
    limit: Annotated[int, typer.Option("--limit", help="Envelopes per page.")] = 200,
    passphrase_env: Annotated[
        str | None,
        typer.Option("--passphrase-env", help="Environment variable with the key's passphrase."),
    ] = None,
) -> None:
    """Follow the office's feed as a department: verify every envelope and the log's
    consistency, and keep what was received in the --state folder (jsonl)."""
    office = TrustFile.from_json(trust.read_bytes())
    key_file = read_key(key, passphrase_env)
    state.mkdir(parents=True, exist_ok=True)
    follower = FeedFollower(office)
    kept = _Kept(state)
    kept.load(follower)
    target = RemoteTarget(server.rstrip("/"), key_file)
    try:
        while True:
            count = follow_once(target, follower, kept, limit)
            note(say("follow.received", count=count, position=follower.position))
            if watch <= 0:
                break
            time.sleep(watch)
    finally:
        target.close()
