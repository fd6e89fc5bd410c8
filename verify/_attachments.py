"""Find ``case-receipt.json`` in the revision of a PDF that the seal covers.

The receipt is read through pyHanko's historical resolver for the signed revision, so a
receipt added or swapped in a later revision is never the one checked. It is looked for in
the catalog's ``/Names /EmbeddedFiles`` name tree and in the catalog's ``/AF`` array (PDF/A-3
associated files); every file specification named ``case-receipt.json`` must hold the same
bytes, or the document is ambiguous.
"""

from __future__ import annotations

import zlib
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError

__all__ = ["RECEIPT_NAME", "AttachmentProblem", "find_receipt"]

RECEIPT_NAME = "case-receipt.json"
_MAX_DEPTH = 8
_MAX_NODES = 2_000
_MAX_RECEIPT = 16 * 1024 * 1024


class AttachmentProblem(Exception):
    """The receipt attachment is ambiguous, too large or unreadable (a failed check)."""


def find_receipt(resolver: Any) -> bytes | None:
    """The bytes of ``case-receipt.json`` in the revision ``resolver`` reads, or None if no
    file of that name is attached. Raises AttachmentProblem if two attachments of that name
    differ, or the one found cannot be read."""
    try:
        catalog = resolver.root
        if not isinstance(catalog, generic.DictionaryObject):
            raise AttachmentProblem("the document catalog is not a dictionary")
        specs = _from_name_tree(catalog) + _from_associated_files(catalog)
    except (PdfError, KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise AttachmentProblem(f"the attachments cannot be read: {exc}") from None
    if not specs:
        return None
    found = {_file_bytes(spec) for spec in specs}
    if len(found) > 1:
        raise AttachmentProblem(f"the document carries {len(found)} different {RECEIPT_NAME}")
    return found.pop()


def _from_name_tree(catalog: generic.DictionaryObject) -> list[generic.DictionaryObject]:
    names = _get(catalog, "/Names")
    if not isinstance(names, generic.DictionaryObject):
        return []
    tree = _get(names, "/EmbeddedFiles")
    if not isinstance(tree, generic.DictionaryObject):
        return []
    out: list[generic.DictionaryObject] = []
    _walk(tree, 0, out, [0])
    return out


def _walk(
    node: generic.DictionaryObject, depth: int, out: list[generic.DictionaryObject], seen: list[int]
) -> None:
    seen[0] += 1
    if depth > _MAX_DEPTH or seen[0] > _MAX_NODES:
        raise AttachmentProblem("the attachment name tree is too deep or too large")
    pairs = _get(node, "/Names")
    if isinstance(pairs, generic.ArrayObject):
        for i in range(0, len(pairs) - 1, 2):
            key, spec = pairs[i], pairs[i + 1]
            if _text(key) == RECEIPT_NAME and isinstance(spec, generic.DictionaryObject):
                out.append(spec)
    kids = _get(node, "/Kids")
    if isinstance(kids, generic.ArrayObject):
        for kid in kids:
            if isinstance(kid, generic.DictionaryObject):
                _walk(kid, depth + 1, out, seen)


def _from_associated_files(catalog: generic.DictionaryObject) -> list[generic.DictionaryObject]:
    associated = _get(catalog, "/AF")
    if not isinstance(associated, generic.ArrayObject):
        return []
    return [
        spec
        for spec in list(associated)[:_MAX_NODES]
        if isinstance(spec, generic.DictionaryObject)
        and RECEIPT_NAME in {_text(_get(spec, "/UF")), _text(_get(spec, "/F"))}
    ]


def _file_bytes(spec: generic.DictionaryObject) -> bytes:
    embedded = _get(spec, "/EF")
    if not isinstance(embedded, generic.DictionaryObject):
        raise AttachmentProblem(f"{RECEIPT_NAME} is named but its content is not embedded")
    stream = _get(embedded, "/UF") or _get(embedded, "/F")
    if not isinstance(stream, generic.StreamObject):
        raise AttachmentProblem(f"{RECEIPT_NAME} is named but its content is not a stream")
    try:
        data = _bounded_data(stream)
    except (PdfError, ValueError, TypeError, NotImplementedError, zlib.error) as exc:
        raise AttachmentProblem(f"{RECEIPT_NAME} cannot be decoded: {exc}") from None
    if len(data) > _MAX_RECEIPT:
        raise AttachmentProblem(f"{RECEIPT_NAME} is larger than 16 MiB")
    return data


def _bounded_data(stream: generic.StreamObject) -> bytes:
    """The stream's decoded bytes, never decompressing more than the receipt limit allows:
    a few kilobytes of deflate can expand to gigabytes."""
    raw = bytes(stream.encoded_data)
    if len(raw) > _MAX_RECEIPT:
        raise AttachmentProblem(f"{RECEIPT_NAME} is larger than 16 MiB")
    filters = _get(stream, "/Filter")
    if isinstance(filters, generic.ArrayObject) and len(filters) == 1:
        filters = filters[0]
    if filters is None:
        return raw
    if filters == "/FlateDecode" and _get(stream, "/DecodeParms") is None:
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, _MAX_RECEIPT + 1)
        if len(data) > _MAX_RECEIPT:
            raise AttachmentProblem(f"{RECEIPT_NAME} is larger than 16 MiB")
        return data
    # Other filters and predictors are rare here; they cannot expand the way deflate can
    # unless combined with it, so only small inputs are decoded through pyHanko.
    if len(raw) > 64 * 1024:
        raise AttachmentProblem(f"{RECEIPT_NAME} uses a filter chain the verifier will not expand")
    return bytes(stream.data)


def _get(container: object, key: str) -> object:
    """``container[key]`` resolved through indirect references, or None if absent.

    (pyHanko's ``DictionaryObject.get`` returns indirect references unresolved.)
    """
    if not isinstance(container, generic.DictionaryObject) or key not in container:
        return None
    return container[key]


def _text(value: object) -> str | None:
    if isinstance(value, generic.TextStringObject | generic.ByteStringObject | str):
        try:
            return str(value) if not isinstance(value, bytes) else value.decode("latin-1")
        except (UnicodeDecodeError, ValueError):
            return None
    return None
