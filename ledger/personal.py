"""Personal data in signed records: salted commitments instead of identity numbers.

A signed body that names a natural person carries ``id_commitment``, never the number::

    id_commitment = "pc1:" + hex(sha256(b"caseledger/person-commitment/v1\\n" ‖ salt ‖ value))

``salt`` is 32 random bytes per record (kept, hex, with the number in the office's private
table), ``value`` the UTF-8 of the normalised number (spaces removed, upper case). The salt
makes the commitment useless for guessing: an identity number has too few possibilities
(region, birth date, four digits) for a bare hash to hide it. The prefix names the version;
the domain string keeps a commitment from ever being mistaken for another hash of the same
bytes. Anyone holding the number and its salt can check a commitment (:func:`opens`).

:func:`find_personal_data` finds what must never stand in clear in a signed body: an
18-character PRC identity number (its check digit valid) or a mainland mobile number.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMMITMENT_PREFIX",
    "CONTACT_FIELDS",
    "Opening",
    "body_problem",
    "commit",
    "find_personal_data",
    "is_commitment",
    "is_prc_id_number",
    "normalise",
    "opens",
]

COMMITMENT_PREFIX = "pc1:"
# An Applied body's ``contact``: where the applicant is told of each step, as commitments.
CONTACT_FIELDS = ("phone_commitment", "email_commitment")
_DOMAIN = b"caseledger/person-commitment/v1\n"
_SALT_BYTES = 32
_COMMITMENT = re.compile(r"pc1:[0-9a-f]{64}")
_SALT = re.compile(r"[0-9a-f]{64}")

# Not preceded or followed by a letter or digit, so a run inside a hash or a code is not taken.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@dataclass(frozen=True, slots=True)
class Opening:
    """What opens a commitment: the value and its salt (hex). Private: never signed."""

    commitment: str
    value: str
    salt: str

    def to_json(self) -> dict[str, str]:
        return {"commitment": self.commitment, "value": self.value, "salt": self.salt}


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def commit(value: str, salt: str | None = None) -> Opening:
    """A commitment to ``value`` under ``salt`` (a fresh random one if not given)."""
    salt_hex = salt if salt is not None else secrets.token_hex(_SALT_BYTES)
    if not _SALT.fullmatch(salt_hex):
        raise ValueError("a salt is 64 lower-case hex digits")
    digest = hashlib.sha256(_DOMAIN + bytes.fromhex(salt_hex) + normalise(value).encode("utf-8"))
    return Opening(COMMITMENT_PREFIX + digest.hexdigest(), normalise(value), salt_hex)


def opens(commitment: str, value: str, salt: str) -> bool:
    """True if ``value`` and ``salt`` open ``commitment``."""
    if not is_commitment(commitment) or not _SALT.fullmatch(salt):
        return False
    return secrets.compare_digest(commit(value, salt).commitment, commitment)


def is_commitment(value: object) -> bool:
    return isinstance(value, str) and _COMMITMENT.fullmatch(value) is not None


def is_prc_id_number(text: str) -> bool:
    """An 18-character resident identity number whose check digit is right (GB 11643)."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == text[17].upper()


def find_personal_data(value: object) -> str | None:
    """What kind of personal data stands in clear anywhere in ``value`` (a JSON value), or
    None: ``"id_number"`` or ``"mobile"``."""
    texts: list[str] = []
    _strings(value, texts)
    # Almost every body holds neither, and one search of all its strings joined costs a
    # fraction of one per string. Neither pattern can match a newline or reach across one,
    # and a newline lets their boundary checks pass as a string's start or end does, so no
    # match in the joined text means none in any string. Otherwise the strings are searched
    # one by one, so that the first one holding either decides which is named.
    joined = "\n".join(texts)
    if _ID_NUMBER.search(joined) is None and _MOBILE.search(joined) is None:
        return None
    for text in texts:
        if any(is_prc_id_number(m.group(0)) for m in _ID_NUMBER.finditer(text)):
            return "id_number"
        if _MOBILE.search(text):
            return "mobile"
    return None


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.append(str(key))
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def body_problem(step: str, body: dict[str, Any]) -> tuple[str, str] | None:
    """Why a step's body may not be signed as it is, as far as personal data goes: a number in
    clear (``body.personal_data``) or a commitment of the wrong form (``body.commitment``)."""
    kind = find_personal_data(body)
    if kind is not None:
        return "body.personal_data", f"the body carries a {kind} in clear"
    if step == "StaffEnrolled":
        return _person_problem(body, "body")
    contact = body.get("contact") if step == "Applied" else None
    if contact is not None:
        problem = _contact_problem(contact)
        if problem:
            return problem
    applicant = body.get("applicant") if step == "Applied" else None
    if isinstance(applicant, dict) and applicant.get("kind") == "person":
        return _person_problem(applicant, "body.applicant")
    return None


def _contact_problem(contact: object) -> tuple[str, str] | None:
    if not isinstance(contact, dict) or not contact or set(contact) - set(CONTACT_FIELDS):
        return "body.commitment", f"body.contact holds only {' and '.join(CONTACT_FIELDS)}"
    if not all(is_commitment(value) for value in contact.values()):
        return "body.commitment", "body.contact holds commitments to a phone or an e-mail address"
    return None


def _person_problem(person: dict[str, Any], where: str) -> tuple[str, str] | None:
    if "id_number" in person:
        return (
            "body.personal_data",
            f"{where} names a person: it carries id_commitment, never id_number",
        )
    if not is_commitment(person.get("id_commitment")):
        return (
            "body.commitment",
            f"{where}.id_commitment must be {COMMITMENT_PREFIX} and 64 lower-case hex digits",
        )
    return None
