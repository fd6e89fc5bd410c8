"""The feed for other departments: signed envelopes in commit order, each with its proof.

A department's system subscribes to the cases of the matters it is entitled to, instead of
typing each case again. A page of the feed (``GET /v1/feed?after=POSITION``) carries, for every
envelope after ``POSITION`` that the department may see (the directory's envelopes, which say
who may sign, and the envelopes of cases of its matters), the envelope's canonical text, its
store position, its leaf index and an inclusion proof against the page's signed checkpoint.

:class:`FeedFollower` is what a department runs: it keeps the last checkpoint it accepted and
refuses a page whose checkpoint is not signed by the trust file's log key, does not extend the
last one (a consistency proof is required: a forked or rewritten log is caught here), or holds
an envelope that is not in the checkpoint's tree, is out of order, or that the rules refuse
(the same ``policy.check`` the office runs). What it accepts, it can prove it received.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass, field
from typing import Any

from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.merkle import ProofInvalid, leaf_hash, verify_consistency, verify_inclusion
from ledger.policy import check
from ledger.state import CaseState
from ledger.trust import TrustFile

__all__ = ["FEED_KIND", "FeedEntry", "FeedError", "FeedFollower", "FeedPage"]

FEED_KIND = "caseledger/feed/v1"
MAX_PROOF_HASHES = 64


class FeedError(CaseLedgerError):
    """A feed page that cannot be read or must not be accepted (codes ``feed.*``)."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One envelope of the feed with where it stands in the store and in the log."""

    position: int
    leaf_index: int
    envelope: Envelope
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "leaf_index": self.leaf_index,
            "envelope": self.envelope.raw.decode("utf-8"),
            "proof": [base64.b64encode(h).decode("ascii") for h in self.proof],
        }


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A page of the feed: entries after ``after`` up to ``next_after``, and the checkpoint
    note their proofs lead to. ``more`` says whether the server holds further entries."""

    after: int
    next_after: int
    checkpoint: str
    entries: tuple[FeedEntry, ...]
    more: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": FEED_KIND,
            "after": self.after,
            "next_after": self.next_after,
            "more": self.more,
            "checkpoint": self.checkpoint,
            "entries": [e.to_json() for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: Any) -> FeedPage:
        """Parse a page as the server sends it; raise FeedError (feed.malformed) otherwise."""
        if not isinstance(data, dict) or data.get("kind") != FEED_KIND:
            raise FeedError(f"not a {FEED_KIND} page", code="feed.malformed")
        try:
            return cls(
                after=_count(data["after"]),
                next_after=_count(data["next_after"]),
                checkpoint=str(data["checkpoint"]),
                entries=tuple(_entry(item) for item in data["entries"]),
                more=bool(data["more"]),
            )
        except (CaseLedgerError, KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise FeedError(
                f"the feed page cannot be read: {exc!r}", code="feed.malformed"
            ) from None


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a position")
    return value


def _entry(item: Any) -> FeedEntry:
    proof = item["proof"]
    if not isinstance(proof, list) or len(proof) > MAX_PROOF_HASHES:
        raise ValueError("the proof is not a short list of hashes")
    return FeedEntry(
        position=_count(item["position"]),
        leaf_index=_count(item["leaf_index"]),
        envelope=Envelope.from_bytes(str(item["envelope"]).encode("utf-8")),
        proof=tuple(base64.b64decode(h, validate=True) for h in proof),
    )


@dataclass
class FeedFollower:
    """A department's view of the office's log and streams, grown page by page.

    ``checkpoint`` is the last accepted checkpoint note (None before the first page);
    ``position`` the store position of the last accepted entry. Both are what a follower keeps
    between runs (see :meth:`state` / :meth:`from_state`), together with the envelopes it
    accepted, which it replays on start to rebuild the directory and case states.
    """

    trust: TrustFile
    position: int = 0
    checkpoint: str | None = None
    directory: DirectoryState = field(init=False)
    cases: dict[str, CaseState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory = DirectoryState(self.trust.org, dict(self.trust.root_keys))

    def replay(self, envelopes: list[Envelope]) -> None:
        """Fold envelopes accepted in an earlier run (they were judged then)."""
        for env in envelopes:
            self._fold(env)

    def accept(self, page: FeedPage, consistency: list[bytes] | None) -> list[Envelope]:
        """Judge ``page``; return its envelopes if all hold, else raise FeedError and change
        nothing. ``consistency`` is the proof from the last accepted checkpoint's size to the
        page's (None when there is no earlier checkpoint or the sizes are equal)."""
        head = self._checked_checkpoint(page.checkpoint, consistency)
        if page.after != self.position:
            raise FeedError(
                f"the page starts after {page.after}, not after {self.position}",
                code="feed.order",
            )
        accepted: list[Envelope] = []
        last = self.position
        # A refused page leaves the follower as it was, so it can ask again or stop.
        snapshot = (copy.deepcopy(self.directory), dict(self.cases))
        try:
            for entry in page.entries:
                if entry.position <= last:
                    raise FeedError(
                        f"position {entry.position} does not follow {last}", code="feed.order"
                    )
                self._included(entry, head)
                self._judged(entry.envelope)
                self._fold(entry.envelope)
                accepted.append(entry.envelope)
                last = entry.position
        except FeedError:
            self.directory, self.cases = snapshot
            raise
        self.position = max(last, page.next_after)
        self.checkpoint = page.checkpoint
        return accepted

    def _checked_checkpoint(self, note: str, consistency: list[bytes] | None) -> Checkpoint:
        try:
            head = verify_checkpoint(
                note, [self.trust.log_verifier_key], origin=self.trust.log_origin
            )
        except CaseLedgerError as exc:
            raise FeedError(
                f"the checkpoint is not the office's: {exc.message}", code="feed.checkpoint"
            ) from None
        if self.checkpoint is None:
            return head
        last = verify_checkpoint(self.checkpoint, [self.trust.log_verifier_key])
        if head.size < last.size:
            raise FeedError(
                f"the log shrank from {last.size} to {head.size} leaves", code="feed.fork"
            )
        try:
            verify_consistency(last.size, head.size, last.root, head.root, consistency or [])
        except ProofInvalid as exc:
            raise FeedError(
                f"the log of {head.size} leaves does not extend the one of {last.size} "
                f"this department accepted: {exc}",
                code="feed.fork",
            ) from None
        return head

    @staticmethod
    def _included(entry: FeedEntry, head: Checkpoint) -> None:
        try:
            verify_inclusion(
                entry.leaf_index,
                head.size,
                _leaf(entry.envelope),
                entry.proof,
                head.root,
            )
        except ProofInvalid as exc:
            raise FeedError(
                f"{entry.envelope.stream} seq {entry.envelope.seq} is not in the log: {exc}",
                code="feed.inclusion",
            ) from None

    def _judged(self, env: Envelope) -> None:
        state = None if env.stream.startswith("directory:") else self._case(env.stream)
        found = check(state, self.directory, env)
        if found:
            codes = ", ".join(v.code for v in found)
            raise FeedError(
                f"{env.stream} seq {env.seq} breaks the rules: {codes}", code="feed.rules"
            )

    def _fold(self, env: Envelope) -> None:
        if env.stream.startswith("directory:"):
            self.directory.apply(env)
        else:
            self.cases[env.stream] = self._case(env.stream).apply(env)

    def _case(self, stream: str) -> CaseState:
        return self.cases.get(stream) or CaseState.empty(stream)


def _leaf(env: Envelope) -> bytes:
    return leaf_hash(bytes.fromhex(env.hash))
