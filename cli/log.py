"""``caseledger log …`` (checkpoints and proofs) and ``caseledger witness …`` (cosigning)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from api.org import OrgHome, resolve_home
from cli.texts import say
from ledger import merkle
from ledger.checkpoint import Checkpoint, cosign, parse_checkpoint, verify_checkpoint
from ledger.clock import system_clock
from ledger.errors import CaseLedgerError
from ledger.keyfile import KeyFile
from ledger.note import COSIGNATURE_TYPE, VerifierKey, verifier_key_string
from ledger.signing import PrivateKey, b64decode_strict, b64encode
from ledger.store.application import CaseLedger

__all__ = ["register"]

log_app = typer.Typer(
    help="The transparency log: checkpoints, proofs, leaves.", no_args_is_help=True
)
witness_app = typer.Typer(
    help="Witness another office's log: check consistency and cosign.", no_args_is_help=True
)

Home = Annotated[Path | None, typer.Option("--home", help="Organisation folder.")]
Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")
    app.add_typer(witness_app, name="witness")


def _open(home: Path | None, db: str | None) -> tuple[OrgHome, CaseLedger]:
    org_home = OrgHome.load(resolve_home(home))
    return org_home, org_home.open_ledger(db)


@log_app.command("checkpoint")
def checkpoint(home: Home = None, db: Db = None) -> None:
    """Sign a checkpoint of the whole log now (if it grew) and print it (signed note)."""
    org_home, ledger = _open(home, db)
    try:
        stored = ledger.kept_log().sign_checkpoint(org_home.key("log"), system_clock())
    finally:
        ledger.close()
    typer.echo(stored.note, nl=False)


@log_app.command("inclusion")
def inclusion(
    index: int,
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: the latest checkpoint's).")
    ] = None,
    as_json: AsJson = False,
    home: Home = None,
    db: Db = None,
) -> None:
    """The inclusion proof of leaf INDEX in the tree of --size leaves."""
    _, ledger = _open(home, db)
    try:
        log = ledger.kept_log()
        latest = log.latest_checkpoint()
        size = size or (latest.size if latest else log.size())
        hashes = log.inclusion_proof(index, size)
        leaf = log.leaf_hashes(index, index + 1)[0]
        root = log.root(size)
    finally:
        ledger.close()
    merkle.verify_inclusion(index, size, merkle.leaf_hash(leaf), hashes, root)
    _print_proof(
        {
            "index": index,
            "size": size,
            "envelope_hash": leaf.hex(),
            "root": b64encode(root),
            "hashes": [b64encode(h) for h in hashes],
        },
        as_json,
    )


@log_app.command("consistency")
def consistency(
    old: int, new: int, as_json: AsJson = False, home: Home = None, db: Db = None
) -> None:
    """The consistency proof between the trees of OLD and NEW leaves."""
    _, ledger = _open(home, db)
    try:
        log = ledger.kept_log()
        hashes = log.consistency_proof(old, new)
        old_root, new_root = log.root(old), log.root(new)
    finally:
        ledger.close()
    if old > 0:
        merkle.verify_consistency(old, new, old_root, new_root, hashes)
    _print_proof(
        {
            "old": old,
            "new": new,
            "old_root": b64encode(old_root),
            "new_root": b64encode(new_root),
            "hashes": [b64encode(h) for h in hashes],
        },
        as_json,
    )


@log_app.command("leaf-index")
def leaf_index(envelope_hash: str, home: Home = None, db: Db = None) -> None:
    """The leaf index of an envelope (by its hex SHA-256); exit 1 if it is not logged."""
    try:
        raw = bytes.fromhex(envelope_hash)
    except ValueError:
        raise CaseLedgerError("give the envelope hash as 64 hex digits", code="log.hash") from None
    _, ledger = _open(home, db)
    try:
        index = ledger.kept_log().leaf_index(raw)
    finally:
        ledger.close()
    if index is None:
        raise CaseLedgerError("that envelope is not in the log", code="log.not_found")
    typer.echo(index)


@log_app.command("witnesses")
def witnesses(
    add: Annotated[
        list[str] | None,
        typer.Option("--add", help="A witness's verifier key (its witness.vkey). Repeatable."),
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A witness name to drop. Repeatable.")
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(help="How many witnesses must cosign (0: none).")
    ] = None,
    home: Home = None,
) -> None:
    """List (and change) the witnesses trust.json names and the quorum verifiers require."""
    org_home = OrgHome.load(resolve_home(home))
    trust = org_home.trust()
    keys = [k for k in trust.witness_keys if VerifierKey.from_string(k).name not in (remove or [])]
    for text in add or []:
        key = VerifierKey.from_string(text.strip())
        if key.sig_type != COSIGNATURE_TYPE:
            raise CaseLedgerError(
                f"{key.name} is not a witness key (cosignature type) (不是见证方公钥)",
                code="witness.key",
            )
        keys = [k for k in keys if VerifierKey.from_string(k).name != key.name] + [str(key)]
    wanted = trust.witness_quorum if quorum is None else quorum
    if not 0 <= wanted <= len(keys):
        raise CaseLedgerError(
            f"a quorum of {wanted} needs as many witnesses; {len(keys)} are listed "
            "(见证方数量不足)",
            code="witness.quorum",
        )
    if add or remove or quorum is not None:
        org_home.write_trust(tuple(keys), wanted)
    for listed in keys:
        typer.echo(say("log.witness", key=listed))
    typer.echo(say("log.quorum", count=wanted))
    if wanted == 0:
        typer.echo(say("log.quorum_zero"), err=True)


def _print_proof(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key == "hashes":
            typer.echo(say("log.hashes"))
            for item in value:  # type: ignore[attr-defined]
                typer.echo(f"  {item}")
        else:
            typer.echo(f"{key}: {value}")


# Witness -----------------------------------------------------------------------------------


@witness_app.command("init")
def witness_init(
    name: Annotated[str, typer.Option(help="The witness's key name, e.g. witness.supervision.gov")],
    state: Annotated[Path, typer.Option(help="Folder for the witness key and its state.")],
) -> None:
    """Make a witness key and print the verifier key to list in the log's trust file."""
    key = PrivateKey.generate()
    KeyFile(name, key).save(state / "witness.key")
    vkey = verifier_key_string(name, key.public_key, COSIGNATURE_TYPE)
    (state / "witness.vkey").write_text(vkey + "\n")
    typer.echo(vkey)


