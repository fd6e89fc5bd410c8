"""The rules: one pure function decides whether an envelope may follow a stream.

:func:`check` admits a step at append time and judges it again at audit time; nothing
else decides. It returns every violation it finds (empty = admitted) and never raises
for a step it can read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.directory import STAFF_ROLES, DirectoryState, Grant, Matter, matter_from_body
from ledger.envelope import Envelope, parse_time
from ledger.errors import EnvelopeError, SignatureInvalid
from ledger.signing import key_id, public_key_from_b64
from ledger.state import CaseState
from ledger.violations import Violation

__all__ = ["STEP_RULES", "capacity_for", "check", "check_case", "check_directory"]

# Which states a step may follow, and which roles may take it.
STEP_RULES: dict[str, tuple[frozenset[str | None], frozenset[str]]] = {
    "Applied": (frozenset({None}), frozenset({"applicant", "handler"})),
    "SupplementRequested": (frozenset({"applied"}), frozenset({"handler"})),
    "SupplementProvided": (frozenset({"awaiting_supplement"}), frozenset({"applicant", "handler"})),
    "Accepted": (frozenset({"applied"}), frozenset({"handler"})),
    "NotAccepted": (frozenset({"applied"}), frozenset({"handler"})),
    "Reviewed": (frozenset({"accepted", "in_review"}), frozenset({"reviewer", "approver"})),
    "Decided": (frozenset({"accepted", "in_review"}), frozenset({"approver"})),
    # From result_issued only as a re-issue that names the document it supersedes.
    "ResultIssued": (frozenset({"decided", "result_issued"}), frozenset({"seal_service"})),
    # A sealed notice answering an earlier step; it leaves the case where it stands.
    "DocumentIssued": (
        frozenset(
            {
                "applied",
                "awaiting_supplement",
                "accepted",
                "in_review",
                "suspended",
                "decided",
                "result_issued",
                "delivered",
                "not_accepted",
                "withdrawn",
                "revoked",
            }
        ),
        frozenset({"seal_service"}),
    ),
    "Delivered": (frozenset({"decided", "result_issued", "not_accepted"}), frozenset({"handler"})),
    "Suspended": (frozenset({"accepted", "in_review"}), frozenset({"handler"})),
    "Resumed": (frozenset({"suspended"}), frozenset({"handler"})),
    "Withdrawn": (
        frozenset({"applied", "awaiting_supplement", "accepted", "in_review", "suspended"}),
        frozenset({"applicant", "handler"}),
    ),
    "ResultRevoked": (frozenset({"delivered"}), frozenset({"approver"})),
}


def check(
    state: CaseState | None, directory: DirectoryState, envelope: Envelope
) -> list[Violation]:
    """Every reason ``envelope`` may not follow its stream (empty list = admitted).

    ``state`` is the case's state before the envelope (None or empty for a new case); for a
    directory envelope it is ignored and ``directory`` is the stream's state. The directory is
    consulted as it stood at the envelope's ``at``.
    """
    if envelope.stream.startswith("directory:"):
        return check_directory(directory, envelope)
    return check_case(state or CaseState.empty(envelope.stream), directory, envelope)


def capacity_for(envelope: Envelope) -> str | None:
    """The duty an envelope's actor takes on the case, for separation of duties."""
    role = envelope.actor.role
    if role == "handler":
        return "handler"
    if envelope.type == "Reviewed":
        level = envelope.body.get("level")
        return f"reviewer:{level}"
    if role == "approver":
        return "approver"
    return None


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


def check_case(state: CaseState, directory: DirectoryState, env: Envelope) -> list[Violation]:
    """Every reason ``env`` may not follow the case in ``state`` (see :func:`check`)."""
    found = _chain(state.seq, state.head_hash, state.last_at, state.stream, env)
    body_problem = _case_body(env)
    if body_problem:
        found.append(Violation("body.invalid", body_problem))
        return found + _staff_signature(directory, env)
    matter = _case_matter(state, directory, env, found)
    found += _order(state, matter, env)
    found += _actor(state, directory, matter, env)
    found += _duties(state, directory, env)
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
    state: CaseState, directory: DirectoryState, env: Envelope, found: list[Violation]
) -> Matter | None:
    if env.type == "Applied":
        code, version = env.body["matter"]["code"], env.body["matter"]["version"]
        matter = directory.matter_at(code, version, env.at)
    elif state.matter_code is not None and state.matter_version is not None:
        code, version = state.matter_code, state.matter_version
        matter = directory.matter_at(code, version, state.applied_at or env.at)
    else:
        return None
    if matter is None:
        found.append(Violation("matter.unknown", f"matter {code} v{version} is not defined"))
    return matter


