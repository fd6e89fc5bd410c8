"""Find 18-character PRC identity numbers (check digit valid) left in clear in artefacts.

A PDF is read as a whole: its raw bytes, every stream decoded (content, attachments such as
``case-receipt.json``), and its text layer as ``pdftotext`` gives it. Database files are not
artefacts: the office's private table lives there by design.
"""

from __future__ import annotations

import re
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pikepdf

from ledger.personal import is_prc_id_number

__all__ = ["id_numbers_in", "id_numbers_in_bytes", "id_numbers_in_tree"]

_CANDIDATE = re.compile(rb"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_PRIVATE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite")
# A stream that inflates past this is a hostile test input (a decompression bomb), not a page
# or attachment the office wrote: its raw bytes are scanned, its inflation is not followed.
_MOST_DECODED = 8 * 1024 * 1024


def id_numbers_in_bytes(data: bytes) -> set[str]:
    found = set()
    for match in _CANDIDATE.finditer(data):
        text = match.group(0).decode("ascii")
        if is_prc_id_number(text):
            found.add(text)
    return found


def _pdf_parts(path: Path) -> Iterator[bytes]:
    try:
        with pikepdf.open(path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    yield _decoded(obj)
    except pikepdf.PdfError:
        return  # not a readable PDF (a deliberately broken one): its raw bytes were scanned
    try:
        yield subprocess.run(
            ["pdftotext", "-q", str(path), "-"], capture_output=True, check=False, timeout=10
        ).stdout
    except subprocess.TimeoutExpired:
        return  # a hostile input built to stall readers: the office never writes one


def _decoded(stream: pikepdf.Stream) -> bytes:
    """The stream's content, inflated up to a bound; other filters than Flate are what the
    office never writes, so their raw bytes stand for them."""
    raw = stream.read_raw_bytes()
    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
    if not names:
        return raw
    if any(name != "/FlateDecode" for name in names):
        return raw
    data = raw
    for _ in names:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, _MOST_DECODED)
        except zlib.error:
            return raw
        if inflater.unconsumed_tail:
            return raw
    return data


def id_numbers_in(path: Path) -> set[str]:
    """The identity numbers in clear in one file."""
    data = path.read_bytes()
    found = id_numbers_in_bytes(data)
    if data.startswith(b"%PDF") or path.suffix == ".pdf":
        for part in _pdf_parts(path):
            found |= id_numbers_in_bytes(part)
    return found


def id_numbers_in_tree(root: Path) -> dict[str, set[str]]:
    """Every file under ``root`` (databases aside) that holds an identity number in clear."""
    hits = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.name.endswith(_PRIVATE_SUFFIXES):
            continue
        found = id_numbers_in(path)
        if found:
            hits[str(path.relative_to(root))] = found
    return hits
