"""What the routes do, between the schemas and the ledger: one function per use.

Every function takes the organisation's services and plain values, returns a response
model, and raises CaseLedgerError family errors (api.errors turns them into statuses).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from api.auth import Identity, query_code
from api.calendars import calendars_out
from api.deps import Services
from api.errors import ApiError
from api.personal import applicant_number, handles_case
from api.reform import materials_standing
from api.schemas import (
    AppendOut,
    CaseDetailOut,
    CaseOut,
    DirectoryOut,
    DraftOut,
    HistoryItem,
    PublicCaseOut,
    TimingOut,
    WatchOut,
)
from api.supervising import clock_details
from ledger import steps
from ledger.admission import sign_admission
from ledger.directory import DirectoryState, Matter
from ledger.envelope import Envelope, format_time
from ledger.errors import DraftRefused, EnvelopeError, StreamNotFound
from ledger.masking import public_name
from ledger.personal import Opening, is_commitment
from ledger.state import case_id_of_number
from ledger.steps import STATES
from ledger.store.application import AppendResult
from ledger.store.read_models import CaseSummary
from ledger.timelimits import local_date

__all__ = [
    "append_envelope",
    "case_detail",
    "case_out",
    "directory_out",
    "draft_next",
    "public_case",
    "queue",
    "watch",
]

CASE_ROLES = ("handler", "reviewer", "approver", "seal_service")
# A refused draft's code and the HTTP status it stands for.
DRAFT_STATUS = {"step.unknown": 422, "order.not_allowed": 409, "role.missing": 403}


# Writing ------------------------------------------------------------------------------------


async def append_envelope(
    services: Services,
    raw: bytes,
    now: datetime,
    *,
    address: str = "unknown",
    only_directory: bool = False,
    openings: list[Opening] | None = None,
) -> AppendOut:
    """Parse and append one signed envelope with the server clock; ``openings`` open the
    identity commitments it carries, for the private table. It runs on the event loop: the
    ledger's writer thread writes the envelope with the others queued, and no thread waits
    per request.

    An envelope in the applicant role is signed by a key nobody enrolled (self-service, no
    sign-in), so it first passes the applicants' size cap and rates (``address`` is the
    caller's); staff envelopes are signed by directory keys and are not held back.
    """
    envelope = Envelope.from_bytes(raw)
    if only_directory and not envelope.stream.startswith("directory:"):
        raise EnvelopeError("this endpoint takes directory envelopes only", code="envelope.stream")
    if envelope.actor.role == "applicant":
        services.applicants.admit(address, len(raw))
    # A stored envelope sent again is answered "replayed" before any clock check, so a
    # client retrying later still learns that it was stored.
    result = await services.ledger.append_async(envelope, now=now, openings=openings or ())
    if result.tree_size is None:
        # A replay: its receipt asks the log for its size, a read kept off the loop.
        return await asyncio.to_thread(_append_out, services, result, now)
    return _append_out(services, result, now)


def _append_out(services: Services, result: AppendResult, now: datetime) -> AppendOut:
    return AppendOut(
        stream=result.stream,
        seq=result.seq,
        hash=result.hash,
        leaf_index=result.leaf_index,
        position=result.position,
        replayed=result.replayed,
        receipt=_admission(services, result, now),
    )


def _admission(services: Services, result: AppendResult, now: datetime) -> dict[str, Any] | None:
    """The receipt of admission signed by the log key (None without a log or its key)."""
    key = services.log_signing_key()
    log = services.log
    if key is None or log is None or result.leaf_index is None:
        return None
    receipt = sign_admission(
        key,
        log=log.origin,
        envelope=(result.stream, result.seq, result.hash),
        leaf_index=result.leaf_index,
        # The batch's tree size when the envelope was logged with it; a replay asks the log.
        tree_size=result.tree_size or log.size(),
        admitted_at=now,
    )
    return receipt.to_json()


# Reading: staff -----------------------------------------------------------------------------


def case_out(summary: CaseSummary, now: datetime, near_days: int) -> CaseOut:
    timing = summary.assess(now, near_days)
    applicant = summary.applicant_name
    return CaseOut(
        case_id=summary.case_id,
        case_number=summary.case_number,
        status=summary.status,
        matter=summary.matter_code,
        matter_name=summary.matter_name,
        unit=summary.unit,
        applicant=applicant,
        next_step=summary.next_step,
        next_role=summary.next_role,
        applied_at=format_time(summary.applied_at),
        last_at=format_time(summary.last_at),
        seq=summary.seq,
        timing=TimingOut(
            committed_deadline=_day(timing.committed_deadline),
            statutory_deadline=_day(timing.statutory_deadline),
            used_days=timing.used_days,
            remaining_days=timing.remaining_days,
            paused=timing.paused,
            overdue=timing.overdue,
            near_due=timing.near_due,
            card=timing.card,
            overran_stages=[s.name for s in timing.stages if s.overran],
            **clock_details(summary, timing),
        ),
    )


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _may_take(summary: CaseSummary, who: Identity, own: Callable[[str], bool]) -> bool:
    """Whether ``who`` may take the case's next step: role for the matter, no second
    capacity on the case, not their own case (``own`` of the applicant's commitment)."""
    if summary.next_role is None or not who.may(summary.next_role, summary.matter_code):
        return False
    if summary.capacities_of(who.principal) - {summary.next_capacity}:
        return False
    return not own(summary.applicant_id_number)


def queue(services: Services, who: Identity, role: str, now: datetime) -> list[CaseOut]:
    """What waits for ``who`` in ``role``; ApiError 403 if they do not hold it."""
    if role not in CASE_ROLES or not who.may(role):
        raise ApiError(403, "role.missing", f"{who.principal} does not hold the role {role}")
    own = own_case_test(services, who.principal)
    settings = services.settings
    return [
        case_out(s, now, settings.near_due_days)
        for s in services.read_models.waiting_for(role, limit=settings.page_limit * 5)
        if _may_take(s, who, own)
    ][: settings.page_limit]


def own_case_test(services: Services, principal: str) -> Callable[[str], bool]:
    """Whether an applicant's identity commitment is ``principal``'s own (private table)."""
    staff = services.ledger.directory().staff.get(principal)
    personal = services.ledger.personal
    if staff is None:
        return lambda _commitment: False
    mine = staff.id_commitment
    if personal is None:
        return lambda commitment: commitment == mine
    return lambda commitment: is_commitment(commitment) and personal.same_person(commitment, mine)


def _visible_case(services: Services, who: Identity, case_id: uuid.UUID) -> CaseSummary:
    summary = services.read_models.case(f"case:{case_id}")
    if summary is None:
        if services.read_models.set_aside_case(f"case:{case_id}") is not None:
            raise ApiError(
                503, "case.set_aside", "该案件的摘要暂不可用（已搁置），管理员可在搁置列表中查看"
            )
        raise StreamNotFound(f"no case {case_id}")
    if who.may("supervisor") or any(who.may(r, summary.matter_code) for r in CASE_ROLES):
        return summary
    raise ApiError(403, "role.missing", "your roles do not cover this case's matter")


def case_detail(
    services: Services, who: Identity, case_id: uuid.UUID, now: datetime
) -> CaseDetailOut:
    """State and history of one case, for staff whose roles cover it."""
    summary = _visible_case(services, who, case_id)
    events = list(services.ledger.events(summary.stream))
    state = services.ledger.case_state(summary.stream)
    applicant = dict(state.applicant)
    if handles_case(who, state, summary.matter_code, summary.next_role):
        number = applicant_number(
            services.ledger, state, reader=who.principal, purpose="case detail", now=now
        )
        if number is not None:
            applicant["id_number"] = number
    return CaseDetailOut(
        case=case_out(summary, now, services.settings.near_due_days),
        applicant=applicant,
        participants=[{"person": p.person, "capacity": p.capacity} for p in state.participants],
        outcome=state.outcome,
        head_seq=state.seq,
        head_hash=state.head_hash,
        query_code=query_code(services.secret, summary.case_id) if who.may("handler") else None,
        history=[
            HistoryItem(
                seq=e.seq,
                type=e.type,
                at=e.at_text,
                actor=e.actor.to_json(),
                hash=e.hash,
                body=e.body,
                envelope=e.text,
            )
            for e in events
        ],
        materials=materials_standing(state, services.ledger.directory()),
    )


def draft_next(
    services: Services, who: Identity, case_id: uuid.UUID, step_type: str, now: datetime
) -> DraftOut:
    """The unsigned next envelope of a case for ``who`` to fill in and sign."""
    summary = _visible_case(services, who, case_id)
    state = services.ledger.case_state(summary.stream)
    offered = summary.next_role if summary.next_step == step_type else None
    try:
        draft = steps.draft_next(
            state,
            step_type,
            signer=(who.principal, who.key_id),
            at=now,
            may=lambda role: who.may(role, summary.matter_code),
            offered_role=offered,
        )
    except DraftRefused as exc:
        raise ApiError(DRAFT_STATUS.get(exc.code, 422), exc.code, exc.message) from None
    return DraftOut(draft=draft, body_template=draft["body"])


def _when(at: datetime | None) -> str | None:
    return format_time(at) if at is not None else None


def directory_out(directory: DirectoryState) -> DirectoryOut:
    """The directory as admins see it (identity numbers left out)."""
    staff = [
        {"id": s.id, "name": s.name, "unit": s.unit, "recorded_at": _when(s.recorded_at)}
        for s in directory.staff.values()
    ]
    keys = [
        {
            "key_id": k.key_id,
            "owner": k.owner,
            "public_key": base64.b64encode(k.public_key).decode(),
            "recorded_at": _when(k.recorded_at),
            "void_from": _when(k.void_from),
        }
        for k in directory.keys.values()
    ]
    grants = [
        {
            "grant": g.grant_id,
            "staff": g.staff,
            "role": g.role,
            "matters": list(g.matters),
            "unit": g.unit,
            "valid_from": _when(g.valid_from),
            "valid_until": _when(g.valid_until),
            "revoked_at": _when(g.revoked_at),
        }
        for g in directory.grants.values()
    ]
    return DirectoryOut(
        org=directory.org,
        seq=directory.seq,
        head_hash=directory.head_hash,
        staff=staff,
        keys=keys,
        grants=grants,
        matters=[matter_json(m) for versions in directory.matters.values() for m in versions],
        calendars=calendars_out(directory, days=False).calendars,
    )


def matter_json(m: Matter) -> dict[str, Any]:
    return {
        "code": m.code,
        "version": m.version,
        "name": m.name,
        "review_levels": [level.role for level in m.review_levels],
        "statutory_days": m.statutory_days,
        "committed_days": m.committed_days,
        "seal_issued": m.seal_issued,
        "legal_basis": m.legal_basis,
        "required_materials": list(m.required_materials),
        "result_template": m.result_template,
        "qualification": m.qualification,
    }


# Reading: supervision and public -----------------------------------------------------------


def watch(
    services: Services, kind: str, now: datetime, matter: str | None, unit: str | None
) -> WatchOut:
    """Overdue against the committed limit (``kind="overdue"``), against the statutory one
    (``"statutory"``), or near-due cases at ``now``."""
    today = local_date(now)
    near = services.settings.near_due_days
    # Working days are never fewer than calendar days: this horizon covers every near-due case.
    horizon = today + timedelta(days=near * 3 + 14) if kind == "near" else today
    cases = []
    for summary in services.read_models.on_the_clock(due_by=horizon, matter=matter, unit=unit):
        out = case_out(summary, now, near)
        wanted = {
            "overdue": out.timing.overdue,
            "statutory": out.timing.statutory_overdue,
            "near": out.timing.near_due,
        }
        if wanted[kind]:
            cases.append(out)
    return WatchOut(as_of=today.isoformat(), cases=cases[: services.settings.page_limit])


def _public_summary(services: Services, number: str, code: str) -> Any:
    """The case with that number if ``code`` is its query code; 404 if not, the same either
    way; 429 once the number (or all lookups) has had too many wrong codes."""
    services.queries.check(number)
    case_id = case_id_of_number(number.upper())
    expected = query_code(services.secret, case_id) if case_id else "-"
    if case_id is None or not hmac.compare_digest(expected.encode(), code.encode()):
        services.queries.missed(number)
        raise ApiError(404, "case.not_found", "未找到该办件：请核对受理号和查询密码")
    services.queries.found(number)
    stream = f"case:{case_id}"
    summary = services.read_models.case(stream)
    if summary is None or summary.case_number != number.upper():
        if summary is None and services.read_models.set_aside_case(stream) is not None:
            raise ApiError(503, "case.set_aside", "该办件暂时无法查询，请稍后再试或联系办理窗口")
        raise ApiError(404, "case.not_found", "未找到该办件：请核对受理号和查询密码")
    return summary


def public_result(services: Services, number: str, code: str) -> bytes:
    """The kept sealed result PDF of a case; 404 if the code is wrong or none was issued."""
    from api.results import result_file

    summary = _public_summary(services, number, code)
    if summary.status == "revoked":
        # A revoked result is not handed out again as if it held; its status says why.
        raise ApiError(409, "result.revoked", "该办理结果已被撤销 (the result was revoked)")
    stream = f"case:{summary.case_id}"
    path = result_file(services.home, services.ledger, stream) if services.home else None
    if path is None:
        raise ApiError(404, "result.not_found", "no sealed result has been issued for this case")
    return path.read_bytes()


def public_document(services: Services, number: str, code: str, doc_type: str) -> bytes:
    """The latest sealed document of ``doc_type`` of a case (a notice or the result); 404 if
    the code is wrong or none is kept."""
    from api.issuing import recorded_documents
    from api.results import kept_file

    summary = _public_summary(services, number, code)
    stream = f"case:{summary.case_id}"
    found = [d for d in recorded_documents(services.ledger, stream) if d.doc_type == doc_type]
    path = kept_file(services.home, stream, found[-1]) if found and services.home else None
    if path is None:
        raise ApiError(404, "document.not_found", "no such sealed document for this case")
    return path.read_bytes()


def public_case(services: Services, number: str, code: str) -> PublicCaseOut:
    """The public status of a case; the same 404 whether the number or the code is wrong."""
    from api.public_case import case_story

    summary = _public_summary(services, number, code)
    times = summary.times
    story = case_story(services.ledger, f"case:{summary.case_id}", summary.case_number, code)
    return PublicCaseOut(
        case_number=summary.case_number,
        matter_name=summary.matter_name,
        unit=summary.unit,
        status=summary.status,
        status_text=_status_text(summary.status),
        applicant=public_name(summary.applicant_name, summary.applicant_kind),
        applied_at=format_time(summary.applied_at),
        accepted_at=format_time(times.accepted_at) if times.accepted_at else None,
        decided_at=format_time(times.decided_at) if times.decided_at else None,
        outcome=summary.outcome,
        committed_deadline=_day(summary.assess(summary.last_at).committed_deadline),
        **story,
    )


def _status_text(status: str) -> str:
    state = STATES.get(status)
    return state.zh if state else status