def _order(state: CaseState, matter: Matter | None, env: Envelope) -> list[Violation]:
    allowed_from, _ = STEP_RULES[env.type]
    levels = len(matter.review_levels) if matter else 0
    problem = None
    if state.status not in allowed_from:
        problem = f"{env.type} may not follow {state.status or 'nothing'}"
    elif env.type == "Reviewed" and (
        env.body["level"] != state.reviews_done + 1 or env.body["level"] > levels
    ):
        problem = f"review level {env.body['level']} is not next (done {state.reviews_done})"
    elif env.type == "Decided" and state.reviews_done < levels:
        problem = f"{levels - state.reviews_done} review level(s) still open"
    elif env.type == "ResultIssued" and state.outcome != "approved":
        problem = "a result is issued only for an approved decision"
    elif env.type in ("ResultIssued", "ResultRevoked"):
        problem = _lineage_problem(state, env)
    elif env.type == "DocumentIssued":
        problem = _notice_problem(state, env)
    elif (
        env.type == "Delivered"
        and "document" in env.body
        and env.body["document"] not in state.documents
    ):
        problem = "body.document must be the hash of a document issued on this case"
    elif (
        env.type == "Delivered"
        and state.status == "decided"
        and state.outcome == "approved"
        and (matter is None or matter.seal_issued)
    ):
        problem = "an approved result is delivered after it is issued"
    return [Violation("order.not_allowed", problem)] if problem else []


def _lineage_problem(state: CaseState, env: Envelope) -> str | None:
    """A re-issue names the document it supersedes, a revocation the document it ends: always
    the one in force, so that every document's fate can be told from the case alone."""
    if env.type == "ResultIssued":
        named = env.body.get("supersedes")
        if named != state.result_sha256:
            return f"body.supersedes must name the document in force ({state.result_sha256})"
        if named == env.body.get("pdf_sha256"):
            return "a document cannot supersede itself"
        return None
    if env.body.get("result") != state.result_sha256:
        if state.result_sha256 is None:
            return "body.result names a document, but this case issued none"
        return f"body.result must name the document revoked ({state.result_sha256})"
    return None


# Which case a notice may be issued on: the step it answers must have happened.
_NOTICE_WHEN: dict[str, Callable[[CaseState], bool]] = {
    "acceptance": lambda s: s.accepted_at is not None,
    "supplement": lambda s: s.supplement_requested_at is not None,
    "not_accepted": lambda s: s.status == "not_accepted",
    "denial": lambda s: s.outcome == "denied",
    "revocation": lambda s: s.status == "revoked",
}


def _notice_problem(state: CaseState, env: Envelope) -> str | None:
    kind = env.body["document"]
    if not _NOTICE_WHEN[kind](state):
        return f"a {kind} notice answers a step this case has not taken"
    if env.body["pdf_sha256"] in state.documents:
        return "this document is recorded already"
    return None


def _actor(
    state: CaseState, directory: DirectoryState, matter: Matter | None, env: Envelope
) -> list[Violation]:
    _, roles = STEP_RULES[env.type]
    role = env.actor.role
    if role not in roles:
        return [Violation("role.wrong_for_step", f"{env.type} is taken by {sorted(roles)}")]
    if env.type == "Reviewed" and matter is not None:
        level = env.body["level"]
        if 1 <= level <= len(matter.review_levels) and matter.review_levels[level - 1].role != role:
            return [
                Violation(
                    "role.wrong_for_step",
                    f"review level {level} needs {matter.review_levels[level - 1].role}",
                )
            ]
    if role == "applicant":
        return _applicant_actor(state, env)
    public_key, found = _staff_key(directory, env)
    if public_key is None:
        return found
    found += _signature(env, public_key)
    if directory.staff_at(env.actor.id, env.at) is None:
        found.append(Violation("role.missing", f"{env.actor.id} is not enrolled"))
        return found
    return found + _holds_role(directory, env.actor.id, role, matter, env.at)