@witness_app.command("cosign")
def witness_cosign(
    state: Annotated[Path, typer.Option(help="The witness folder made by `witness init`.")],
    checkpoint_file: Annotated[
        Path | None, typer.Argument(help="The new checkpoint (signed note), without --server.")
    ] = None,
    log_key: Annotated[
        str | None,
        typer.Option(
            help="The log's verifier key (from its trust.json); pinned in the witness folder "
            "on first use."
        ),
    ] = None,
    proof: Annotated[
        Path | None,
        typer.Option(
            help="Consistency proof JSON from the last cosigned checkpoint to the new one."
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="The office's caseledger server: fetch its checkpoint and proof, cosign, and "
            "post the cosignature back.",
        ),
    ] = None,
) -> None:
    """Verify the new checkpoint's signature and its consistency with the last one this
    witness cosigned; then cosign it and print the cosigned note. Refuse (exit 1) otherwise."""
    pinned = _pinned_log_key(state, log_key)
    remote = _Remote(server) if server else None
    if remote is not None:
        new_text = remote.text("GET", "/v1/log/checkpoint")
    elif checkpoint_file is not None:
        new_text = checkpoint_file.read_text(encoding="utf-8")
    else:
        raise CaseLedgerError(
            "give the checkpoint file, or --server URL (给出检查点文件或 --server)",
            code="witness.input",
        )
    new = verify_checkpoint(new_text, [pinned])
    last_path = state / "last-checkpoint"
    if last_path.exists():
        last = parse_checkpoint(last_path.read_text(encoding="utf-8")).checkpoint
        _check_extends_last(last, new, lambda: _proof_hashes(remote, proof, last.size, new.size))
    key = KeyFile.load(state / "witness.key")
    cosigned = cosign(new_text, key.key, key.principal, system_clock())
    if remote is not None:
        line = cosigned.rstrip("\n").rsplit("\n", 1)[-1] + "\n"
        remote.text("POST", f"/v1/log/cosignature?size={new.size}", content=line.encode())
    last_path.write_text(new_text, encoding="utf-8")
    typer.echo(cosigned, nl=False)


def _pinned_log_key(state: Path, given: str | None) -> str:
    """The log key this witness follows: pinned in ``state/log.vkey`` on first use; a
    different one given later is refused (a witness follows one log)."""
    pin = state / "log.vkey"
    pinned = pin.read_text(encoding="utf-8").strip() if pin.exists() else None
    if given is None and pinned is None:
        raise CaseLedgerError(
            "give --log-key (the log's verifier key from its trust.json) (请给出日志公钥)",
            code="witness.log_key",
        )
    if given is not None and pinned is not None and given != pinned:
        raise CaseLedgerError(
            "this witness follows another log key (该见证方已固定另一日志公钥)",
            code="witness.log_key",
        )
    if pinned is None and given is not None:
        pin.write_text(given + "\n", encoding="utf-8")
    return given or str(pinned)


def _check_extends_last(
    last: Checkpoint, new: Checkpoint, hashes: Callable[[], list[bytes]]
) -> None:
    if last.origin != new.origin:
        raise CaseLedgerError(
            "the new checkpoint is for another log (检查点属于另一日志)", code="witness.origin"
        )
    if new.size < last.size:
        raise CaseLedgerError(
            f"the log shrank from {last.size} to {new.size} leaves (日志回退)",
            code="witness.rollback",
        )
    if new.size == last.size and new.root != last.root:
        raise CaseLedgerError(
            "same size, different root: the log forked (日志分叉)", code="witness.fork"
        )
    if last.size and new.size > last.size:
        merkle.verify_consistency(last.size, new.size, last.root, new.root, hashes())


def _proof_hashes(remote: _Remote | None, proof: Path | None, old: int, new: int) -> list[bytes]:
    if remote is not None:
        answer = json.loads(remote.text("GET", f"/v1/log/consistency?old={old}&new={new}"))
        items = answer["hashes"]
    elif proof is not None:
        items = json.loads(proof.read_text())["hashes"]
    else:
        raise CaseLedgerError(
            f"give --proof: a consistency proof from {old} to {new} (请给出一致性证明)",
            code="witness.proof",
        )
    return [b64decode_strict(h, what="proof hash") for h in items]


class _Remote:
    """The office's server, as a witness reaches it (public routes only)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def text(self, method: str, path: str, **kwargs: Any) -> str:
        try:
            response = httpx.request(method, self.base_url + path, timeout=30.0, **kwargs)
        except httpx.HTTPError as exc:
            raise CaseLedgerError(
                f"cannot reach {self.base_url}: {exc} (无法连接服务器)", code="server.unreachable"
            ) from None
        if response.status_code >= 400:
            try:
                body = response.json()
                code, message = str(body["code"]), str(body["message"])
            except (ValueError, KeyError, TypeError):
                code, message = f"http.{response.status_code}", response.text[:200]
            raise CaseLedgerError(f"{self.base_url}{path}: {message}", code=code)
        return response.text
