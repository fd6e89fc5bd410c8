"""The directory: who may do what, folded from the ``directory:<org>`` stream.

Every entry remembers when it was recorded (its envelope's ``at``). Questions are asked
*at a time*: a grant, key or matter counts only if it was recorded by then, so a grant
recorded later cannot make an earlier step legitimate, whatever validity it claims. Key
revocations are the exception on purpose: a revocation says from when the key's signatures
are void, and an audit must honour that even for signatures made before it was recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ledger.calendar import CALENDAR_STEP, WorkCalendar, YearCalendar, package_calendar
from ledger.directory_bodies import (
    STAFF_ROLES,
    KeyAddedBody,
    KeyRevokedBody,
    RoleGrantedBody,
    RoleRevokedBody,
    StaffEnrolledBody,
    integer,
    text,
)
from ledger.envelope import Envelope
from ledger.errors import EnvelopeError
from ledger.reform import (
    PromiseBar,
    PromiseBarClearedBody,
    PromiseBarredBody,
    ReformRules,
    read_reform,
)

__all__ = [
    "STAFF_ROLES",
    "DirectoryChange",
    "DirectoryState",
    "Grant",
    "KeyAddedBody",
    "KeyRecord",
    "KeyRevokedBody",
    "Matter",
    "ReviewLevel",
    "RoleGrantedBody",
    "RoleRevokedBody",
    "Staff",
    "StaffEnrolledBody",
    "matter_from_body",
    "read_change",
]


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    name: str
    unit: str
    # A salted commitment to the identity number (ledger.personal); the number is private.
    id_commitment: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    owner: str
    public_key: bytes
    recorded_at: datetime
    void_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    grant_id: str
    staff: str
    role: str
    matters: tuple[str, ...]
    unit: str
    valid_from: datetime
    valid_until: datetime | None
    qualification: str | None
    recorded_at: datetime
    revoked_at: datetime | None = None

    def covers(self, matter: str | None) -> bool:
        return "*" in self.matters or matter is None or matter in self.matters


@dataclass(frozen=True, slots=True)
class ReviewLevel:
    level: int
    role: str


@dataclass(frozen=True, slots=True)
class Matter:
    """One version of a matter (事项) definition."""

    code: str
    version: int
    name: str
    legal_basis: str
    review_levels: tuple[ReviewLevel, ...]
    statutory_days: int
    committed_days: int
    required_materials: tuple[str, ...]
    result_template: str
    seal_issued: bool
    qualification: str | None
    recorded_at: datetime
    reform: ReformRules = field(default_factory=ReformRules)
    # The most working days 延期 may add to the limits (§42: ten, with the head's approval).
    extension_days: int = 10
    # Each stage's share of the committed limit (one per review level, then the decision), when
    # the matter sets them; otherwise the limit is shared evenly (ledger.timelimits).
    stage_days: tuple[int, ...] = ()


@dataclass(slots=True)
class DirectoryState:
    """The directory as folded so far. Mutable on purpose: it is an accumulator that an
    audit feeds thousands of envelopes; :mod:`ledger.policy` only reads it.
    """

    org: str
    root_keys: dict[str, bytes]
    seq: int = 0
    head_hash: str | None = None
    last_at: datetime | None = None
    staff: dict[str, Staff] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    grants_by_staff: dict[str, list[str]] = field(default_factory=dict)
    # The same lists split by the role of the grant each id names: the rules ask for one role
    # of the step's signer at every step.
    grants_by_role: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    matters: dict[str, list[Matter]] = field(default_factory=dict)
    promise_bars: dict[str, PromiseBar] = field(default_factory=dict)
    # Each year's working-day calendar, as last published (ledger.calendar).
    calendars: dict[int, YearCalendar] = field(default_factory=dict)
    _work_calendar: WorkCalendar | None = field(default=None, repr=False, compare=False)

    @property
    def stream(self) -> str:
        return f"directory:{self.org}"

    # Questions asked at a time -------------------------------------------------------

    def staff_at(self, staff_id: str, at: datetime) -> Staff | None:
        person = self.staff.get(staff_id)
        return person if person is not None and person.recorded_at <= at else None

    def key(self, key_id: str) -> KeyRecord | None:
        return self.keys.get(key_id)

    def grants_at(self, staff_id: str, role: str, at: datetime) -> list[Grant]:
        """Grants of ``role`` to ``staff_id`` recorded by ``at`` (valid or not at ``at``)."""
        grants = self.grants
        return [
            grant
            for grant_id in self.grants_by_role.get((staff_id, role), ())
            if (grant := grants[grant_id]).recorded_at <= at
        ]

    def matter_at(self, code: str, version: int, at: datetime) -> Matter | None:
        for matter in self.matters.get(code, ()):
            if matter.version == version and matter.recorded_at <= at:
                return matter
        return None

    def bars_at(self, at: datetime) -> list[PromiseBar]:
        """The 告知承诺 bars in force at ``at``."""
        return [bar for bar in self.promise_bars.values() if bar.holds_at(at)]

    def work_calendar(self) -> WorkCalendar:
        """The signed calendar, with the package's years for those never published."""
        if self._work_calendar is None:
            self._work_calendar = WorkCalendar(dict(self.calendars)).with_fallback(
                package_calendar()
            )
        return self._work_calendar

    def latest_matter(self, code: str) -> Matter | None:
        versions = self.matters.get(code)
        return versions[-1] if versions else None

    # Folding -----------------------------------------------------------------------------

    def apply(self, envelope: Envelope) -> None:
        """Fold a directory envelope into the state.

        Raises EnvelopeError if the body cannot be read (``body.invalid``, as
        :func:`read_change` says) or names a key or grant the directory lacks
        (``directory.invalid``). A readable change the rules refused (a second enrolment, a
        matter version out of turn) is still folded, so that an audit reports one bad step
        once rather than every later step that leans on it.
        """
        change = read_change(envelope)
        _APPLY[type(change)](self, change, envelope.at)
        self.seq = envelope.seq
        self.head_hash = envelope.hash
        self.last_at = envelope.at