def _applicant_actor(state: CaseState, env: Envelope) -> list[Violation]:
    if env.type == "Applied":
        # The body check accepts an Applied without applicant_key (a handler records it at the
        # window); an applicant acting for themselves must name their key.
        if "applicant_key" not in env.body:
            return [Violation("body.invalid", "an applicant's Applied carries applicant_key")]
        public_key = public_key_from_b64(env.body["applicant_key"])
        if key_id(public_key) != env.actor.key:
            return [Violation("sig.unknown_key", "actor.key is not the applicant_key's id")]
    elif state.applicant_key is None or state.applicant_actor != env.actor.id:
        return [Violation("role.missing", "only the applicant who applied may act as applicant")]
    else:
        public_key = state.applicant_key
        if key_id(public_key) != env.actor.key:
            return [Violation("key.wrong_owner", "not the applicant's key")]
    return _signature(env, public_key)


def _duties(state: CaseState, directory: DirectoryState, env: Envelope) -> list[Violation]:
    found = []
    capacity = capacity_for(env)
    if capacity is not None:
        held = state.capacities_of(env.actor.id) - {capacity}
        if held:
            found.append(
                Violation("duty.same_person", f"{env.actor.id} already acted as {sorted(held)[0]}")
            )
    applicant = state.applicant if env.type != "Applied" else env.body["applicant"]
    staff = directory.staff_at(env.actor.id, env.at)
    if staff is not None and applicant.get("id_number") == staff.id_number:
        found.append(Violation("duty.own_case", f"{env.actor.id} is the applicant"))
    return found


# Case bodies -------------------------------------------------------------------------------

_Reader = Callable[[dict[str, Any]], str | None]


def _case_body(env: Envelope) -> str | None:
    """What is wrong with the step's body, or None."""
    try:
        return _BODY_READERS[env.type](env.body) if env.type in _BODY_READERS else None
    except EnvelopeError as exc:
        return exc.message


