"""Canonical JSON (RFC 8785, via the ``rfc8785`` package), restricted to what envelopes need.

Envelopes admit strings, integers, booleans, null, arrays and objects. Floats are refused:
their canonical form depends on number formatting that other implementations get wrong,
and no field of ours needs them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

from ledger.errors import EnvelopeError

__all__ = ["MAX_DEPTH", "canonical", "parse_canonical"]

MAX_DEPTH = 32

JSONValue = Any  # JSON values are recursive; the parsers below check their shape.


def canonical(value: JSONValue) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``; raise EnvelopeError if it has none."""
    _check_value(value, 0)
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EnvelopeError(f"no canonical JSON form: {exc}", code="json.invalid") from None


def parse_canonical(data: bytes, *, max_bytes: int) -> dict[str, JSONValue]:
    """Parse ``data`` as a JSON object that must already be in canonical form.

    Raises EnvelopeError with code ``json.too_large``, ``json.invalid`` or
    ``json.not_canonical``.
    """
    if len(data) > max_bytes:
        raise EnvelopeError(
            f"envelope is {len(data)} bytes; the limit is {max_bytes}", code="json.too_large"
        )
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EnvelopeError(f"not valid JSON: {exc}", code="json.invalid") from None
    except _FloatRefused:
        raise EnvelopeError("numbers must be integers", code="json.invalid") from None
    if not isinstance(value, dict):
        raise EnvelopeError("an envelope must be a JSON object", code="json.invalid")
    # Nesting can only exceed the limit if there are that many brackets; the full walk that
    # measures it is only worth its cost then.
    if data.count(b"{") + data.count(b"[") > MAX_DEPTH:
        _check_value(value, 0)
    if not _is_canonical(value, data):
        raise EnvelopeError(
            "envelope is not in RFC 8785 canonical form (sorted keys, no spaces)",
            code="json.not_canonical",
        )
    return value


def _is_canonical(value: JSONValue, data: bytes) -> bool:
    """Whether ``data`` is the canonical form of ``value``.

    Python's C JSON encoder with sorted keys and no spaces writes RFC 8785's text (same
    string escapes, integers only) except in one respect: it sorts keys by code point where
    RFC 8785 sorts them by UTF-16 code unit. The two orders agree unless a character beyond
    the Basic Multilingual Plane is present, which UTF-8 writes with a lead byte of F0 to F4;
    so on a text without one the fast encoder decides, and anything else goes through the
    rfc8785 package. (A duplicate key cannot pass either way: the parsed object keeps one.)
    """
    try:
        fast = _ENCODER.encode(value).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return canonical(value) == data
    if fast == data and (data.isascii() or _ASTRAL_LEAD.search(data) is None):
        return True
    return canonical(value) == data


class _FloatRefused(Exception):
    pass


def _refuse_float(_: str) -> float:
    raise _FloatRefused


def _refuse_constant(_: str) -> float:
    raise _FloatRefused


def _bounded_int(text: str) -> int:
    # Digits first: int() of a hostile 60 KB digit string is quadratic in CPython < 3.12.
    if len(text.lstrip("-")) > 16 or abs(number := int(text)) > 2**53 - 1:
        raise EnvelopeError("integers must fit in 53 bits", code="json.invalid")
    return number


# Built once: json.loads and json.dumps with options build a decoder or encoder every call.
# The float and constant hooks are called only for a float, NaN or Infinity, which they
# refuse; the integer hook for each integer. Object keys are kept as the C parser reads
# them (a duplicate key leaves the text non-canonical, see _is_canonical).
_DECODER = json.JSONDecoder(
    parse_float=_refuse_float, parse_constant=_refuse_constant, parse_int=_bounded_int
)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_ASTRAL_LEAD = re.compile(rb"[\xf0-\xf4]")


def _check_value(value: JSONValue, depth: int) -> bool:
    """Refuse what envelopes may not hold; return whether every object key is ASCII."""
    if depth > MAX_DEPTH:
        raise EnvelopeError(f"JSON nested deeper than {MAX_DEPTH}", code="json.invalid")
    if isinstance(value, (str, bool)) or value is None:
        return True
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise EnvelopeError("integers must fit in 53 bits", code="json.invalid")
        return True
    if isinstance(value, list):
        ascii_keys = True
        for item in value:
            ascii_keys = _check_value(item, depth + 1) and ascii_keys
        return ascii_keys
    if isinstance(value, dict):
        ascii_keys = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise EnvelopeError("object keys must be strings", code="json.invalid")
            ascii_keys = _check_value(item, depth + 1) and key.isascii() and ascii_keys
        return ascii_keys
    raise EnvelopeError(f"{type(value).__name__} is not an envelope value", code="json.invalid")
