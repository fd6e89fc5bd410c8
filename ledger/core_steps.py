"""What the core case steps (all but the reform modes') change in a case and ask of its place:
the functions their entries in :data:`ledger.steps.STEPS` name (effects, orders, offers,
actors and capacities), kept apart so the table stays one table. The reform modes' are in
:mod:`ledger.reform_steps`, serving documents' in :mod:`ledger.delivery`.

An effect takes the typed body, or None when it cannot be read (an audit folds a refused step
as far as it can); an order returns what is wrong with the step's place, or None; an offer
returns the (role, capacity) a queue offers the step to, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger import delivery
from ledger.delivery import DeliveredBody
from ledger.directory import Matter
from ledger.envelope import Envelope
from ledger.step_bodies import (
    AppliedBody,
    DecidedBody,
    ExtendedBody,
    ReasonBody,
    ReturnedBody,
    ReviewedBody,
    RevokedBody,
    SealedBody,
    choice,
    text,
)

if TYPE_CHECKING:
    from ledger.state import CaseState

__all__ = [
    "Offer",
    "applied",
    "decidable",
    "decide_order",
    "deliver_order",
    "extension_order",
    "first_issue",
    "issue_order",
    "level_count",
    "next_review",
    "notice_body",
    "notice_kept",
    "notice_order",
    "offered_to",
    "resumed",
    "return_offer",
    "return_order",
    "returned",
    "review_actor",
    "review_capacity",
    "review_order",
    "reviewed",
    "revoke_order",
    "revoked_document",
    "role_capacity",
    "suspended",
]

Offer = Callable[["CaseState", Matter | None], tuple[str, str | None] | None]


def role_capacity(role: str) -> str | None:
    """The duty a role takes on a case, for separation of duties (None: no duty)."""
    return role if role in ("handler", "approver") else None


def offered_to(role: str, when: Callable[[CaseState, Matter | None], bool] | None = None) -> Offer:
    def offer(state: CaseState, matter: Matter | None) -> tuple[str, str | None] | None:
        return (role, role_capacity(role)) if when is None or when(state, matter) else None

    return offer


def level_count(matter: Matter | None) -> int:
    return len(matter.review_levels) if matter else 0


def _needs_seal(state: CaseState, matter: Matter | None) -> bool:
    return state.outcome == "approved" and (matter is None or matter.seal_issued)


def applied(state: CaseState, env: Envelope, body: AppliedBody | None) -> dict[str, Any]:
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


def suspended(state: CaseState, env: Envelope, body: ReasonBody | None) -> dict[str, Any]:
    from ledger.state import SuspensionSpan

    span = SuspensionSpan(env.at, None, body.reason if body else "")
    return {"resume_to": state.status, "suspensions": (*state.suspensions, span)}


def resumed(state: CaseState, env: Envelope, body: ReasonBody | None) -> dict[str, Any]:
    from dataclasses import replace

    *earlier, last = state.suspensions

    return {
        "status": state.resume_to,
        "resume_to": None,
        "suspensions": (*earlier, replace(last, end=env.at)),
    }


def revoked_document(state: CaseState) -> dict[str, Any]:
    # The revocation names the document it ends.
    return {"result": state.result_sha256} if state.result_sha256 else {}


def first_issue(state: CaseState, matter: Matter | None) -> bool:
    # A queue offers the first issue; a re-issue is the seal service's own decision.
    return state.status == "decided" and _needs_seal(state, matter)


def review_order(state: CaseState, matter: Matter | None, body: ReviewedBody) -> str | None:
    if body.level != state.reviews_done + 1 or body.level > level_count(matter):
        return f"review level {body.level} is not next (done {state.reviews_done})"
    return None


def review_actor(matter: Matter | None, body: ReviewedBody, role: str) -> str | None:
    if matter is None or not 1 <= body.level <= len(matter.review_levels):
        return None
    wanted = matter.review_levels[body.level - 1].role
    return None if wanted == role else f"review level {body.level} needs {wanted}"


def _standing_disagreement(state: CaseState) -> bool:
    """Whether the latest standing review says 不同意 (the queue then offers 退回)."""
    return bool(state.opinions) and state.opinions[-1] == "disagree"


def next_review(state: CaseState, matter: Matter | None) -> tuple[str, str | None] | None:
    if state.reviews_done >= level_count(matter) or _standing_disagreement(state):
        return None
    assert matter is not None  # noqa: S101 - level_count is 0 without a matter
    level = matter.review_levels[state.reviews_done]
    return level.role, f"reviewer:{level.level}"


def review_capacity(role: str, body: ReviewedBody | None) -> str | None:
    # A handler stays the handler whatever step they sign (the rules refuse this one).
    if role == "handler" or body is None:
        return role_capacity(role)
    return f"reviewer:{body.level}"


def decidable(state: CaseState, matter: Matter | None) -> bool:
    return (
        state.reviews_done >= level_count(matter)
        and not state.reform.tolerated_missing
        and "disagree" not in state.opinions
    )


def decide_order(state: CaseState, matter: Matter | None, body: DecidedBody) -> str | None:
    open_levels = level_count(matter) - state.reviews_done
    if open_levels > 0:
        return f"{open_levels} review level(s) still open"
    if body.outcome == "approved" and "disagree" in state.opinions:
        # A 不同意 stands until it is answered by 退回; an approver may deny over it.
        return "an approval may not stand over a 不同意 review (退回 it first)"
    return None


def return_order(state: CaseState, matter: Matter | None, body: ReturnedBody) -> str | None:
    if body.level != state.reviews_done or not _standing_disagreement(state):
        return f"退回 answers the standing 不同意 review of level {state.reviews_done}"
    return None


def returned(state: CaseState, env: Envelope, body: ReturnedBody | None) -> dict[str, Any]:
    # Back to the level before the one that disagreed: its review is taken again (from
    # level 1 back to the acceptance, so the first review starts over).
    level = body.level if body else state.reviews_done
    kept = state.opinions[: max(level - 2, 0)]
    return {
        "reviews_done": len(kept),
        "opinions": kept,
        "status": "in_review" if kept else "accepted",
    }


def return_offer(state: CaseState, matter: Matter | None) -> tuple[str, str | None] | None:
    if not _standing_disagreement(state) or not 1 <= state.reviews_done <= level_count(matter):
        return None
    assert matter is not None  # noqa: S101 - level_count is 0 without a matter
    return matter.review_levels[state.reviews_done - 1].role, f"reviewer:{state.reviews_done}"


def reviewed(state: CaseState, env: Envelope, body: ReviewedBody | None) -> dict[str, Any]:
    opinion = body.opinion if body else ""
    return {"reviews_done": state.reviews_done + 1, "opinions": (*state.opinions, opinion)}


def issue_order(state: CaseState, matter: Matter | None, body: SealedBody) -> str | None:
    # A re-issue names the document it supersedes, a revocation the document it ends: always
    # the one in force, so that every document's fate can be told from the case alone.
    if state.outcome != "approved":
        return "a result is issued only for an approved decision"
    if body.supersedes != state.result_sha256:
        return f"body.supersedes must name the document in force ({state.result_sha256})"
    if body.supersedes == body.pdf_sha256:
        return "a document cannot supersede itself"
    return None


def revoke_order(state: CaseState, matter: Matter | None, body: RevokedBody) -> str | None:
    if body.result == state.result_sha256:
        return None
    if state.result_sha256 is None:
        return "body.result names a document, but this case issued none"
    return f"body.result must name the document revoked ({state.result_sha256})"


def deliver_order(
    state: CaseState, matter: Matter | None, body: DeliveredBody | None
) -> str | None:
    return delivery.deliver_order(state, matter, body, _needs_seal(state, matter))


def extension_order(state: CaseState, matter: Matter | None, body: ExtendedBody) -> str | None:
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


def notice_body(body: dict[str, Any]) -> tuple[str, str]:
    """(type, SHA-256) of a DocumentIssued body; EnvelopeError if a member is missing."""
    kind = choice(body, "document", frozenset(_NOTICE_WHEN))
    for name in ("document_number", "seal_serial", "answers"):
        text(body, name)
    return kind, text(body, "pdf_sha256")


def notice_order(state: CaseState, matter: Matter | None, body: tuple[str, str]) -> str | None:
    kind, sha256 = body
    if not _NOTICE_WHEN[kind](state):
        return f"a {kind} notice answers a step this case has not taken"
    if sha256 in state.documents:
        return "this document is recorded already"
    return None


def notice_kept(state: CaseState, env: Envelope, body: Any) -> dict[str, Any]:
    # A notice leaves the case where it stands.
    if not body:
        return {"status": state.status}
    kinds = (*state.document_types, (body[1], body[0]))
    return {
        "status": state.status,
        "documents": (*state.documents, body[1]),
        "document_types": kinds,
    }
