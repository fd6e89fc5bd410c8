"""The application's files, kept by their SHA-256: the hash an envelope signs is the file's key.

A material is named in a signed body (Applied, SupplementProvided) by its name and SHA-256;
the file itself is kept here, so it cannot be lost between hands and cannot be swapped: a file
is stored only under its own hash, and every read re-checks it. Three places can keep them:

- a folder (the default, ``HOME/materials/ab/abcdef…``), each file written to a temporary
  name, fsynced and renamed, so a crash never leaves half a file under a hash;
- the office's database (``mat_files``, one row per file), for an office that keeps
  everything in its PostgreSQL;
- an S3-compatible object store through boto3 (``s3://bucket[/prefix]?endpoint=URL``).

:func:`admit` is the gate before a file is kept: size, type (by its first bytes, not its name)
and an optional virus-scan command. :func:`missing_materials` lists every signed material hash
whose file is not kept (``caseledger audit --materials``).
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.clock import system_clock
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.store.files import write_durably

__all__ = [
    "MATERIAL_METADATA",
    "DatabaseMaterials",
    "FolderMaterials",
    "MaterialError",
    "MaterialStore",
    "S3Materials",
    "admit",
    "command_scanner",
    "material_hashes",
    "missing_materials",
    "open_materials",
]

MATERIAL_METADATA = sa.MetaData()
mat_files = sa.Table(
    "mat_files",
    MATERIAL_METADATA,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

_HASH = re.compile(r"^[0-9a-f]{64}$")
# What an application's file may be, told by its first bytes: the name proves nothing.
_KINDS: tuple[tuple[str, bytes], ...] = (
    ("pdf", b"%PDF-"),
    ("png", b"\x89PNG\r\n\x1a\n"),
    ("jpeg", b"\xff\xd8\xff"),
    ("ofd", b"PK\x03\x04"),  # OFD (GB/T 33190) is a zip container
)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class MaterialError(CaseLedgerError):
    """A material that cannot be kept or read (codes ``material.*``)."""


class MaterialStore(Protocol):
    """Where the files live. ``put`` is idempotent; ``get`` re-checks the hash."""

    def put(self, sha256: str, data: bytes) -> None: ...

    def get(self, sha256: str) -> bytes: ...

    def has(self, sha256: str) -> bool: ...


Scanner = Callable[[bytes], None]


def kind_of(data: bytes) -> str | None:
    """The file's kind from its first bytes (pdf, png, jpeg, ofd), or None."""
    return next((kind for kind, magic in _KINDS if data.startswith(magic)), None)


def admit(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, scan: Scanner | None = None) -> str:
    """The file's SHA-256 if it may be kept; raise MaterialError (material.too_large,
    material.empty, material.type, material.infected, material.scan_failed) otherwise."""
    if not data:
        raise MaterialError("材料文件为空 (the file is empty)", code="material.empty")
    if len(data) > max_bytes:
        raise MaterialError(
            f"材料文件超过 {max_bytes // (1024 * 1024)} MB (the file is too large)",
            code="material.too_large",
        )
    if kind_of(data) is None:
        raise MaterialError(
            "只接受 PDF、OFD、PNG、JPEG 格式的材料 (only PDF, OFD, PNG or JPEG files)",
            code="material.type",
        )
    if scan is not None:
        scan(data)
    return hashlib.sha256(data).hexdigest()


