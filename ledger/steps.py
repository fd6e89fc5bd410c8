"""The case steps, each defined once.

:data:`STEPS` is the one table of the case-step machine. An entry says which states a step
may follow and which it leads to, who may take it, how its body is read (once, into a typed
frozen value; an unreadable body is ``body.invalid``), its Chinese and English names, the
body a client fills in, and whether a queue offers it. The rules (:mod:`ledger.policy`), the
fold (:mod:`ledger.state`), the read models' next step, drafts, the command line, the
verifier's timeline and the web pages all read this table; adding a step type is one entry
here (and its body type above it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger import delivery
from ledger import reform_steps as reform
from ledger.delivery import DeliveredBody, DeliveryOutcomeBody
from ledger.directory import Matter
from ledger.envelope import Actor, Envelope, draft_envelope
from ledger.errors import DraftRefused, EnvelopeError
from ledger.reform_bodies import (
    AcceptedBody,
    PromiseBody,
    RatedBody,
    RectificationBody,
    TerminationBody,
    VerifiedBody,
)
from ledger.step_bodies import (
    AppliedBody,
    DecidedBody,
    ExtendedBody,
    ReasonBody,
    ReasonedActBody,
    RequestBody,
    ReturnedBody,
    ReviewedBody,
    RevokedBody,
    SealedBody,
    SupervisionBody,
    SupplementBody,
    choice,
    describe_applied,
    describe_items,
    text,
)

if TYPE_CHECKING:
    from ledger.state import CaseState

__all__ = [
    "CASE_STEP_TYPES",
    "STATES",
    "STEPS",
    "State",
    "Step",
    "catalogue",
    "draft_next",
    "next_step",
    "open_steps",
    "read_body",
]

Effect = Callable[["CaseState", Envelope, Any], dict[str, Any]]
Offer = Callable[["CaseState", Matter | None], tuple[str, str | None] | None]


def role_capacity(role: str) -> str | None:
    """The duty a role takes on a case, for separation of duties (None: no duty)."""
    return role if role in ("handler", "approver") else None


def _offered_to(role: str, when: Callable[[CaseState, Matter | None], bool] | None = None) -> Offer:
    def offer(state: CaseState, matter: Matter | None) -> tuple[str, str | None] | None:
        return (role, role_capacity(role)) if when is None or when(state, matter) else None

    return offer


def _levels(matter: Matter | None) -> int:
    return len(matter.review_levels) if matter else 0


def _needs_seal(state: CaseState, matter: Matter | None) -> bool:
    return state.outcome == "approved" and (matter is None or matter.seal_issued)


@dataclass(frozen=True, slots=True)
class Step:
    """One case step type. ``leads_to`` None means the step returns the case to where it
    was before (the effect says where); ``order`` and ``actor`` name what else the rules ask
    of the step's place and signer (None = nothing); ``offer`` is the (role, capacity) a
    queue offers the step to in a given state, or None when a queue does not offer it;
    ``drafted`` gives the body members a draft takes from the case (the next review level);
    ``answers`` marks the steps that answer an application (受理, 不予受理, 补正), which its
    first time limit counts to.

    ``effect`` and ``capacity`` take the typed body, or None when it cannot be read: an
    audit folds a refused step as far as it can, so one bad step is reported once.
    """

    name: str
    zh: str
    en: str
    follows: frozenset[str | None]
    leads_to: str | None
    roles: frozenset[str]
    read: Callable[[dict[str, Any]], Any]
    template: Mapping[str, Any]
    effect: Effect | None = None
    order: Callable[[CaseState, Matter | None, Any], str | None] | None = None
    actor: Callable[[Matter | None, Any, str], str | None] | None = None
    capacity: Callable[[str, Any], str | None] | None = None
    offer: Offer | None = None
    answers: bool = False
    describe: Callable[[dict[str, Any]], str] | None = None
    drafted: Callable[[CaseState], dict[str, Any]] | None = None
    # Whether the step may be taken now at all, beyond the states it follows (the case page
    # lists these steps; the queue offers one of them).
    open_when: Callable[[CaseState, Matter | None], bool] | None = None

    def capacity_of(self, role: str, body: Any) -> str | None:
        return self.capacity(role, body) if self.capacity else role_capacity(role)


@dataclass(frozen=True, slots=True)
class State:
    """A case state: open or closed, its name for the public, and its short name in queues."""

    open: bool
    zh: str
    queue_zh: str


STATES: dict[str, State] = {
    "applied": State(True, "已申请，待受理", "待受理"),
    "awaiting_supplement": State(True, "待补正", "待补正"),
    "accepted": State(True, "已受理", "已受理"),
    "in_review": State(True, "审查中", "审查中"),
    "suspended": State(True, "中止（暂停计时）", "中止"),
    "decided": State(True, "已决定", "已决定"),
    "result_issued": State(True, "已出证", "已出证"),
    "delivered": State(False, "已送达（办结）", "已送达"),
    "not_accepted": State(False, "不予受理", "不予受理"),
    "withdrawn": State(False, "已撤回", "已撤回"),
    "revoked": State(False, "已撤销", "已撤销"),
    "terminated": State(False, "终止办理（容缺材料逾期未补齐）", "已终止"),
}


# Effects beyond the status, and the order each step asks for --------------------------------


def _applied(state: CaseState, env: Envelope, body: AppliedBody | None) -> dict[str, Any]:
    if body is None:
        return {}
    by_applicant = env.actor.role == "applicant"
    return {
        "matter_code": body.matter_code,
        "matter_version": body.matter_version,
        "applicant": dict(body.applicant),
        "applicant_actor": env.actor.id if by_applicant else None,
        "applicant_key": body.applicant_key if by_applicant else None,
        "applied_at": env.at,
        "materials": body.materials,
    }


def _suspended(state: CaseState, env: Envelope, body: ReasonBody | None) -> dict[str, Any]:
    from ledger.state import SuspensionSpan

    span = SuspensionSpan(env.at, None, body.reason if body else "")
    return {"resume_to": state.status, "suspensions": (*state.suspensions, span)}


def _resumed(state: CaseState, env: Envelope, body: ReasonBody | None) -> dict[str, Any]:
    from dataclasses import replace

    *earlier, last = state.suspensions

    return {
        "status": state.resume_to,
        "resume_to": None,
        "suspensions": (*earlier, replace(last, end=env.at)),
    }


def _revoked_document(state: CaseState) -> dict[str, Any]:
    # The revocation names the document it ends.
    return {"result": state.result_sha256} if state.result_sha256 else {}


def _first_issue(state: CaseState, matter: Matter | None) -> bool:
    # A queue offers the first issue; a re-issue is the seal service's own decision.
    return state.status == "decided" and _needs_seal(state, matter)


def _review_order(state: CaseState, matter: Matter | None, body: ReviewedBody) -> str | None:
    if body.level != state.reviews_done + 1 or body.level > _levels(matter):
        return f"review level {body.level} is not next (done {state.reviews_done})"
    return None


def _review_actor(matter: Matter | None, body: ReviewedBody, role: str) -> str | None:
    if matter is None or not 1 <= body.level <= len(matter.review_levels):
        return None
    wanted = matter.review_levels[body.level - 1].role
    return None if wanted == role else f"review level {body.level} needs {wanted}"


def _standing_disagreement(state: CaseState) -> bool:
    """Whether the latest standing review says 不同意 (the queue then offers 退回)."""
    return bool(state.opinions) and state.opinions[-1] == "disagree"


def _next_review(state: CaseState, matter: Matter | None) -> tuple[str, str | None] | None:
    if state.reviews_done >= _levels(matter) or _standing_disagreement(state):
        return None
    assert matter is not None  # noqa: S101 - _levels is 0 without a matter
    level = matter.review_levels[state.reviews_done]
    return level.role, f"reviewer:{level.level}"


def _review_capacity(role: str, body: ReviewedBody | None) -> str | None:
    # A handler stays the handler whatever step they sign (the rules refuse this one).
    if role == "handler" or body is None:
        return role_capacity(role)
    return f"reviewer:{body.level}"


def _decidable(state: CaseState, matter: Matter | None) -> bool:
    return (
        state.reviews_done >= _levels(matter)
        and not state.reform.tolerated_missing
        and "disagree" not in state.opinions
    )


def _decide_order(state: CaseState, matter: Matter | None, body: DecidedBody) -> str | None:
    open_levels = _levels(matter) - state.reviews_done
    if open_levels > 0:
        return f"{open_levels} review level(s) still open"
    if body.outcome == "approved" and "disagree" in state.opinions:
        # A 不同意 stands until it is answered by 退回; an approver may deny over it.
        return "an approval may not stand over a 不同意 review (退回 it first)"
    return None


def _return_order(state: CaseState, matter: Matter | None, body: ReturnedBody) -> str | None:
    if body.level != state.reviews_done or not _standing_disagreement(state):
        return f"退回 answers the standing 不同意 review of level {state.reviews_done}"
    return None


def _returned(state: CaseState, env: Envelope, body: ReturnedBody | None) -> dict[str, Any]:
    # Back to the level before the one that disagreed: its review is taken again (from
    # level 1 back to the acceptance, so the first review starts over).
    level = body.level if body else state.reviews_done
    kept = state.opinions[: max(level - 2, 0)]
    return {
        "reviews_done": len(kept),
        "opinions": kept,
        "status": "in_review" if kept else "accepted",
    }


def _return_offer(state: CaseState, matter: Matter | None) -> tuple[str, str | None] | None:
    if not _standing_disagreement(state) or not 1 <= state.reviews_done <= _levels(matter):
        return None
    assert matter is not None  # noqa: S101 - _levels is 0 without a matter
    return matter.review_levels[state.reviews_done - 1].role, f"reviewer:{state.reviews_done}"


def _reviewed(state: CaseState, env: Envelope, body: ReviewedBody | None) -> dict[str, Any]:
    opinion = body.opinion if body else ""
    return {"reviews_done": state.reviews_done + 1, "opinions": (*state.opinions, opinion)}


def _issue_order(state: CaseState, matter: Matter | None, body: SealedBody) -> str | None:
    # A re-issue names the document it supersedes, a revocation the document it ends: always
    # the one in force, so that every document's fate can be told from the case alone.
    if state.outcome != "approved":
        return "a result is issued only for an approved decision"
    if body.supersedes != state.result_sha256:
        return f"body.supersedes must name the document in force ({state.result_sha256})"
    if body.supersedes == body.pdf_sha256:
        return "a document cannot supersede itself"
    return None


def _revoke_order(state: CaseState, matter: Matter | None, body: RevokedBody) -> str | None:
    if body.result == state.result_sha256:
        return None
    if state.result_sha256 is None:
        return "body.result names a document, but this case issued none"
    return f"body.result must name the document revoked ({state.result_sha256})"


def _deliver_order(
    state: CaseState, matter: Matter | None, body: DeliveredBody | None
) -> str | None:
    return delivery.deliver_order(state, matter, body, _needs_seal(state, matter))


def _extension_order(state: CaseState, matter: Matter | None, body: ExtendedBody) -> str | None:
    most = matter.extension_days if matter else 0
    if state.extended_days + body.days > most:
        return f"延期 of {body.days} day(s) exceeds the matter's maximum of {most} working days"
    return None


# Which case a notice may be issued on: the step it answers must have happened.
_NOTICE_WHEN: dict[str, Callable[[CaseState], bool]] = {
    "acceptance": lambda s: s.accepted_at is not None,
    "supplement": lambda s: s.supplement_requested_at is not None,
    "not_accepted": lambda s: s.status == "not_accepted",
    "extension": lambda s: s.extended_days > 0,
    "denial": lambda s: s.outcome == "denied",
    "revocation": lambda s: s.status == "revoked",
}


def _notice_body(body: dict[str, Any]) -> tuple[str, str]:
    """(type, SHA-256) of a DocumentIssued body; EnvelopeError if a member is missing."""
    kind = choice(body, "document", frozenset(_NOTICE_WHEN))
    for name in ("document_number", "seal_serial", "answers"):
        text(body, name)
    return kind, text(body, "pdf_sha256")


def _notice_order(state: CaseState, matter: Matter | None, body: tuple[str, str]) -> str | None:
    kind, sha256 = body
    if not _NOTICE_WHEN[kind](state):
        return f"a {kind} notice answers a step this case has not taken"
    if sha256 in state.documents:
        return "this document is recorded already"
    return None


def _notice_kept(state: CaseState, env: Envelope, body: Any) -> dict[str, Any]:
    # A notice leaves the case where it stands.
    if not body:
        return {"status": state.status}
    kinds = (*state.document_types, (body[1], body[0]))
    return {
        "status": state.status,
        "documents": (*state.documents, body[1]),
        "document_types": kinds,
    }


_AFTER_APPLICATION = frozenset(
    {"applied", "awaiting_supplement", "accepted", "in_review", "suspended", "decided",
     "result_issued", "delivered", "not_accepted", "withdrawn", "revoked"}
)  # fmt: skip


def _reason(body: dict[str, Any]) -> str:
    return str(body.get("reason", ""))


_SERVED_FROM = frozenset({"decided", "result_issued", "not_accepted", "delivered"})
_POSTED = frozenset({"delivered", "not_accepted"})
_OPEN_TO_WITHDRAW = frozenset(
    {"applied", "awaiting_supplement", "accepted", "in_review", "suspended"}
)
_PARTY = frozenset({"applicant", "handler"})
_ON_THE_CLOCK = frozenset({"accepted", "in_review", "suspended"})
_RATED = frozenset({"delivered", "revoked"})
_HANDLER = frozenset({"handler"})

_TABLE = (
    Step("Applied", "申请", "application", frozenset({None}), "applied", _PARTY,
         AppliedBody.read, {}, effect=_applied, describe=describe_applied),
    Step("SupplementRequested", "补正告知", "supplement requested", frozenset({"applied"}),
         "awaiting_supplement", _HANDLER, SupplementBody.read, {"items": [], "notice": ""},
         effect=reform.supplement_asked, answers=True,
         describe=describe_items),
    Step("SupplementProvided", "补正材料", "supplement provided",
         frozenset({"awaiting_supplement"}), None, _PARTY, RequestBody.read,
         {"materials": []}, effect=reform.supplement_provided, offer=_offered_to("applicant"),
         describe=lambda b: f"{len(b.get('materials') or [])} material(s) added"),
    Step("Accepted", "受理", "accepted", frozenset({"applied"}), "accepted", _HANDLER,
         AcceptedBody.read, {"opinion": ""}, effect=reform.accepted,
         offer=_offered_to("handler"), answers=True,
         describe=lambda b: f"accepted: {b.get('opinion')}"),
    Step("NotAccepted", "不予受理", "not accepted", frozenset({"applied"}), "not_accepted",
         _HANDLER, ReasonedActBody.read, {"reason": "", "legal_basis": ""}, answers=True,
         describe=lambda b: f"not accepted: {b.get('reason')}"),
    Step("Reviewed", "审查", "reviewed", frozenset({"accepted", "in_review"}), "in_review",
         frozenset({"reviewer", "approver"}), ReviewedBody.read,
         {"level": 1, "opinion": "agree", "comments": "", "basis": ""},
         effect=_reviewed, order=_review_order,
         actor=_review_actor, capacity=_review_capacity,
         offer=_next_review, drafted=lambda s: {"level": s.reviews_done + 1},
         open_when=lambda s, m: s.reviews_done < _levels(m),
         describe=lambda b: f"level {b.get('level')} {b.get('opinion')}: {b.get('comments')}"),
    Step("Decided", "决定", "decided", frozenset({"accepted", "in_review"}), "decided",
         frozenset({"approver"}), DecidedBody.read,
         {"outcome": "approved", "decision": "", "legal_basis": ""},
         effect=lambda s, e, b: {"outcome": b.outcome if b else None, "decided_at": e.at},
         order=lambda s, m, b: _decide_order(s, m, b) or reform.decide_blocked(s),
         offer=_offered_to("approver", _decidable),
         open_when=lambda s, m: s.reviews_done >= _levels(m),
         describe=lambda b: f"{b.get('outcome')}: {b.get('decision')}"),
    # From result_issued only as a re-issue that names the document it supersedes.
    Step("ResultIssued", "出证", "result issued", frozenset({"decided", "result_issued"}),
         "result_issued", frozenset({"seal_service"}), SealedBody.read,
         {"pdf_sha256": "", "seal_serial": ""}, order=_issue_order,
         effect=lambda s, e, b: (
             {"result_sha256": b.pdf_sha256, "documents": (*s.documents, b.pdf_sha256),
              "document_types": (*s.document_types, (b.pdf_sha256, "approval"))}
             if b else {}
         ),
         offer=_offered_to("seal_service", _first_issue), open_when=_first_issue,
         describe=lambda b: f"sealed result {str(b.get('pdf_sha256'))[:16]}…"),
    Step("DocumentIssued", "出具文书", "document issued", _AFTER_APPLICATION, None,
         frozenset({"seal_service"}), _notice_body, {}, effect=_notice_kept,
         order=_notice_order,
         describe=lambda b: f"sealed {b.get('document')} notice {b.get('document_number')}"),
    # Also a refusal's notice, and again after a return (退件); the case keeps its status then.
    Step("Delivered", "送达", "delivered", _SERVED_FROM, "delivered",
         _HANDLER, DeliveredBody.read, {"channel": "window", "recipient": ""},
         order=_deliver_order, effect=delivery.delivered_effect, drafted=delivery.drafted,
         offer=_offered_to(
             "handler", lambda s, m: delivery.offered(s) and _deliver_order(s, m, None) is None
         ),
         open_when=lambda s, m: _deliver_order(s, m, None) is None,
         describe=lambda b: f"delivered by {b.get('channel')} to {b.get('recipient')}"),
    Step("Suspended", "中止", "suspended", frozenset({"accepted", "in_review"}), "suspended",
         _HANDLER, ReasonBody.read, {"reason": ""}, effect=_suspended),
    Step("Resumed", "恢复计时", "resumed", frozenset({"suspended"}), None, _HANDLER,
         ReasonBody.read, {"reason": ""}, effect=_resumed, offer=_offered_to("handler")),
    Step("Withdrawn", "撤回", "withdrawn", _OPEN_TO_WITHDRAW, "withdrawn", _PARTY,
         ReasonBody.read, {"reason": ""}),
    Step("ResultRevoked", "撤销", "result revoked", frozenset({"delivered"}), "revoked",
         frozenset({"approver"}), RevokedBody.read, {"reason": "", "legal_basis": ""},
         order=lambda s, m, b: _revoke_order(s, m, b) or reform.revocation_names_promise(s, b),
         drafted=_revoked_document),
    Step("DeliveryReceived", "签收", "delivery received", _POSTED, None,
         _HANDLER, DeliveryOutcomeBody.read, {"tracking_number": ""},
         order=delivery.outcome_order, effect=delivery.outcome_effect("received")),
    Step("DeliveryReturned", "退件", "delivery returned", _POSTED, None,
         _HANDLER, DeliveryOutcomeBody.read_return, {"tracking_number": "", "reason": ""},
         order=delivery.outcome_order, effect=delivery.outcome_effect("returned")),
    # The reform modes (ledger.reform): 告知承诺, 容缺受理, 好差评.
    Step("Promised", "告知承诺", "promise made", frozenset({"applied"}), None, _PARTY,
         PromiseBody.read, {"replaces": [], "statement": "", "exclusions_declared": []},
         effect=reform.promised, order=reform.promise_order,
         open_when=lambda s, m: m is not None and m.reform.promises and s.reform.promise is None,
         describe=lambda b: f"promises in place of: {', '.join(b.get('replaces') or [])}"),
    Step("ToleratedProvided", "容缺补齐", "tolerated materials provided", _ON_THE_CLOCK, None,
         _PARTY, RequestBody.read, {"materials": []}, effect=reform.tolerated_provided,
         order=reform.tolerated_order,
         offer=_offered_to("applicant", lambda s, m: bool(s.reform.tolerated_missing)),
         open_when=lambda s, m: bool(s.reform.tolerated_missing),
         describe=lambda b: f"{len(b.get('materials') or [])} tolerated material(s) added"),
    Step("TerminatedForMissing", "容缺终止", "terminated for missing materials", _ON_THE_CLOCK,
         "terminated", _HANDLER, TerminationBody.read, {"reason": "", "missing": []},
         order=reform.termination_order, open_when=lambda s, m: bool(s.reform.tolerated_missing)),
    Step("Verified", "核查", "promise verified", frozenset({"delivered"}), None,
         frozenset({"handler", "reviewer"}), VerifiedBody.read,
         {"outcome": "passed", "findings": ""}, effect=reform.verified,
         order=reform.verified_order,
         open_when=lambda s, m: s.reform.accepted_on_promise and s.reform.verification is None,
         describe=lambda b: f"verification {b.get('outcome')}: {b.get('findings')}"),
    Step("Rated", "评价", "rated", _RATED, None, frozenset({"applicant", "seal_service"}),
         RatedBody.read, {"level": "满意", "channel": "online", "indicators": {}},
         effect=reform.rated, order=reform.rated_order, actor=reform.rated_actor,
         open_when=lambda s, m: s.reform.rating is None,
         describe=lambda b: f"rated {b.get('level')}"
         + (" (with the query code, recorded by the seal service)" if b.get("on_behalf") else "")),
    Step("RectificationReplied", "差评整改", "rectification replied", _RATED, None,
         frozenset({"handler", "approver"}), RectificationBody.read,
         {"reply": "", "measures": ""}, effect=reform.rectified, order=reform.rectified_order,
         open_when=lambda s, m: s.reform.poor and s.reform.rectified_at is None,
         describe=lambda b: f"rectified: {b.get('measures')}"),
    Step("Extended", "延期", "extended", frozenset({"accepted", "in_review"}), None,
         frozenset({"approver"}), ExtendedBody.read, {"days": 10, "reason": "", "notice": ""},
         effect=lambda s, e, b: {"status": s.status,
                                 "extended_days": s.extended_days + (b.days if b else 0)},
         order=_extension_order, describe=lambda b: f"+{b.get('days')} days: {b.get('reason')}"),
    Step("SupervisionOrdered", "督办", "supervision order",
         frozenset({"applied", "awaiting_supplement", "accepted", "in_review", "suspended",
                    "decided", "result_issued"}), None,
         frozenset({"supervisor"}), SupervisionBody.read, {"order": "", "due": None},
         effect=lambda s, e, b: {"status": s.status,
                                 "supervision_orders": s.supervision_orders + 1},
         describe=lambda b: f"supervision order: {b.get('order')}"),
    Step("Returned", "退回", "returned", frozenset({"in_review"}), None,
         frozenset({"reviewer", "approver"}), ReturnedBody.read, {"level": 1, "reason": ""},
         effect=_returned, order=_return_order, actor=_review_actor, capacity=_review_capacity,
         offer=_return_offer, drafted=lambda s: {"level": s.reviews_done},
         open_when=lambda s, m: _return_offer(s, m) is not None,
         describe=lambda b: f"level {b.get('level')} returned: {b.get('reason')}"),
)  # fmt: skip

STEPS: dict[str, Step] = {step.name: step for step in _TABLE}
CASE_STEP_TYPES = frozenset(STEPS)


# What the rest of caseledger asks of the table ------------------------------------------------


def read_body(envelope: Envelope) -> Any:
    """The step's body as its typed value; raise EnvelopeError (``body.invalid``) if wrong."""
    try:
        return STEPS[envelope.type].read(envelope.body)
    except EnvelopeError as exc:
        raise EnvelopeError(exc.message, code="body.invalid") from None


