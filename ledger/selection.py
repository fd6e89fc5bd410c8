"""Minimal receipts: which directory entries a case's receipt carries, and how a verifier
knows none bearing on its signers was left out.

A directory entry *bears on* a subject: ``staff:<principal>`` for StaffEnrolled, KeyAdded,
RoleGranted of that person and KeyRevoked / RoleRevoked of their key or grant;
``matter:<code>`` for MatterDefined / MatterRevised; ``calendar:<year>`` for CalendarPublished.
The receipt's subjects are the people who
signed its case steps (applicants aside: their key is in the Applied body), the case's matter,
and — until nothing new turns up — the people who signed the entries already selected (the
admin chain back to the root key), and the calendar of each year from the case's first step
to the year after its last (the years its time limits are counted in, so that a verifier can
recompute them). It carries every directory entry among the first
``directory_size`` that bears on a subject, and no other.

The *selection statement* says so, signed by the office's log key (the key that signs its
checkpoints)::

    b"caseledger/directory-selection/v1\\n" + JCS({v, kind, org, case, directory_size,
        directory_head, subjects, entries})

A verifier recomputes the subjects from the steps, checks that the statement lists them, that
the receipt's directory entries are exactly the statement's ``entries`` and that each bears on
a listed subject. Dropping a revocation from a receipt, or adding an unrelated entry, then
fails; so does a statement altered to match. What the statement cannot prove by itself is
that the office told the truth when it signed it: that is checked against the full directory
(``caseledger audit``, or an audit bundle, which carries all of it), where a false statement
is a signed, lasting lie of the office's log key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from ledger.clock import china_date
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.jcs import canonical
from ledger.signing import (
    PrivateKey,
    b64decode_strict,
    b64encode,
    key_id,
    public_key_from_b64,
    verify_signature,
)

__all__ = [
    "SELECTION_KIND",
    "bearing",
    "calendar_subjects",
    "check_selection",
    "select_directory",
    "sign_selection",
    "subjects_needed",
    "verify_selection",
]

SELECTION_KIND = "caseledger/directory-selection"
_PREFIX = b"caseledger/directory-selection/v1\n"


class _Owners:
    """Whose key and whose grant each id is, learnt in directory order."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.grants: dict[str, str] = {}

    def subject(self, env: Envelope) -> str | None:
        body, step = env.body, env.type
        if step in ("MatterDefined", "MatterRevised"):
            return f"matter:{body.get('code')}"
        if step == "CalendarPublished":
            return f"calendar:{body.get('year')}"
        if step == "KeyAdded":
            with contextlib.suppress(CaseLedgerError, ValueError):
                added = key_id(public_key_from_b64(str(body.get("public_key"))))
                self.keys[added] = str(body.get("staff"))
        if step == "RoleGranted":
            self.grants[str(body.get("grant"))] = str(body.get("staff"))
        if step == "KeyRevoked":
            owner = self.keys.get(str(body.get("key_id")))
        elif step == "RoleRevoked":
            owner = self.grants.get(str(body.get("grant")))
        else:
            owner = body.get("staff")
        return f"staff:{owner}" if isinstance(owner, str) else None


def bearing(directory: Iterable[Envelope]) -> list[tuple[Envelope, str | None]]:
    """Each directory entry (in order) with the subject it bears on."""
    owners = _Owners()
    return [(env, owners.subject(env)) for env in directory]


def subjects_needed(case: Sequence[Envelope], selected: Iterable[Envelope] = ()) -> set[str]:
    """The subjects a verifier needs: the case's staff signers and matter, and the signers of
    the directory entries in ``selected``."""
    needed = {f"staff:{e.actor.id}" for e in [*case, *selected] if e.actor.role != "applicant"}
    for env in case:
        matter = env.body.get("matter") if env.type == "Applied" else None
        if isinstance(matter, dict) and isinstance(matter.get("code"), str):
            needed.add(f"matter:{matter['code']}")
    return needed


