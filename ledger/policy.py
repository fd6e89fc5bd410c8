"""The rules: one pure function decides whether an envelope may follow a stream.

:func:`check` admits a step at append time and judges it again at audit time; nothing
else decides. It returns every violation it finds (empty = admitted) and never raises
for a step it can read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.directory import (
    DirectoryChange,
    DirectoryState,
    Grant,
    KeyAddedBody,
    KeyRevokedBody,
    Matter,
    RoleGrantedBody,
    RoleRevokedBody,
    StaffEnrolledBody,
    read_change,
)
from ledger.envelope import Envelope
from ledger.errors import EnvelopeError, SignatureInvalid
from ledger.personal import body_problem, is_commitment
from ledger.reform import PromiseBarClearedBody, PromiseBarredBody
from ledger.reform_rules import reform_violations
from ledger.signing import key_id
from ledger.state import CaseState
from ledger.step_bodies import AppliedBody
from ledger.steps import STEPS, Step, read_body
from ledger.violations import Violation

__all__ = ["SamePerson", "check", "check_case", "check_directory"]

# Whether two identity commitments open to one number (see :func:`check`).
SamePerson = Callable[[str, str], bool]


def check(
    state: CaseState | None,
    directory: DirectoryState,
    envelope: Envelope,
    *,
    same_person: SamePerson | None = None,
) -> list[Violation]:
    """Every reason ``envelope`` may not follow its stream (empty list = admitted).

    ``state`` is the case's state before the envelope (None or empty for a new case); for a
    directory envelope it is ignored and ``directory`` is the stream's state. The directory is
    consulted as it stood at the envelope's ``at``.

    ``same_person(a, b)`` says whether two identity commitments (salted, so unequal even for
    one person) open to the same number; the office passes one reading its private table.
    Without it only equal commitments count as one person (an offline verifier's view).
    """
    personal = body_problem(envelope.type, envelope.body)
    found = [Violation(*personal)] if personal else []
    if envelope.stream.startswith("directory:"):
        return found + check_directory(directory, envelope)
    case = state or CaseState.empty(envelope.stream)
    return found + check_case(case, directory, envelope, same_person=same_person)


# Shared checks -----------------------------------------------------------------------------


def _chain(
    head_seq: int, head_hash: str | None, last_at: datetime | None, stream: str, env: Envelope
) -> list[Violation]:
    found = []
    if env.stream != stream:
        found.append(Violation("chain.stream_mismatch", f"{env.stream} is not {stream}"))
    if env.seq != head_seq + 1:
        found.append(Violation("chain.seq_mismatch", f"seq {env.seq}, expected {head_seq + 1}"))
    if env.prev != head_hash:
        found.append(Violation("chain.prev_mismatch", f"prev should be {head_hash}"))
    if last_at is not None and env.at < last_at:
        found.append(Violation("chain.time_reversed", f"{env.at_text} is before the last step"))
    return found


def _signature(env: Envelope, public_key: bytes) -> list[Violation]:
    try:
        env.verify_with(public_key)
    except SignatureInvalid as exc:
        return [Violation("sig.invalid", exc.message)]
    return []


def _staff_key(directory: DirectoryState, env: Envelope) -> tuple[bytes | None, list[Violation]]:
    """The actor's public key if it is theirs and active at ``at``, and what is wrong if not."""
    record = directory.key(env.actor.key)
    if record is None:
        return None, [Violation("sig.unknown_key", f"key {env.actor.key} is not in the directory")]
    found = []
    if record.owner != env.actor.id:
        found.append(Violation("key.wrong_owner", f"key {env.actor.key} is {record.owner}'s"))
    if record.recorded_at > env.at:
        found.append(Violation("key.not_yet_active", f"key {env.actor.key} added later"))
    # Revocations bite strictly after the second they name. Envelope times have second
    # precision and a case step and a directory change of the same second cannot be ordered
    # by the audit; were the tie to go to the revocation, a step admitted just before it
    # would be condemned at audit. So ties go to the step, at append and at audit alike.
    if record.void_from is not None and record.void_from < env.at:
        found.append(
            Violation(
                "key.revoked", f"key {env.actor.key} void from {record.void_from.isoformat()}"
            )
        )
    return record.public_key, found


def _holds_role(
    directory: DirectoryState, staff_id: str, role: str, matter: Matter | None, at: datetime
) -> list[Violation]:
    grants = [
        g
        for g in directory.grants_at(staff_id, role, at)
        if g.covers(matter.code if matter else None)
    ]
    if not grants:
        return [Violation("role.missing", f"{staff_id} holds no {role} grant for this matter")]
    live = [g for g in grants if g.revoked_at is None or g.revoked_at >= at]  # ties: see above
    if not live:
        return [Violation("role.revoked", f"{staff_id}'s {role} grant was revoked")]
    current = [g for g in live if _in_window(g, at)]
    if not current:
        return [Violation("role.expired", f"{staff_id}'s {role} grant is not valid at this time")]
    if (
        matter is not None
        and matter.qualification
        and role != "seal_service"
        and not any(g.qualification == matter.qualification for g in current)
    ):
        return [Violation("role.qualification", f"{matter.code} needs {matter.qualification}")]
    return []


def _in_window(grant: Grant, at: datetime) -> bool:
    return grant.valid_from <= at and (grant.valid_until is None or at < grant.valid_until)


# Case streams ------------------------------------------------------------------------------


def check_case(
    state: CaseState,
    directory: DirectoryState,
    env: Envelope,
    *,
    same_person: SamePerson | None = None,
) -> list[Violation]:
    """Every reason ``env`` may not follow the case in ``state`` (see :func:`check`)."""
    found = _chain(state.seq, state.head_hash, state.last_at, state.stream, env)
    step = STEPS[env.type]
    try:
        body = read_body(env)
    except EnvelopeError as exc:
        found.append(Violation("body.invalid", exc.message))
        return found + _staff_signature(directory, env)
    matter = _case_matter(state, directory, env, body, found)
    found += _order(step, state, matter, body)
    found += _actor(step, state, directory, matter, env, body)
    found += _duties(step, state, directory, env, body, same_person or _equal)
    found += reform_violations(state, directory, matter, env, body, same_person or _equal)
    return found


def _staff_signature(directory: DirectoryState, env: Envelope) -> list[Violation]:
    """Whether a staff signature verifies, for a step whose body cannot be read.

    The other checks need the body; the signature does not, and an auditor must learn that a
    stored step was altered after signing rather than only that its body is now unreadable.
    """
    record = directory.key(env.actor.key)
    if env.actor.role == "applicant" or record is None:
        return []
    return _signature(env, record.public_key)


def _case_matter(
    state: CaseState, directory: DirectoryState, env: Envelope, body: Any, found: list[Violation]
) -> Matter | None:
    if isinstance(body, AppliedBody):
        code, version = body.matter_code, body.matter_version
        matter = directory.matter_at(code, version, env.at)
    elif state.matter_code is not None and state.matter_version is not None:
        code, version = state.matter_code, state.matter_version
        matter = directory.matter_at(code, version, state.applied_at or env.at)
    else:
        return None
    if matter is None:
        found.append(Violation("matter.unknown", f"matter {code} v{version} is not defined"))
    return matter


def _order(step: Step, state: CaseState, matter: Matter | None, body: Any) -> list[Violation]:
    problem: str | None = None
    if state.status not in step.follows:
        problem = f"{step.name} may not follow {state.status or 'nothing'}"
    elif step.order is not None:
        problem = step.order(state, matter, body)
    return [Violation("order.not_allowed", problem)] if problem else []


def _actor(
    step: Step,
    state: CaseState,
    directory: DirectoryState,
    matter: Matter | None,
    env: Envelope,
    body: Any,
) -> list[Violation]:
    role = env.actor.role
    if role not in step.roles:
        return [Violation("role.wrong_for_step", f"{step.name} is taken by {sorted(step.roles)}")]
    problem = step.actor(matter, body, role) if step.actor else None
    if problem:
        return [Violation("role.wrong_for_step", problem)]
    if role == "applicant":
        return _applicant_actor(state, env, body)
    public_key, found = _staff_key(directory, env)
    if public_key is None:
        return found
    found += _signature(env, public_key)
    if directory.staff_at(env.actor.id, env.at) is None:
        found.append(Violation("role.missing", f"{env.actor.id} is not enrolled"))
        return found
    return found + _holds_role(directory, env.actor.id, role, matter, env.at)


def _applicant_actor(state: CaseState, env: Envelope, body: Any) -> list[Violation]:
    if isinstance(body, AppliedBody):
        # An Applied without applicant_key is readable (a handler records it at the window);
        # an applicant acting for themselves must name their key.
        if body.applicant_key is None:
            return [Violation("body.invalid", "an applicant's Applied carries applicant_key")]
        public_key = body.applicant_key
        if key_id(public_key) != env.actor.key:
            return [Violation("sig.unknown_key", "actor.key is not the applicant_key's id")]
    elif state.applicant_key is None or state.applicant_actor != env.actor.id:
        return [Violation("role.missing", "only the applicant who applied may act as applicant")]
    else:
        public_key = state.applicant_key
        if key_id(public_key) != env.actor.key:
            return [Violation("key.wrong_owner", "not the applicant's key")]
    return _signature(env, public_key)


def _equal(a: str, b: str) -> bool:
    return a == b


def _duties(
    step: Step,
    state: CaseState,
    directory: DirectoryState,
    env: Envelope,
    body: Any,
    same_person: SamePerson,
) -> list[Violation]:
    found = []
    capacity = step.capacity_of(env.actor.role, body)
    if capacity is not None:
        held = state.capacities_of(env.actor.id) - {capacity}
        if held:
            found.append(
                Violation("duty.same_person", f"{env.actor.id} already acted as {sorted(held)[0]}")
            )
    applicant = body.applicant if isinstance(body, AppliedBody) else state.applicant
    staff = directory.staff_at(env.actor.id, env.at)
    commitment = applicant.get("id_commitment")
    if (
        staff is not None
        and is_commitment(commitment)
        and same_person(str(commitment), staff.id_commitment)
    ):
        found.append(Violation("duty.own_case", f"{env.actor.id} is the applicant"))
    return found


# Directory streams -------------------------------------------------------------------------


def check_directory(directory: DirectoryState, env: Envelope) -> list[Violation]:
    """Every reason ``env`` may not follow the directory stream (see :func:`check`)."""
    found = _chain(directory.seq, directory.head_hash, directory.last_at, directory.stream, env)
    root_key = directory.root_keys.get(env.actor.key)
    if root_key is not None and key_id(root_key) == env.actor.key:
        found += _signature(env, root_key)
    elif env.seq == 1:
        found.append(Violation("directory.root_required", "seq 1 must be signed by a root key"))
    else:
        public_key, key_problems = _staff_key(directory, env)
        found += key_problems
        if public_key is not None:
            found += _signature(env, public_key)
            if env.actor.role != "admin" or _holds_role(
                directory, env.actor.id, "admin", None, env.at
            ):
                found.append(Violation("directory.not_admin", f"{env.actor.id} is not an admin"))
    found += _directory_change(directory, env)
    return found


def _directory_change(directory: DirectoryState, env: Envelope) -> list[Violation]:
    try:
        change = read_change(env)
    except EnvelopeError as exc:
        return [Violation("body.invalid", exc.message)]
    problem = _contradiction(directory, env.type, change)
    return [Violation("directory.invalid", problem)] if problem else []


def _contradiction(directory: DirectoryState, step: str, change: DirectoryChange) -> str | None:
    """What a readable change contradicts in the directory as it stands, or None."""
    match change:
        case StaffEnrolledBody(staff=staff) if staff in directory.staff:
            return f"{staff} is already enrolled"
        case KeyAddedBody() | RoleGrantedBody() if change.staff not in directory.staff:
            return f"{change.staff} is not enrolled"
        case KeyAddedBody(public_key=public_key) if key_id(public_key) in directory.keys:
            return "that key is already in the directory"
        case KeyRevokedBody(key_id=kid) if kid not in directory.keys:
            return f"no key {kid}"
        case RoleGrantedBody(grant=grant) if grant in directory.grants:
            return f"grant id {grant} is already used"
        case RoleRevokedBody(grant=grant) if grant not in directory.grants:
            return f"no grant {grant}"
        case Matter():
            return _matter_contradiction(directory, step, change)
        case PromiseBarredBody(bar=bar) if bar in directory.promise_bars:
            return f"bar id {bar} is already used"
        case PromiseBarClearedBody(bar=bar) if bar not in directory.promise_bars:
            return f"no 告知承诺 bar {bar}"
    return None


def _matter_contradiction(directory: DirectoryState, step: str, matter: Matter) -> str | None:
    latest = directory.latest_matter(matter.code)
    if step == "MatterDefined" and (latest is not None or matter.version != 1):
        return f"matter {matter.code} exists or version is not 1"
    if step == "MatterRevised" and (latest is None or matter.version != latest.version + 1):
        return f"matter {matter.code} revision must be the next version"
    return None
