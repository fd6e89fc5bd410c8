"""Checkpoints kept outside the database: the organisation folder's ``checkpoints/``.

Every checkpoint the log signs is also written here, each to its own file and the newest to
``latest.note``, atomically (write a temporary file, fsync, rename, fsync the folder). A
database administrator can rewrite the log tables, but not this folder from the database;
the log refuses to sign, and the server to start, while the stored tree does not extend the
kept checkpoint. Witness cosignatures handed back are merged into the kept files, and the
newest checkpoint with enough of them is ``cosigned.note``.
"""

from __future__ import annotations

from pathlib import Path

from ledger.checkpoint import (
    Checkpoint,
    VerifierKey,
    parse_checkpoint,
    verify_checkpoint,
    verify_cosignatures,
)
from ledger.errors import CaseLedgerError
from ledger.note import COSIGNATURE_TYPE, NoteSignature, SignedNote
from ledger.store.files import write_durably

__all__ = ["CheckpointFolder", "KeptCheckpointError", "write_atomically"]

LATEST = "latest.note"
COSIGNED = "cosigned.note"


class KeptCheckpointError(CaseLedgerError):
    """A kept checkpoint file cannot be read, or no trusted log key signed it."""

    code = "log.kept_invalid"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old file or the new one."""
    write_durably(path, text.encode("utf-8"))


class CheckpointFolder:
    """The kept checkpoints of one log: ``<size>.note`` for each, ``latest.note`` the newest,
    ``cosigned.note`` the newest with ``quorum`` (at least one) trusted cosignatures."""

    def __init__(
        self,
        folder: Path,
        *,
        origin: str,
        log_key: str,
        witness_keys: tuple[str, ...] = (),
        quorum: int = 0,
    ) -> None:
        self.folder = folder
        self.origin = origin
        self.log_key = log_key
        self.witness_keys = witness_keys
        self.quorum = quorum

    # --- the log's side ---------------------------------------------------------------------

    def latest(self) -> Checkpoint | None:
        """The newest kept checkpoint, verified against the log key; None if none is kept.
        Raise KeptCheckpointError if the file is there but not a checkpoint of this log."""
        text = self.text(LATEST)
        return None if text is None else self._verified(text, LATEST)

    def keep(self, note: str) -> None:
        """Keep a newly signed checkpoint (its own file, then ``latest.note``)."""
        checkpoint = self._verified(note, "the new checkpoint")
        write_atomically(self.folder / f"{checkpoint.size}.note", note)
        write_atomically(self.folder / LATEST, note)

    def text(self, name: str) -> str | None:
        """A kept file's text by name (``latest.note``, ``cosigned.note``, ``<size>.note``)."""
        try:
            return (self.folder / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeptCheckpointError(
                f"{self.folder / name} cannot be read (无法读取): {exc}"
            ) from None

    def _verified(self, text: str, where: str) -> Checkpoint:
        try:
            return verify_checkpoint(text, [self.log_key], origin=self.origin)
        except CaseLedgerError as exc:
            raise KeptCheckpointError(
                f"{where} in {self.folder} is not a checkpoint of {self.origin} "
                f"(保存的检查点无效): {exc.message}"
            ) from None

    # --- witnesses ---------------------------------------------------------------------------

    def add_cosignatures(self, size: int, lines: tuple[NoteSignature, ...]) -> str:
        """Merge witness cosignature ``lines`` into the kept checkpoint of ``size``; return the
        note with every cosignature kept so far. Raise KeptCheckpointError if no checkpoint of
        that size is kept, or a line is not a valid cosignature by a trusted witness."""
        text = self.text(f"{size}.note")
        if text is None:
            raise KeptCheckpointError(
                f"no checkpoint of size {size} is kept (未保存该检查点)",
                code="witness.unknown_checkpoint",
            )
        note = parse_checkpoint(text).note
        known = {(s.name, s.key_id) for s in note.signatures}
        fresh = tuple(s for s in lines if (s.name, s.key_id) not in known)
        merged = SignedNote(note.text, (*note.signatures, *fresh)).render()
        trusted = [
            k
            for k in (VerifierKey.from_string(w) for w in self.witness_keys)
            if k.sig_type == COSIGNATURE_TYPE
        ]
        ids = {(k.name, k.key_id) for k in trusted}
        if not fresh or any((s.name, s.key_id) not in ids for s in fresh):
            raise KeptCheckpointError(
                "the cosignature is not by a witness the trust file names (非信任文件所列见证方)",
                code="witness.unknown",
            )
        try:
            found = verify_cosignatures(merged, trusted, 0)
        except CaseLedgerError as exc:
            raise KeptCheckpointError(exc.message, code="witness.invalid") from None
        write_atomically(self.folder / f"{size}.note", merged)
        self._promote(size, merged, len(found))
        return merged

    def _promote(self, size: int, note: str, cosigners: int) -> None:
        if cosigners < max(1, self.quorum):
            return
        current = self.text(COSIGNED)
        if current is None or parse_checkpoint(current).checkpoint.size <= size:
            write_atomically(self.folder / COSIGNED, note)

    def cosigned(self) -> str | None:
        """The newest kept checkpoint with enough trusted cosignatures, or None."""
        return self.text(COSIGNED)