# Bodies, read once into typed values (the staff, key and grant bodies: ledger.directory_bodies)


DirectoryChange = (
    StaffEnrolledBody
    | KeyAddedBody
    | KeyRevokedBody
    | RoleGrantedBody
    | RoleRevokedBody
    | Matter
    | PromiseBarredBody
    | PromiseBarClearedBody
    | YearCalendar
)


def read_change(envelope: Envelope) -> DirectoryChange:
    """A directory envelope's body as its typed value; raise EnvelopeError (``body.invalid``)
    if a field is missing or ill-typed."""
    try:
        if envelope.type in ("MatterDefined", "MatterRevised"):
            return matter_from_body(envelope.body, envelope.at)
        return _READERS[envelope.type](envelope.body)
    except EnvelopeError as exc:
        raise EnvelopeError(exc.message, code="body.invalid") from None


_READERS: dict[str, Callable[[dict[str, Any]], DirectoryChange]] = {
    "StaffEnrolled": StaffEnrolledBody.read,
    "KeyAdded": KeyAddedBody.read,
    "KeyRevoked": KeyRevokedBody.read,
    "RoleGranted": RoleGrantedBody.read,
    "RoleRevoked": RoleRevokedBody.read,
    "PromiseBarred": PromiseBarredBody.read,
    "PromiseBarCleared": PromiseBarClearedBody.read,
    CALENDAR_STEP: YearCalendar.read,
}


def _enrol(state: DirectoryState, body: StaffEnrolledBody, at: datetime) -> None:
    state.staff[body.staff] = Staff(body.staff, body.name, body.unit, body.id_commitment, at)


def _add_key(state: DirectoryState, body: KeyAddedBody, at: datetime) -> None:
    from ledger.signing import key_id

    kid = key_id(body.public_key)
    state.keys[kid] = KeyRecord(kid, body.staff, body.public_key, at)


def _revoke_key(state: DirectoryState, body: KeyRevokedBody, at: datetime) -> None:
    record = state.keys.get(body.key_id)
    if record is None:
        raise EnvelopeError(f"no key {body.key_id}", code="directory.invalid")
    void_from = body.void_from or at
    if record.void_from is None or void_from < record.void_from:
        state.keys[record.key_id] = replace(record, void_from=void_from)


def _grant(state: DirectoryState, body: RoleGrantedBody, at: datetime) -> None:
    grant = Grant(
        grant_id=body.grant,
        staff=body.staff,
        role=body.role,
        matters=body.matters,
        unit=body.unit,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        qualification=body.qualification,
        recorded_at=at,
    )
    reused = grant.grant_id in state.grants  # refused by the rules, folded all the same
    state.grants[grant.grant_id] = grant
    state.grants_by_staff.setdefault(grant.staff, []).append(grant.grant_id)
    if reused:  # the id now names another grant, maybe of another role, wherever it is listed
        state.grants_by_role = _by_role(state.grants_by_staff, state.grants)
    else:
        state.grants_by_role.setdefault((grant.staff, grant.role), []).append(grant.grant_id)


