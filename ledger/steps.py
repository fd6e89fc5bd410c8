"""The case steps, each defined once.

:data:`STEPS` is the one table of the case-step machine. An entry says which states a step
may follow and which it leads to, who may take it, how its body is read (once, into a typed
frozen value; an unreadable body is ``body.invalid``), its Chinese and English names, the
body a client fills in, and whether a queue offers it. The rules (:mod:`ledger.policy`), the
fold (:mod:`ledger.state`), the read models' next step, drafts, the command line, the
verifier's timeline and the web pages all read this table; adding a step type is one entry
here (with its body type in :mod:`ledger.step_bodies` and, if it needs them, its effect and
order in :mod:`ledger.core_steps`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger import core_steps as core
from ledger import delivery
from ledger import reform_steps as reform
from ledger.core_steps import Offer, role_capacity
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
    describe_applied,
    describe_items,
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


# The table (its entries' effects and orders are in ledger.core_steps and ledger.reform_steps) --


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
         AppliedBody.read, {}, effect=core.applied, describe=describe_applied),
    Step("SupplementRequested", "补正告知", "supplement requested", frozenset({"applied"}),
         "awaiting_supplement", _HANDLER, SupplementBody.read, {"items": [], "notice": ""},
         effect=reform.supplement_asked, answers=True,
         describe=describe_items),
    Step("SupplementProvided", "补正材料", "supplement provided",
         frozenset({"awaiting_supplement"}), None, _PARTY, RequestBody.read,
         {"materials": []}, effect=reform.supplement_provided, offer=core.offered_to("applicant"),
         describe=lambda b: f"{len(b.get('materials') or [])} material(s) added"),
    Step("Accepted", "受理", "accepted", frozenset({"applied"}), "accepted", _HANDLER,
         AcceptedBody.read, {"opinion": ""}, effect=reform.accepted,
         offer=core.offered_to("handler"), answers=True,
         describe=lambda b: f"accepted: {b.get('opinion')}"),
    Step("NotAccepted", "不予受理", "not accepted", frozenset({"applied"}), "not_accepted",
         _HANDLER, ReasonedActBody.read, {"reason": "", "legal_basis": ""}, answers=True,
         describe=lambda b: f"not accepted: {b.get('reason')}"),
    Step("Reviewed", "审查", "reviewed", frozenset({"accepted", "in_review"}), "in_review",
         frozenset({"reviewer", "approver"}), ReviewedBody.read,
         {"level": 1, "opinion": "agree", "comments": "", "basis": ""},
         effect=core.reviewed, order=core.review_order,
         actor=core.review_actor, capacity=core.review_capacity,
         offer=core.next_review, drafted=lambda s: {"level": s.reviews_done + 1},
         open_when=lambda s, m: s.reviews_done < core.level_count(m),
         describe=lambda b: f"level {b.get('level')} {b.get('opinion')}: {b.get('comments')}"),
    Step("Decided", "决定", "decided", frozenset({"accepted", "in_review"}), "decided",
         frozenset({"approver"}), DecidedBody.read,
         {"outcome": "approved", "decision": "", "legal_basis": ""},
         effect=lambda s, e, b: {"outcome": b.outcome if b else None, "decided_at": e.at},
         order=lambda s, m, b: core.decide_order(s, m, b) or reform.decide_blocked(s),
         offer=core.offered_to("approver", core.decidable),
         open_when=lambda s, m: s.reviews_done >= core.level_count(m),
         describe=lambda b: f"{b.get('outcome')}: {b.get('decision')}"),
    # From result_issued only as a re-issue that names the document it supersedes.
    Step("ResultIssued", "出证", "result issued", frozenset({"decided", "result_issued"}),
         "result_issued", frozenset({"seal_service"}), SealedBody.read,
         {"pdf_sha256": "", "seal_serial": ""}, order=core.issue_order,
         effect=lambda s, e, b: (
             {"result_sha256": b.pdf_sha256, "documents": (*s.documents, b.pdf_sha256),
              "document_types": (*s.document_types, (b.pdf_sha256, "approval"))}
             if b else {}
         ),
         offer=core.offered_to("seal_service", core.first_issue), open_when=core.first_issue,
         describe=lambda b: f"sealed result {str(b.get('pdf_sha256'))[:16]}…"),
    Step("DocumentIssued", "出具文书", "document issued", _AFTER_APPLICATION, None,
         frozenset({"seal_service"}), core.notice_body, {}, effect=core.notice_kept,
         order=core.notice_order,
         describe=lambda b: f"sealed {b.get('document')} notice {b.get('document_number')}"),
    # Also a refusal's notice, and again after a return (退件); the case keeps its status then.
    Step("Delivered", "送达", "delivered", _SERVED_FROM, "delivered",
         _HANDLER, DeliveredBody.read, {"channel": "window", "recipient": ""},
         order=core.deliver_order, effect=delivery.delivered_effect, drafted=delivery.drafted,
         offer=core.offered_to(
             "handler", lambda s, m: delivery.offered(s) and core.deliver_order(s, m, None) is None
         ),
         open_when=lambda s, m: core.deliver_order(s, m, None) is None,
         describe=lambda b: f"delivered by {b.get('channel')} to {b.get('recipient')}"),
    Step("Suspended", "中止", "suspended", frozenset({"accepted", "in_review"}), "suspended",
         _HANDLER, ReasonBody.read, {"reason": ""}, effect=core.suspended),
    Step("Resumed", "恢复计时", "resumed", frozenset({"suspended"}), None, _HANDLER,
         ReasonBody.read, {"reason": ""}, effect=core.resumed, offer=core.offered_to("handler")),
    Step("Withdrawn", "撤回", "withdrawn", _OPEN_TO_WITHDRAW, "withdrawn", _PARTY,
         ReasonBody.read, {"reason": ""}),
    Step("ResultRevoked", "撤销", "result revoked", frozenset({"delivered"}), "revoked",
         frozenset({"approver"}), RevokedBody.read, {"reason": "", "legal_basis": ""},
         order=lambda s, m, b: core.revoke_order(s, m, b) or reform.revocation_names_promise(s, b),
         drafted=core.revoked_document),
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
         offer=core.offered_to("applicant", lambda s, m: bool(s.reform.tolerated_missing)),
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
         order=core.extension_order,
         describe=lambda b: f"+{b.get('days')} days: {b.get('reason')}"),
    Step("SupervisionOrdered", "督办", "supervision order",
         frozenset({"applied", "awaiting_supplement", "accepted", "in_review", "suspended",
                    "decided", "result_issued"}), None,
         frozenset({"supervisor"}), SupervisionBody.read, {"order": "", "due": None},
         effect=lambda s, e, b: {"status": s.status,
                                 "supervision_orders": s.supervision_orders + 1},
         describe=lambda b: f"supervision order: {b.get('order')}"),
    Step("Returned", "退回", "returned", frozenset({"in_review"}), None,
         frozenset({"reviewer", "approver"}), ReturnedBody.read, {"level": 1, "reason": ""},
         effect=core.returned, order=core.return_order, actor=core.review_actor,
         capacity=core.review_capacity,
         offer=core.return_offer, drafted=lambda s: {"level": s.reviews_done},
         open_when=lambda s, m: core.return_offer(s, m) is not None,
         describe=lambda b: f"level {b.get('level')} returned: {b.get('reason')}"),
)  # fmt: skip

STEPS: dict[str, Step] = {step.name: step for step in _TABLE}
CASE_STEP_TYPES = frozenset(STEPS)


# What the rest of caseledger asks of the table ------------------------------------------------


def read_body(envelope: Envelope) -> Any:
    """The step's body as its typed value; raise EnvelopeError (``body.invalid``) if wrong."""
    try:
        return envelope.read_body_with(STEPS[envelope.type].read)
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