def next_step(state: CaseState, matter: Matter | None) -> tuple[str, str, str | None] | None:
    """(step, role, capacity) a queue offers a case in ``state``, or None (closed, or
    waiting for nobody in particular)."""
    for step in _TABLE:
        if step.offer is not None and state.status in step.follows:
            offered = step.offer(state, matter)
            if offered is not None:
                return step.name, offered[0], offered[1]
    return None


def open_steps(state: CaseState, matter: Matter | None) -> list[str]:
    """Every step a case in ``state`` may take now (by the table; who may take it is the
    rules' question), in table order: what a case page offers beside the queue's step."""
    return [
        step.name
        for step in _TABLE
        if state.status in step.follows
        and (step.open_when is None or step.open_when(state, matter))
    ]


def draft_next(
    state: CaseState,
    step_type: str,
    *,
    signer: tuple[str, str],
    at: datetime,
    may: Callable[[str], bool],
    offered_role: str | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    """The unsigned next envelope of a case for ``signer`` (principal, key id) to fill in.

    The role is ``role`` if given, else the one the queue offers the step to
    (``offered_role``) if the signer ``may`` take it, else the first allowed role they may.
    Raises DraftRefused: ``step.unknown``, ``order.not_allowed`` or ``role.missing``.
    """
    step = STEPS.get(step_type)
    if step is None:
        raise DraftRefused(f"{step_type!r} is not a case step", code="step.unknown")
    if state.status not in step.follows:
        raise DraftRefused(f"{step_type} may not follow {state.status}", code="order.not_allowed")
    if role is None:
        candidates = [offered_role] if offered_role else []
        role = next((r for r in [*candidates, *sorted(step.roles)] if may(r)), None)
    if role is None:
        raise DraftRefused(f"{step_type} needs one of {sorted(step.roles)}", code="role.missing")
    body = {**step.template, **(step.drafted(state) if step.drafted else {})}
    return draft_envelope(
        stream=state.stream,
        seq=state.seq + 1,
        step_type=step_type,
        at=at,
        actor=Actor(signer[0], role, signer[1]),
        prev=state.head_hash,
        body=body,
    )


def describe(step_type: str, body: dict[str, Any]) -> str:
    """A one-line English reading of a step's body, cut short; never raises."""
    step = STEPS.get(step_type)
    try:
        text = step.describe(body) if step and step.describe else _reason(body)
    except (AttributeError, TypeError, ValueError):
        text = ""
    return text if len(text) <= 120 else text[:119] + "…"


def catalogue() -> dict[str, Any]:
    """The table as JSON, for clients and the web pages (with each step's form)."""
    from ledger.step_forms import ROLES, forms_json

    return {
        "forms": forms_json(),
        "roles": {r: {"zh": zh, "en": en, "duty": duty} for r, (zh, en, duty) in ROLES.items()},
        "steps": {
            step.name: {
                "zh": step.zh,
                "en": step.en,
                "follows": sorted(step.follows, key=lambda s: s or ""),
                "leads_to": step.leads_to,
                "roles": sorted(step.roles),
                "template": dict(step.template),
            }
            for step in _TABLE
        },
        "states": {
            name: {"open": state.open, "zh": state.zh, "queue_zh": state.queue_zh}
            for name, state in STATES.items()
        },
    }