def _by_role(
    by_staff: dict[str, list[str]], grants: dict[str, Grant]
) -> dict[tuple[str, str], list[str]]:
    """Each staff member's grant ids by the role of the grant each names, in their order."""
    out: dict[tuple[str, str], list[str]] = {}
    for staff, grant_ids in by_staff.items():
        for grant_id in grant_ids:
            out.setdefault((staff, grants[grant_id].role), []).append(grant_id)
    return out


def _revoke_grant(state: DirectoryState, body: RoleRevokedBody, at: datetime) -> None:
    grant = state.grants.get(body.grant)
    if grant is None:
        raise EnvelopeError(f"no grant {body.grant}", code="directory.invalid")
    if grant.revoked_at is None:
        state.grants[grant.grant_id] = replace(grant, revoked_at=at)


def matter_from_body(body: dict[str, Any], at: datetime) -> Matter:
    """Read a MatterDefined / MatterRevised body; raise EnvelopeError (body.invalid) if wrong."""
    levels_raw = body.get("review_levels")
    if not isinstance(levels_raw, list):
        raise EnvelopeError("body.review_levels must be a list", code="body.invalid")
    levels = []
    for number, item in enumerate(levels_raw, start=1):
        if not isinstance(item, dict) or item.get("level") != number:
            raise EnvelopeError("review levels must be numbered 1, 2, …", code="body.invalid")
        role = text(item, "role")
        if role not in {"reviewer", "approver"}:
            raise EnvelopeError(
                "a review level's role is reviewer or approver", code="body.invalid"
            )
        levels.append(ReviewLevel(number, role))
    materials = body.get("required_materials", [])
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials):
        raise EnvelopeError("body.required_materials must be a list of names", code="body.invalid")
    required = tuple(materials)
    seal_issued = body.get("seal_issued")
    if not isinstance(seal_issued, bool):
        raise EnvelopeError("body.seal_issued must be true or false", code="body.invalid")
    return Matter(
        code=text(body, "code"),
        version=integer(body, "version"),
        name=text(body, "name"),
        legal_basis=text(body, "legal_basis"),
        review_levels=tuple(levels),
        statutory_days=integer(body, "statutory_days"),
        committed_days=integer(body, "committed_days"),
        required_materials=required,
        result_template=text(body, "result_template"),
        seal_issued=seal_issued,
        qualification=text(body, "qualification", optional=True),
        recorded_at=at,
        reform=read_reform(body, required),
        extension_days=integer(body, "extension_days") if "extension_days" in body else 10,
        stage_days=_stage_days(body, len(levels)),
    )


def _stage_days(body: dict[str, Any], levels: int) -> tuple[int, ...]:
    shares = body.get("stage_days")
    if shares is None:
        return ()
    if (
        not isinstance(shares, list)
        or len(shares) != levels + 1
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shares)
    ):
        raise EnvelopeError(
            "body.stage_days must give working days for each review level and the decision",
            code="body.invalid",
        )
    return tuple(shares)


def _publish_calendar(state: DirectoryState, calendar: YearCalendar, at: datetime) -> None:
    state.calendars[calendar.year] = calendar
    state._work_calendar = None


def _define_matter(state: DirectoryState, matter: Matter, at: datetime) -> None:
    state.matters.setdefault(matter.code, []).append(matter)


def _bar(state: DirectoryState, body: PromiseBarredBody, at: datetime) -> None:
    state.promise_bars.setdefault(
        body.bar, PromiseBar(body.bar, body.subject, body.case, body.reason, at)
    )


def _clear_bar(state: DirectoryState, body: PromiseBarClearedBody, at: datetime) -> None:
    bar = state.promise_bars.get(body.bar)
    if bar is None:
        raise EnvelopeError(f"no 告知承诺 bar {body.bar}", code="directory.invalid")
    if bar.cleared_at is None:
        state.promise_bars[body.bar] = replace(bar, cleared_at=at)


_APPLY: dict[type, Callable[[DirectoryState, Any, datetime], None]] = {
    StaffEnrolledBody: _enrol,
    KeyAddedBody: _add_key,
    KeyRevokedBody: _revoke_key,
    RoleGrantedBody: _grant,
    RoleRevokedBody: _revoke_grant,
    Matter: _define_matter,
    PromiseBarredBody: _bar,
    PromiseBarClearedBody: _clear_bar,
    YearCalendar: _publish_calendar,
}
