"""What of a person's or an organisation's identity a document or a page shows.

One set of rules for every place that prints a party:

- an organisation's 统一社会信用代码 (GB 32100) is public registration data and is printed in
  full on its own documents: a bank or a court matches it character for character (unless it is
  in fact a resident identity number, which is masked whatever kind of party it is filed under);
- a natural person's 居民身份证号码 is shown as practice requires: the region code (first 6)
  and the last 4 characters, the birth date and sequence in between hidden (``110101********
  1234``); other identity numbers keep only their last 4 characters;
- on pages anyone may read, a natural person's name keeps its first character (``张**``) and
  organisations' names are shown in full.

Pure functions; no I/O.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "PartyKind",
    "document_identifier",
    "identifier_label",
    "is_credit_code",
    "is_resident_id",
    "mask_person_number",
    "public_name",
]

PartyKind = Literal["person", "organisation"]

# GB 32100-2015: 31 characters (no I, O, Z, S, V), position weights 3^i mod 31.
_CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_KEEP_TAIL = 4
_REGION = 6


def is_credit_code(text: str) -> bool:
    """Whether ``text`` is a 统一社会信用代码 with a correct check character."""
    code = text.strip().upper()
    if len(code) != 18 or any(c not in _CREDIT_CHARSET for c in code):
        return False
    total = sum(_CREDIT_CHARSET.index(c) * w for c, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARSET[(31 - total % 31) % 31] == code[17]


def is_resident_id(text: str) -> bool:
    """Whether ``text`` is an 18-character 居民身份证号码 with a correct check character."""
    number = text.strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17]


def mask_person_number(number: str) -> str:
    """A natural person's identity number as documents show it.

    An 18- or 15-character resident identity number keeps its first 6 and last 4 characters;
    any other number keeps only its last 4 (all of it hidden when it is that short). An already
    masked number is returned as it is.
    """
    number = number.strip()
    if "*" in number:
        return number
    if len(number) in (15, 18):
        hidden = len(number) - _REGION - _KEEP_TAIL
        return number[:_REGION] + "*" * hidden + number[-_KEEP_TAIL:]
    if len(number) <= _KEEP_TAIL:
        return "*" * len(number)
    return "*" * (len(number) - _KEEP_TAIL) + number[-_KEEP_TAIL:]


def _looks_personal(number: str) -> bool:
    """A resident identity number (18 with a valid check character, or the old 15 digits)."""
    number = number.strip()
    return is_resident_id(number) or (len(number) == 15 and number.isdigit())


def document_identifier(number: str, kind: str) -> str:
    """The identifier of a party as printed on a document addressed to it: an organisation's
    code in full; a natural person's, a party of unknown kind's, or a person's number filed
    under an organisation by mistake, masked."""
    if kind == "organisation" and not _looks_personal(number):
        return number.strip()
    return mask_person_number(number)


def identifier_label(number: str, kind: str) -> str:
    """The field label for the identifier: 统一社会信用代码 for an organisation (every one
    has had one since 2015), 身份证号码 for a person's 15- or 18-character number, else
    证件号码 (a passport, a permit…)."""
    if kind == "organisation" and not _looks_personal(number):
        return "统一社会信用代码"
    if len(number.strip()) in (15, 18):
        return "身份证号码"
    return "证件号码"


def public_name(name: str, kind: str) -> str:
    """A party's name on a page anyone may read: a person's first character, then ``*``."""
    if kind == "organisation" or not name:
        return name
    return name[0] + "*" * (len(name) - 1)
