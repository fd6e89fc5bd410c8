"""Witnesses in practice (C2SP tlog-witness shape, pull and post back).

A witness (another department, the supervision office) fetches ``GET /v1/log/checkpoint``
and ``GET /v1/log/consistency?old=<its last size>&new=<size>``, checks the proof, cosigns
(cosignature/v1) and posts its cosignature line back to ``POST /v1/log/cosignature?size=N``.
The server keeps the cosignature in the checkpoint folder; the newest checkpoint with the
trust file's quorum of cosignatures (at least one) is served at
``GET /v1/log/checkpoint/cosigned`` and carried by receipts sealed from then on.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from ledger.checkpoint import parse_checkpoint
from ledger.errors import CaseLedgerError
from ledger.note import NoteMalformed, parse_note
from ledger.store.anchor import COSIGNED, KeptCheckpointError

__all__ = ["accept_cosignature", "cosigned_checkpoint", "served_checkpoint"]

_STATUS = {"witness.unknown_checkpoint": 404, "witness.unknown": 403, "witness.invalid": 422}


def _folder(services: Any) -> Any:
    if services.home is None or services.log is None:
        raise ApiError(
            503, "log.unavailable", "this server keeps no transparency log (本服务器不保存透明日志)"
        )
    return services.log.keeper


def accept_cosignature(services: Any, body: bytes, size: int | None) -> str:
    """Merge the posted cosignature line(s) into the kept checkpoint they cosign; return the
    checkpoint with every cosignature kept. The body is the witness's signature line(s) with
    ``size`` naming the checkpoint, or the whole cosigned note (then ``size`` is optional)."""
    folder = _folder(services)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            400, "cosignature.malformed", "a cosignature is UTF-8 text (见证签名须为 UTF-8 文本)"
        ) from None
    try:
        if text.startswith("\u2014 "):
            if size is None:
                raise ApiError(
                    422,
                    "cosignature.size",
                    "give ?size= of the checkpoint these lines cosign (请给出所见证检查点的 size)",
                )
            kept = folder.text(f"{size}.note")
            if kept is None:
                raise ApiError(
                    404,
                    "witness.unknown_checkpoint",
                    f"no checkpoint of size {size} is kept (未保存该大小的检查点)",
                )
            note = parse_note(parse_checkpoint(kept).note.text + "\n" + text)
        else:
            note = parse_note(text)
            size = parse_checkpoint(text).checkpoint.size if size is None else size
    except NoteMalformed as exc:
        raise ApiError(400, "cosignature.malformed", exc.message) from None
    kept_text = folder.text(f"{size}.note")
    if kept_text is not None and parse_checkpoint(kept_text).note.text != note.text:
        raise ApiError(
            422,
            "witness.invalid",
            "the cosigned text is not the kept checkpoint (所签文本不是本日志的检查点)",
        )
    try:
        return str(folder.add_cosignatures(size, note.signatures))
    except KeptCheckpointError as exc:
        raise ApiError(_STATUS.get(exc.code, 422), exc.code, exc.message) from None


def served_checkpoint(services: Any, latest: Any) -> str:
    """The latest checkpoint as kept, with the cosignatures handed back so far."""
    folder = services.log.keeper if services.log is not None else None
    if folder is None:
        return str(latest.note)
    try:
        kept = folder.text(f"{latest.size}.note")
    except CaseLedgerError:
        kept = None
    return str(kept or latest.note)


def cosigned_checkpoint(services: Any) -> str:
    """The newest checkpoint with enough trusted cosignatures; ApiError 404 if none."""
    text = _folder(services).text(COSIGNED)
    if text is None:
        raise ApiError(
            404,
            "log.no_cosigned",
            "no checkpoint has been cosigned by witnesses yet (尚无见证方签署的检查点)",
        )
    return str(text)