def _need_text(body: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if not isinstance(body.get(name), str) or not body[name]:
            return f"body.{name} must be a non-empty string"
    return None


def _need_choice(body: dict[str, Any], name: str, choices: set[str]) -> str | None:
    if body.get(name) not in choices:
        return f"body.{name} must be one of {sorted(choices)}"
    return None


def _materials_problem(value: object) -> str | None:
    if not isinstance(value, list):
        return "body.materials must be a list"
    for item in value:
        if (
            not isinstance(item, dict)
            or _need_text(item, "name", "sha256")
            or len(item["sha256"]) != 64
        ):
            return "each material needs a name and a sha256 (64 hex digits)"
    return None


def _applied_problem(body: dict[str, Any]) -> str | None:
    matter = body.get("matter")
    if (
        not isinstance(matter, dict)
        or not isinstance(matter.get("code"), str)
        or not isinstance(matter.get("version"), int)
    ):
        return "body.matter needs a code and an integer version"
    applicant = body.get("applicant")
    if not isinstance(applicant, dict):
        return "body.applicant must be an object"
    problem = _need_text(applicant, "name", "id_number") or _need_choice(
        applicant, "kind", {"person", "organisation"}
    )
    if "applicant_key" in body:
        public_key_from_b64(body["applicant_key"])
    return problem or _materials_problem(body.get("materials")) or _need_text(body, "channel")


def _reviewed_problem(body: dict[str, Any]) -> str | None:
    level = body.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or level < 1:
        return "body.level must be a positive integer"
    return _need_choice(body, "opinion", {"agree", "disagree"}) or _need_text(body, "comments")


def _decided_problem(body: dict[str, Any]) -> str | None:
    problem = _need_choice(body, "outcome", {"approved", "denied"}) or _need_text(
        body, "decision", "legal_basis"
    )
    validity = body.get("validity")
    if problem is None and validity is not None:
        if not isinstance(validity, dict):
            return "body.validity must be an object with from and until"
        parse_time(validity.get("from")), parse_time(validity.get("until"))
    return problem


def _supplement_problem(body: dict[str, Any]) -> str | None:
    items = body.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        return "body.items must list every missing item (补正 is told once, completely)"
    return _need_text(body, "notice")


_BODY_READERS: dict[str, _Reader] = {
    "Applied": _applied_problem,
    "SupplementRequested": _supplement_problem,
    "SupplementProvided": lambda b: _materials_problem(b.get("materials")),
    "Accepted": lambda b: _need_text(b, "opinion"),
    "NotAccepted": lambda b: _need_text(b, "reason", "legal_basis"),
    "Reviewed": _reviewed_problem,
    "Decided": _decided_problem,
    "ResultIssued": lambda b: _need_text(b, "pdf_sha256", "seal_serial"),
    "DocumentIssued": lambda b: (
        _need_choice(b, "document", set(_NOTICE_WHEN))
        or _need_text(b, "document_number", "pdf_sha256", "seal_serial", "answers")
    ),
    "Delivered": lambda b: (
        _need_choice(b, "channel", {"window", "post", "electronic"})
        or _need_text(b, "recipient")
        or (_need_text(b, "document") if "document" in b else None)
    ),
    "Suspended": lambda b: _need_text(b, "reason"),
    "Resumed": lambda b: _need_text(b, "reason"),
    "Withdrawn": lambda b: _need_text(b, "reason"),
    "ResultRevoked": lambda b: _need_text(b, "reason", "legal_basis"),
}


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
    problem = _directory_problem(directory, env)
    if problem:
        found.append(Violation(*problem))
    return found


def _directory_problem(directory: DirectoryState, env: Envelope) -> tuple[str, str] | None:
    body = env.body
    try:
        if env.type == "StaffEnrolled":
            problem = _need_text(body, "staff", "name", "unit", "id_number")
            if problem is None and body["staff"] in directory.staff:
                return "directory.invalid", f"{body['staff']} is already enrolled"
        elif env.type == "KeyAdded":
            problem = _need_text(body, "staff", "public_key")
            if problem is None:
                if body["staff"] not in directory.staff:
                    return "directory.invalid", f"{body['staff']} is not enrolled"
                if key_id(public_key_from_b64(body["public_key"])) in directory.keys:
                    return "directory.invalid", "that key is already in the directory"
        elif env.type == "KeyRevoked":
            problem = _need_text(body, "key_id", "reason")
            if problem is None and body["key_id"] not in directory.keys:
                return "directory.invalid", f"no key {body['key_id']}"
            if problem is None and "void_from" in body:
                parse_time(body["void_from"])
        elif env.type == "RoleGranted":
            return _grant_problem(directory, body)
        elif env.type == "RoleRevoked":
            problem = _need_text(body, "grant", "reason")
            if problem is None and body["grant"] not in directory.grants:
                return "directory.invalid", f"no grant {body['grant']}"
        else:
            return _matter_problem(directory, env)
    except EnvelopeError as exc:
        return "body.invalid", exc.message
    return ("body.invalid", problem) if problem else None


def _grant_problem(directory: DirectoryState, body: dict[str, Any]) -> tuple[str, str] | None:
    # An unreadable grant is body.invalid; one that names an unknown person or reuses a grant id
    # contradicts the directory, like a second StaffEnrolled or KeyAdded does.
    problem = _need_text(body, "grant", "staff", "role", "unit")
    if problem:
        return "body.invalid", problem
    if body["role"] not in STAFF_ROLES:
        return "body.invalid", f"role {body['role']!r} is not one of {sorted(STAFF_ROLES)}"
    parse_time(body.get("valid_from"))
    if body.get("valid_until") is not None:
        parse_time(body["valid_until"])
    matters = body.get("matters")
    if not isinstance(matters, list) or not matters or not all(isinstance(m, str) for m in matters):
        return "body.invalid", "body.matters must be a list of matter codes or ['*']"
    if body["staff"] not in directory.staff:
        return "directory.invalid", f"{body['staff']} is not enrolled"
    if body["grant"] in directory.grants:
        return "directory.invalid", f"grant id {body['grant']} is already used"
    return None


def _matter_problem(directory: DirectoryState, env: Envelope) -> tuple[str, str] | None:
    matter = matter_from_body(env.body, env.at)
    latest = directory.latest_matter(matter.code)
    if env.type == "MatterDefined" and (latest is not None or matter.version != 1):
        return "directory.invalid", f"matter {matter.code} exists or version is not 1"
    if env.type == "MatterRevised" and (latest is None or matter.version != latest.version + 1):
        return "directory.invalid", f"matter {matter.code} revision must be the next version"
    return None
