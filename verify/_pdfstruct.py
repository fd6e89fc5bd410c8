"""Structural checks of a sealed PDF that the verifier makes itself, not through pyHanko's
bottom line: where the seal's byte range lies, and what later revisions change.

The published PDF signature attacks (universal signature forgery, incremental saving,
signature wrapping, shadow attacks) all work by making a reader show or trust bytes that the
signature does not cover, or by rewriting covered objects in a later revision. These functions
look at exactly that: the byte range must cover the whole signed revision except the signature
value itself, and a revision after the signed one may only add validation data.
"""

from __future__ import annotations

import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

__all__ = [
    "byte_range_problem",
    "der_prefix",
    "later_revision_problems",
    "signed_revision_end",
    "trailing_bytes_problem",
]

# The signature value as signers write it: one hexadecimal string in one letter case, no
# blanks. PDF readers accept any case and blanks; allowing them would let the file change
# outside the signed bytes while still reading the same.
_HEX_STRING = re.compile(rb"<(?:[0-9A-F]*|[0-9a-f]*)>")
_EOF_TAIL = re.compile(rb"%%EOF[\r\n]{0,2}$")
# Catalog entries a validation-data update (PAdES B-LT / B-LTA) may add or change.
_CATALOG_MAINTENANCE = frozenset({"/DSS", "/Extensions"})


def signed_revision_end(byte_range: list[int]) -> int:
    """The offset just past the last byte the seal covers."""
    return byte_range[2] + byte_range[3]


def byte_range_problem(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature
) -> str | None:
    """What is wrong with the seal's /ByteRange, or None if it is sound.

    Sound means: four non-negative integers [0, b, c, d] with b < c; the gap [b, c) is exactly
    the hexadecimal /Contents string of this signature dictionary, lying inside that
    dictionary's object; and [c, c + d) ends at the end of the signed revision (its ``%%EOF``).
    """
    values = _range_values(seal.sig_object.get("/ByteRange"))
    if isinstance(values, str):
        return values
    start, gap_start, gap_end, tail = values
    if start != 0:
        return "the seal's signed bytes do not start at the beginning of the file"
    if not 0 < gap_start < gap_end or gap_end + tail > len(data):
        return "the seal's /ByteRange points outside the file or overlaps itself"
    return _gap_problem(data, reader, seal, gap_start, gap_end) or _end_problem(
        data, reader, seal.signed_revision, gap_end, signed_revision_end(values)
    )


def _range_values(raw: object) -> list[int] | str:
    if not isinstance(raw, list) or len(raw) != 4:
        return "the seal's /ByteRange is not four numbers"
    values = list(raw)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return "the seal's /ByteRange holds something other than non-negative integers"
    return values


def _gap_problem(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature, gap_start: int, gap_end: int
) -> str | None:
    gap = data[gap_start:gap_end]
    if not _HEX_STRING.fullmatch(gap) or len(gap) % 2:
        return "the bytes the seal leaves out are not only its signature value"
    contents = seal.sig_object.get("/Contents")
    if not isinstance(contents, bytes | str):
        return "the seal has no signature value"
    value = contents if isinstance(contents, bytes) else contents.encode("latin-1")
    if bytes.fromhex(gap[1:-1].decode("ascii")) != value:
        return "the bytes the seal leaves out are not this seal's signature value"
    if _padding(value).strip(b"\x00"):
        return "the room reserved for the signature holds bytes after the signature"
    where = _ref(seal.sig_field.raw_get("/V"))
    offset = reader.xrefs.get_historical_ref(where, seal.signed_revision) if where else None
    if not isinstance(offset, int) or not offset < gap_start < gap_end < _object_end(data, offset):
        return "the bytes the seal leaves out are not inside its signature dictionary"
    return None


def _object_end(data: bytes, offset: int) -> int:
    end = data.find(b"endobj", offset)
    return end if end >= 0 else -1


