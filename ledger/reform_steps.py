"""What the reform modes' steps change in a case and ask of its place: the helpers their
entries in :data:`ledger.steps.STEPS` name (effects and orders), kept apart so the table
stays one table.

An effect takes the typed body, or None when it cannot be read (an audit folds a refused step
as far as it can); an order returns what is wrong with the step's place, or None.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ledger.directory import Matter
from ledger.envelope import Envelope
from ledger.reform import missing_materials, satisfies
from ledger.reform_bodies import (
    QUERY_CODE_HOLDER,
    AcceptedBody,
    PromiseBody,
    RatedBody,
    RectificationBody,
    TerminationBody,
    VerifiedBody,
)
from ledger.step_bodies import Material, RequestBody, RevokedBody, SupplementBody

if TYPE_CHECKING:
    from ledger.state import CaseState

__all__ = [
    "accepted",
    "decide_blocked",
    "promise_order",
    "promised",
    "rated",
    "rated_actor",
    "rated_order",
    "rectified",
    "rectified_order",
    "revocation_names_promise",
    "still_missing",
    "supplement_asked",
    "supplement_provided",
    "termination_order",
    "tolerated_order",
    "tolerated_provided",
    "verified",
    "verified_order",
]

Changes = dict[str, Any]


def _unmet(items: tuple[str, ...], given: tuple[Material, ...]) -> tuple[str, ...]:
    return tuple(item for item in items if not any(satisfies(m, item) for m in given))


def supplement_asked(state: CaseState, env: Envelope, body: SupplementBody | None) -> Changes:
    return {"supplement_requested_at": env.at, "supplement_missing": body.items if body else ()}


def supplement_provided(state: CaseState, env: Envelope, body: RequestBody | None) -> Changes:
    """Back to ``applied`` once every item asked for has come; a partial supplement leaves the
    case awaiting the rest."""
    if body is None:
        return {"status": "applied", "supplement_missing": ()}
    left = _unmet(state.supplement_missing, body.materials)
    return {
        "status": "awaiting_supplement" if left else "applied",
        "supplement_missing": left,
        "materials": (*state.materials, *body.materials),
    }


def still_missing(state: CaseState, matter: Matter | None) -> tuple[str, ...]:
    """The matter's required materials no material of the case meets."""
    return missing_materials(matter.required_materials, state.materials) if matter else ()


def accepted(state: CaseState, env: Envelope, body: AcceptedBody | None) -> Changes:
    tolerance = body.tolerance if body else None
    reform = replace(
        state.reform,
        tolerated_missing=tolerance.items if tolerance else (),
        tolerance_due=tolerance.deadline if tolerance else None,
        tolerance_consequence=tolerance.consequence if tolerance else None,
        accepted_on_promise=state.reform.promise is not None,
    )
    return {"accepted_at": env.at, "reform": reform}


def decide_blocked(state: CaseState) -> str | None:
    left = state.reform.tolerated_missing
    return f"容缺材料未补齐，不得作出决定：{'、'.join(left)}" if left else None


# 告知承诺 ------------------------------------------------------------------------------------


def promised(state: CaseState, env: Envelope, body: PromiseBody | None) -> Changes:
    replaces = body.replaces if body else ()
    reform = replace(state.reform, promise=env.hash, promise_replaces=replaces)
    return {"status": state.status, "reform": reform}


def promise_order(state: CaseState, matter: Matter | None, body: PromiseBody) -> str | None:
    return "告知承诺书已记录 (a promise is made once)" if state.reform.promise else None


def verified(state: CaseState, env: Envelope, body: VerifiedBody | None) -> Changes:
    outcome = body.outcome if body else "failed"
    reform = replace(state.reform, verification=outcome, verified_at=env.at)
    return {"status": state.status, "reform": reform}


def verified_order(state: CaseState, matter: Matter | None, body: VerifiedBody) -> str | None:
    if not state.reform.accepted_on_promise:
        return "本案非告知承诺受理，无须核查 (only a case accepted on a promise is verified)"
    if state.reform.verification is not None:
        return "核查已记录 (the promise was verified already)"
    return None


def revocation_names_promise(state: CaseState, body: RevokedBody) -> str | None:
    """A revocation after a failed 核查 names the promise; none other names one."""
    promise = state.reform.promise
    if state.reform.verification == "failed" and body.promise != promise:
        return f"核查不通过的撤销须载明承诺 (body.promise must be {promise})"
    if body.promise is not None and body.promise != promise:
        return "body.promise names no promise of this case"
    return None


# 容缺受理 ------------------------------------------------------------------------------------


def tolerated_provided(state: CaseState, env: Envelope, body: RequestBody | None) -> Changes:
    given = body.materials if body else ()
    left = _unmet(state.reform.tolerated_missing, given)
    return {
        "status": state.status,
        "materials": (*state.materials, *given),
        "reform": replace(state.reform, tolerated_missing=left),
    }


def tolerated_order(state: CaseState, matter: Matter | None, body: RequestBody) -> str | None:
    left = state.reform.tolerated_missing
    if not left:
        return "本案无待补齐的容缺材料 (no tolerated material is outstanding)"
    if _unmet(left, body.materials) == left:
        return f"所交材料不是待补齐的容缺材料：{'、'.join(left)}"
    return None


def termination_order(state: CaseState, matter: Matter | None, body: TerminationBody) -> str | None:
    left = state.reform.tolerated_missing
    if not left:
        return "本案无逾期未补齐的容缺材料 (nothing tolerated is outstanding)"
    if set(body.missing) != set(left):
        return f"body.missing must name the outstanding materials: {'、'.join(left)}"
    return None


# 好差评 --------------------------------------------------------------------------------------


def rated(state: CaseState, env: Envelope, body: RatedBody | None) -> Changes:
    reform = replace(state.reform, rating=body.level if body else None, rated_at=env.at)
    return {"status": state.status, "reform": reform}


def rated_order(state: CaseState, matter: Matter | None, body: RatedBody) -> str | None:
    return "本办件已评价 (a case is rated once)" if state.reform.rated_at else None


def rated_actor(matter: Matter | None, body: RatedBody, role: str) -> str | None:
    """A rating says in its body whose it is: the seal service signs only for the holder of
    the query code, and says so; an applicant signing with their own key claims no one."""
    if role == "seal_service" and body.on_behalf != QUERY_CODE_HOLDER:
        return (
            "代申请人记录的评价须在正文注明 (the seal service records a rating for the holder "
            f"of the query code only, with body.on_behalf = {QUERY_CODE_HOLDER})"
        )
    if role != "seal_service" and body.on_behalf is not None:
        return "申请人本人签名的评价不得注明代为记录 (an applicant's own rating has no on_behalf)"
    return None


def rectified(state: CaseState, env: Envelope, body: RectificationBody | None) -> Changes:
    return {"status": state.status, "reform": replace(state.reform, rectified_at=env.at)}


def rectified_order(state: CaseState, matter: Matter | None, body: RectificationBody) -> str | None:
    if not state.reform.poor:
        return "本办件无差评，无须整改 (only a 差评 is rectified)"
    if state.reform.rectified_at is not None:
        return "整改已反馈 (the rectification was answered already)"
    return None