def command_scanner(command: str, *, timeout: float = 60.0) -> Scanner:
    """A scanner that runs ``command`` (e.g. ``clamdscan --no-summary -``) with the file on
    its standard input: exit 0 is clean, 1 infected, anything else (or no answer in time) a
    failed scan, which refuses the file rather than let it through unscanned."""
    argv = shlex.split(command)

    def scan(data: bytes) -> None:
        try:
            done = subprocess.run(  # noqa: S603 - the office's own configured command
                argv, input=data, capture_output=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MaterialError(
                f"病毒扫描未能完成 (the virus scan did not run: {type(exc).__name__})",
                code="material.scan_failed",
            ) from None
        if done.returncode == 1:
            raise MaterialError(
                "材料未通过病毒扫描 (the file is infected)", code="material.infected"
            )
        if done.returncode != 0:
            raise MaterialError(
                f"病毒扫描失败 (the virus scan failed, exit {done.returncode})",
                code="material.scan_failed",
            )

    return scan


def _checked(sha256: str) -> str:
    if not _HASH.fullmatch(sha256):
        raise MaterialError(f"{sha256[:80]!r} is not a SHA-256 in hex", code="material.hash")
    return sha256


def _verified(sha256: str, data: bytes) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise MaterialError(
            f"存档文件与签名记录的 SHA-256 不符，不予提供 (the kept file {sha256[:16]}… "
            "no longer has the hash the signed step names)",
            code="material.corrupt",
        )
    return data


def _not_found(sha256: str) -> MaterialError:
    return MaterialError(
        f"该材料未上传存档 (no file is kept for {sha256[:16]}…)", code="material.not_found"
    )


@dataclass(frozen=True)
class FolderMaterials:
    """Files in a folder, two hex digits of fan-out: ``root/ab/abcdef…``."""

    root: Path

    def _path(self, sha256: str) -> Path:
        return self.root / _checked(sha256)[:2] / sha256

    def put(self, sha256: str, data: bytes) -> None:
        path = self._path(_checked(sha256))
        _verified(sha256, data)
        if path.exists():
            return
        write_durably(path, data)

    def get(self, sha256: str) -> bytes:
        try:
            return _verified(sha256, self._path(sha256).read_bytes())
        except FileNotFoundError:
            raise _not_found(sha256) from None

    def has(self, sha256: str) -> bool:
        return self._path(sha256).is_file()


@dataclass(frozen=True)
class DatabaseMaterials:
    """Files in the office's database (table ``mat_files``)."""

    engine: Engine

    def put(self, sha256: str, data: bytes) -> None:
        _verified(_checked(sha256), data)
        if self.has(sha256):
            return
        row = {
            "sha256": sha256,
            "size": len(data),
            "kind": kind_of(data) or "other",
            "stored_at": system_clock(),
            "data": data,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(mat_files.insert().values(**row))
        except sa.exc.IntegrityError:
            pass  # the same file, kept by a concurrent upload

    def get(self, sha256: str) -> bytes:
        with self.engine.connect() as conn:
            data = conn.execute(
                sa.select(mat_files.c.data).where(mat_files.c.sha256 == _checked(sha256))
            ).scalar()
        if data is None:
            raise _not_found(sha256)
        return _verified(sha256, bytes(data))

    def has(self, sha256: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(mat_files.c.sha256).where(mat_files.c.sha256 == _checked(sha256))
            ).first()
        return found is not None


class S3Materials:
    """Files in an S3-compatible bucket (boto3), under ``prefix + sha256``."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def put(self, sha256: str, data: bytes) -> None:
        _verified(_checked(sha256), data)
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + sha256, Body=data)

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(sha256))
        except ClientError:
            raise _not_found(sha256) from None
        return _verified(sha256, answer["Body"].read())

    def has(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + _checked(sha256))
        except ClientError:
            return False
        return True


def open_materials(where: str, *, home: Path, engine: Engine | None = None) -> MaterialStore:
    """The store named by ``where``: ``folder`` (HOME/materials), ``folder:PATH``,
    ``database``, or ``s3://bucket[/prefix]?endpoint=URL&region=R`` (credentials from the
    usual AWS environment variables). Raise MaterialError (material.config) otherwise."""
    if where in ("", "folder"):
        return FolderMaterials(home / "materials")
    if where.startswith("folder:"):
        return FolderMaterials(Path(where.removeprefix("folder:")))
    if where == "database":
        if engine is None:
            raise MaterialError("no database to keep materials in", code="material.config")
        MATERIAL_METADATA.create_all(engine)
        return DatabaseMaterials(engine)
    if where.startswith("s3://"):
        return _s3(where)
    raise MaterialError(
        f"materials must be kept in folder, database or s3://…, not {where!r}",
        code="material.config",
    )


def _s3(where: str) -> S3Materials:
    try:
        import boto3
    except ImportError:
        raise MaterialError(
            "an S3 store needs boto3 (pip install 'caseledger[s3]')", code="material.config"
        ) from None
    parts = urlsplit(where)
    query = parse_qs(parts.query)
    client = boto3.client(
        "s3",
        endpoint_url=query.get("endpoint", [None])[0],
        region_name=query.get("region", ["us-east-1"])[0],
    )
    prefix = parts.path.lstrip("/")
    return S3Materials(client, parts.netloc, prefix + "/" if prefix else "")


def material_hashes(envelope: Envelope) -> list[str]:
    """The SHA-256 of every material a case envelope's body names."""
    materials = envelope.body.get("materials")
    if not isinstance(materials, list):
        return []
    return [
        str(m["sha256"])
        for m in materials
        if isinstance(m, dict) and isinstance(m.get("sha256"), str)
    ]


def missing_materials(
    envelopes: Iterable[tuple[int, Envelope]], store: MaterialStore
) -> list[tuple[int, Envelope, str]]:
    """(position, envelope, hash) of every signed material hash with no kept file."""
    return [
        (position, env, sha)
        for position, env in envelopes
        if env.stream.startswith("case:")
        for sha in material_hashes(env)
        if not store.has(sha)
    ]