def _end_problem(
    data: bytes, reader: PdfFileReader, signed_revision: int, gap_end: int, end: int
) -> str | None:
    if not _EOF_TAIL.search(data[max(0, end - 8) : end]):
        return "the seal's signed bytes do not end at the end of a revision (%%EOF)"
    try:
        revision_start = reader.xrefs.get_startxref_for_revision(signed_revision)
    except (KeyError, IndexError, ValueError):
        return "the revision the seal belongs to cannot be found"
    if revision_start >= end or revision_start < gap_end:
        return "the seal's signed bytes do not end with the revision that holds the seal"
    if signed_revision + 1 < reader.xrefs.total_revisions:
        next_start = reader.xrefs.get_startxref_for_revision(signed_revision + 1)
        if next_start < end:
            return "a later revision lies inside the bytes the seal covers"
    return None


def trailing_bytes_problem(data: bytes, reader: PdfFileReader) -> str | None:
    """What follows the last revision's ``%%EOF`` beyond line ends, or None.

    Bytes after the last end-of-file marker belong to no revision, so the seal says nothing
    about them; some readers still interpret them.
    """
    last = data.rfind(b"%%EOF")
    if last < 0:
        return "the file does not end with %%EOF"
    if reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1) > last:
        return "the last revision has no %%EOF marker"
    tail = data[last + 5 :]
    if tail.strip(b"\r\n\x00 \t\x0c"):
        return f"{len(tail)} bytes follow the last %%EOF, outside every revision"
    return None


def _padding(value: bytes) -> bytes:
    """What follows the DER signature in the reserved room (zeros, in a sound seal).

    The room for the signature is reserved before signing and filled with zeros; parsers
    ignore what follows the DER structure, so anything else there is unsigned content.
    """
    return value[len(der_prefix(value)) :]


def der_prefix(value: bytes) -> bytes:
    """The DER element at the start of ``value`` (a SEQUENCE), without what follows it; the
    whole of ``value`` if it does not start with a readable SEQUENCE header."""
    if len(value) < 2 or value[0] != 0x30:
        return value
    first = value[1]
    if first < 0x80:
        return value[: 2 + first]
    width = first & 0x7F
    if not 1 <= width <= 4 or len(value) < 2 + width:
        return value
    length = int.from_bytes(value[2 : 2 + width], "big")
    return value[: 2 + width + length]


def later_revision_problems(reader: PdfFileReader, signed_revision: int) -> list[str]:
    """Every change after the signed revision that is not validation data, as plain text.

    Allowed after the seal: new objects (the DSS and its certificates, CRLs and OCSP
    responses), and rewriting three existing objects in ways that change nothing a reader
    sees: the catalog (only /DSS and /Extensions may differ), the document information
    dictionary and the XMP metadata (only the modification date, metadata date and producer
    may differ: what a PDF writer updates when it adds validation data). Anything else — a
    page, its content or annotations, a form, an attached file, a freed object, the title,
    subject, author or keywords — is a change to the sealed document.
    """
    problems: list[str] = []
    total = reader.xrefs.total_revisions
    if total - signed_revision - 1 > 16:
        return [f"{total - signed_revision - 1} revisions were added after the seal"]
    signed = reader.get_historical_resolver(signed_revision)
    signed_trailer = reader.trailer.flatten(signed_revision)
    root_ref = _ref(signed_trailer.raw_get("/Root"))
    allowed = _maintenance_refs(signed, signed_trailer, root_ref)
    info_ref = _ref(signed_trailer.raw_get("/Info")) if "/Info" in signed_trailer else None
    for revision in range(signed_revision + 1, total):
        trailer = reader.trailer.flatten(revision)
        if _ref(trailer.raw_get("/Root")) != root_ref:
            problems.append(f"revision {revision + 1} replaces the document catalog")
        if "/Info" in trailer and _ref(trailer.raw_get("/Info")) != info_ref:
            problems.append(f"revision {revision + 1} replaces the document's metadata (/Info)")
        if "/Encrypt" in trailer:
            problems.append(f"revision {revision + 1} adds encryption")
        freed = reader.xrefs.refs_freed_in_revision(revision)
        if freed:
            problems.append(f"revision {revision + 1} deletes {len(freed)} sealed object(s)")
        for ref in sorted(reader.xrefs.explicit_refs_in_revision(revision), key=_order):
            if not _existed(reader, ref, signed_revision):
                continue
            if ref not in allowed:
                problems.append(f"revision {revision + 1} rewrites sealed object {ref.idnum}")
            elif ref == root_ref and not _catalog_only_maintenance(reader, ref, revision, signed):
                problems.append(f"revision {revision + 1} changes the catalog beyond the DSS")
            elif ref != root_ref and not _metadata_maintenance(reader, ref, revision, signed):
                problems.append(
                    f"revision {revision + 1} changes the document's metadata (/Info or XMP: "
                    "title, subject, author, keywords) after sealing"
                )
    return problems