def calendar_subjects(case: Sequence[Envelope]) -> set[str]:
    """The calendars a case's time limits are counted on: each year (China time) from its
    first step to the year after its last. A verifier does not demand them (receipts made
    before the calendar was signed lack them); without one, the time limits it recomputes
    rest on the calendar it has, or are undetermined."""
    if not case:
        return set()
    first, last = china_date(case[0].at).year, china_date(case[-1].at).year
    return {f"calendar:{year}" for year in range(first, last + 2)}


def select_directory(
    directory: Sequence[Envelope], case: Sequence[Envelope]
) -> tuple[list[Envelope], set[str]]:
    """The entries of ``directory`` (a prefix of the stream) that bear on the case's subjects
    and its calendars, closed over their own signers; and those subjects."""
    tagged = bearing(directory)
    subjects = subjects_needed(case) | calendar_subjects(case)
    while True:
        chosen = [env for env, subject in tagged if subject in subjects]
        grown = subjects | subjects_needed((), chosen)
        if grown == subjects:
            return chosen, subjects
        subjects = grown


def sign_selection(
    *,
    org: str,
    case: str,
    directory: Sequence[Envelope],
    chosen: Sequence[Envelope],
    subjects: set[str],
    key: PrivateKey,
) -> dict[str, Any]:
    """The signed selection statement for ``chosen`` out of ``directory``."""
    statement: dict[str, Any] = {
        "v": 1,
        "kind": SELECTION_KIND,
        "org": org,
        "case": case,
        "directory_size": len(directory),
        "directory_head": directory[-1].hash if directory else None,
        "subjects": sorted(subjects),
        "entries": [env.seq for env in chosen],
    }
    statement["sig"] = b64encode(key.sign(_PREFIX + canonical(statement)))
    return statement


def verify_selection(statement: dict[str, Any], public_key: bytes) -> bool:
    """Whether the statement is signed by ``public_key`` (the log key)."""
    try:
        unsigned = {k: v for k, v in statement.items() if k != "sig"}
        signature = b64decode_strict(str(statement.get("sig")), what="sig")
        verify_signature(public_key, _PREFIX + canonical(unsigned), signature)
    except (CaseLedgerError, ValueError, TypeError):
        return False
    return True


def check_selection(
    statement: dict[str, Any],
    *,
    org: str,
    case: str,
    directory: Sequence[Envelope],
    steps: Sequence[Envelope],
) -> list[str]:
    """What is wrong with a receipt's directory against its (signature-checked) statement."""
    problems = []
    if statement.get("kind") != SELECTION_KIND or statement.get("v") != 1:
        return ["the directory selection is not a caseledger/directory-selection v1"]
    if statement.get("org") != org or statement.get("case") != case:
        problems.append("the directory selection is for another organisation or case")
    listed = statement.get("subjects")
    entries = statement.get("entries")
    size = statement.get("directory_size")
    if not isinstance(listed, list) or not isinstance(entries, list) or not isinstance(size, int):
        return [*problems, "the directory selection lacks subjects, entries or size"]
    seqs = [env.seq for env in directory]
    missing = sorted(set(entries) - set(seqs))
    extra = sorted(set(seqs) - set(entries))
    if missing:
        problems.append(f"directory seq {missing} selected but not in the record (left out)")
    if extra:
        problems.append(f"directory seq {extra} in the record but not selected (added)")
    if seqs != sorted(set(seqs)) or any(s > size for s in seqs):
        problems.append("the directory entries are out of order or beyond the selected size")
    unlisted = sorted(subjects_needed(steps, directory) - set(map(str, listed)))
    if unlisted:
        problems.append(f"the selection does not cover {unlisted}")
    stray = [env.seq for env, subject in bearing(directory) if subject not in listed]
    if stray:
        problems.append(f"directory seq {stray} bear on no selected subject")
    return problems