def _order(ref: generic.Reference) -> tuple[int, int]:
    return (ref.idnum, ref.generation)


def _ref(value: object) -> generic.Reference | None:
    return value.reference if isinstance(value, generic.IndirectObject) else None


def _existed(reader: PdfFileReader, ref: generic.Reference, signed_revision: int) -> bool:
    """Whether an object with this number was in use in the signed revision (any generation:
    a new generation of a sealed object number is a rewrite too)."""
    for generation in {ref.generation, 0}:
        probe = generic.Reference(ref.idnum, generation)
        try:
            if reader.xrefs.get_historical_ref(probe, signed_revision) is not None:
                return True
        except (KeyError, IndexError, ValueError):
            continue
    return False


def _maintenance_refs(
    signed: Any, trailer: Any, root_ref: generic.Reference | None
) -> set[generic.Reference]:
    refs: set[generic.Reference] = set()
    if root_ref is not None:
        refs.add(root_ref)
        catalog = signed.get_object(root_ref)
        metadata = _ref(catalog.raw_get("/Metadata")) if "/Metadata" in catalog else None
        if metadata is not None:
            refs.add(metadata)
    info = _ref(trailer.raw_get("/Info")) if "/Info" in trailer else None
    if info is not None:
        refs.add(info)
    return refs


def _catalog_only_maintenance(
    reader: PdfFileReader, ref: generic.Reference, revision: int, signed: Any
) -> bool:
    before = signed.get_object(ref)
    after = reader.get_historical_resolver(revision).get_object(ref)
    if not isinstance(before, generic.DictionaryObject) or not isinstance(
        after, generic.DictionaryObject
    ):
        return False
    keys = (set(before.keys()) | set(after.keys())) - _CATALOG_MAINTENANCE
    return all(_same(before.raw_get(k), after.raw_get(k)) for k in keys if k in before) and all(
        k in before for k in keys
    )


# What a writer adding validation data updates in the metadata, and nothing else may change.
_INFO_MAINTENANCE = frozenset({"/ModDate", "/Producer"})
_XMP_MAINTENANCE = re.compile(
    rb'\s(?:xmp:ModifyDate|xmp:MetadataDate|pdf:Producer|x:xmptk)="[^"]*"'
    rb"|<(xmp:ModifyDate|xmp:MetadataDate|pdf:Producer)>[^<]*</\1>"
)


def _metadata_maintenance(
    reader: PdfFileReader, ref: generic.Reference, revision: int, signed: Any
) -> bool:
    """Whether the rewrite of the /Info or XMP object ``ref`` changes only dates and producer."""
    before = signed.get_object(ref)
    after = reader.get_historical_resolver(revision).get_object(ref)
    if isinstance(before, generic.StreamObject) and isinstance(after, generic.StreamObject):
        try:
            old, new = before.data, after.data
        except MemoryError:
            raise  # the sandbox's memory limit stopped the check: not a fault of the file
        except Exception:  # an undecodable stream cannot be shown to be unchanged
            return False
        return _XMP_MAINTENANCE.sub(b"", old) == _XMP_MAINTENANCE.sub(b"", new)
    if isinstance(before, generic.DictionaryObject) and isinstance(after, generic.DictionaryObject):
        keys = (set(before.keys()) | set(after.keys())) - _INFO_MAINTENANCE
        return all(k in before and k in after and before[k] == after[k] for k in keys)
    return False


def _same(a: object, b: object) -> bool:
    if isinstance(a, generic.IndirectObject) and isinstance(b, generic.IndirectObject):
        return a.reference == b.reference
    return type(a) is type(b) and a == b
