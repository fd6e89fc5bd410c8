"""Required materials and the reform modes under the rules: 补正 kept open while items are
missing, 容缺受理 with its deadline, 告知承诺 with 核查, revocation and the bar, 好差评 with its
rectification. Real keys, a real directory, cases built step by step; codes, not texts."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from ledger.client import Signer
from ledger.policy import check
from ledger.sample import applied_body
from ledger.signing import PrivateKey
from tests.unit.test_policy import Case, World, body_for

CHINA_DAY = timedelta(days=1)
ACCEPTED_AT = datetime.fromisoformat("2026-11-24T02:00:00+00:00")  # a Tuesday in China


def material(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "sha256": hashlib.sha256(name.encode()).hexdigest(), **extra}


def application(code: str, *names: str, **extra: Any) -> dict[str, Any]:
    return {
        **applied_body("济南泉城食品有限公司"),
        "matter": {"code": code, "version": 1},
        "materials": [material(n) for n in names],
        **extra,
    }


@pytest.fixture
def world() -> World:
    world = World()
    world.define_matter("ZC-1", required_materials=("申请书", "营业执照", "场所平面图"))
    world.define_matter(
        "RQ-1",
        required_materials=("申请书", "营业执照", "场所平面图"),
        tolerated_materials=("场所平面图",),
    )
    world.define_matter(
        "CN-1",
        required_materials=("申请书", "卫生许可证明"),
        mode="告知承诺",
        promise_materials=("卫生许可证明",),
        promise_exclusions=("曾作出虚假承诺",),
        verification_days=20,
    )
    return world


# Required materials and 补正 ------------------------------------------------------------------


def test_accepted_is_refused_while_a_required_material_is_missing(world: World) -> None:
    handler = world.office.handler
    case = Case(world).do("Applied", handler, application("ZC-1", "申请书.pdf"))
    assert case.codes("Accepted", handler) == ["materials.missing"]
    assert "营业执照、场所平面图" in _details(case, "Accepted", handler)[0]
    # A material given "for" a requirement meets it whatever its file is called.
    case.do("SupplementRequested", handler, {"items": ["营业执照", "场所平面图"], "notice": "补正"})
    case.do(
        "SupplementProvided",
        handler,
        {"materials": [material("scan-0001.pdf", **{"for": "营业执照"}), material("场所平面图")]},
    )
    assert case.state.status == "applied"
    case.do("Accepted", handler)


def _details(case: Case, step: str, signer: Signer) -> list[str]:
    envelope = case.envelope(step, signer)
    return [v.detail for v in check(case.state, case.world.directory, envelope)]


def test_a_partial_supplement_keeps_the_case_awaiting_what_is_still_missing(world: World) -> None:
    handler = world.office.handler
    case = Case(world).do("Applied", handler, application("ZC-1", "申请书.pdf"))
    case.do("SupplementRequested", handler, {"items": ["营业执照", "场所平面图"], "notice": "补正"})
    case.do("SupplementProvided", handler, {"materials": [material("营业执照.pdf")]})
    assert case.state.status == "awaiting_supplement"
    assert case.state.supplement_missing == ("场所平面图",)
    assert "order.not_allowed" in case.codes("Accepted", handler)
    case.do("SupplementProvided", handler, {"materials": [material("场所平面图.jpg")]})
    assert (case.state.status, case.state.supplement_missing) == ("applied", ())
    case.do("Accepted", handler)


# 容缺受理 ------------------------------------------------------------------------------------


def tolerance(deadline: date, *items: str) -> dict[str, Any]:
    return {
        "opinion": "容缺受理。",
        "tolerance": {
            "items": list(items or ("场所平面图",)),
            "deadline": deadline.isoformat(),
            "consequence": "逾期未补齐的，终止办理。",
        },
    }


def tolerated_case(world: World) -> Case:
    handler = world.office.handler
    return Case(world).do("Applied", handler, application("RQ-1", "申请书.pdf", "营业执照.pdf"))


def test_tolerance_only_for_the_listed_materials_and_within_the_committed_limit(
    world: World,
) -> None:
    handler = world.office.handler
    case = tolerated_case(world)
    at = {"at": ACCEPTED_AT}
    assert case.codes("Accepted", handler, **at) == ["materials.missing"]
    assert case.codes("Accepted", handler, tolerance(date(2026, 12, 1), "营业执照"), **at) == [
        "materials.missing",  # the plan still missing
        "materials.tolerance",  # 营业执照 may not be tolerated,
        "materials.tolerance",  # and it is present anyway
    ]
    # Ten working days from 24 November 2026 end on 8 December.
    assert case.codes("Accepted", handler, tolerance(date(2026, 12, 9)), **at) == [
        "materials.tolerance"
    ]
    assert case.codes("Accepted", handler, tolerance(date(2026, 11, 24)), **at) == [
        "materials.tolerance"
    ]
    case.do("Accepted", handler, tolerance(date(2026, 12, 8)), **at)
    assert case.state.reform.tolerated_missing == ("场所平面图",)
    assert case.state.reform.tolerance_due == date(2026, 12, 8)


def test_tolerated_materials_missed_by_their_deadline_terminate_the_case(world: World) -> None:
    o = world.office
    case = tolerated_case(world).do(
        "Accepted", o.handler, tolerance(date(2026, 12, 1)), at=ACCEPTED_AT
    )
    case.do("Reviewed", o.reviewer)
    assert case.codes("Decided", o.approver) == ["order.not_allowed"]  # materials outstanding
    on_time = ACCEPTED_AT + 7 * CHINA_DAY  # 1 December, China date
    assert case.codes("TerminatedForMissing", o.handler, at=on_time) == ["tolerance.deadline"]
    late = on_time + CHINA_DAY
    plan = {"materials": [material("场所平面图.pdf")]}
    assert case.codes("ToleratedProvided", o.handler, plan, at=late) == ["tolerance.deadline"]
    wrong = {"reason": "逾期未补齐", "missing": ["营业执照"]}
    assert case.codes("TerminatedForMissing", o.handler, wrong, at=late) == ["order.not_allowed"]
    case.do("TerminatedForMissing", o.handler, at=late)
    assert case.state.status == "terminated"


def test_tolerated_materials_brought_in_time_let_the_case_be_decided(world: World) -> None:
    o = world.office
    case = tolerated_case(world).do(
        "Accepted", o.handler, tolerance(date(2026, 12, 1)), at=ACCEPTED_AT
    )
    other = {"materials": [material("别的材料.pdf")]}
    assert case.codes("ToleratedProvided", o.handler, other) == ["order.not_allowed"]
    case.do("ToleratedProvided", o.handler, {"materials": [material("场所平面图.pdf")]})
    assert case.state.status == "accepted" and case.state.reform.tolerated_missing == ()
    case.do("Reviewed", o.reviewer).do("Decided", o.approver)
    assert case.codes("ToleratedProvided", o.handler) == ["order.not_allowed"]


# 告知承诺 ------------------------------------------------------------------------------------

PROMISE = {
    "replaces": ["卫生许可证明"],
    "statement": "本人承诺符合许可条件，如有不实，愿承担法律责任。",
    "exclusions_declared": ["曾作出虚假承诺"],
}


def promised_case(world: World) -> Case:
    o = world.office
    case = Case(world).do("Applied", o.handler, application("CN-1", "申请书.pdf"))
    return case.do("Promised", o.handler, PROMISE)


def test_a_promise_only_where_the_matter_allows_it_and_as_it_lists(world: World) -> None:
    handler = world.office.handler
    plain = Case(world).do("Applied", handler, application("ZC-1", "申请书.pdf"))
    assert plain.codes("Promised", handler, PROMISE) == ["promise.not_allowed"]
    case = Case(world).do("Applied", handler, application("CN-1", "申请书.pdf"))
    assert case.codes("Accepted", handler) == ["materials.missing"]
    undeclared = {**PROMISE, "exclusions_declared": []}
    assert case.codes("Promised", handler, undeclared) == ["promise.not_allowed"]
    beyond = {**PROMISE, "replaces": ["申请书"]}
    assert case.codes("Promised", handler, beyond) == ["promise.not_allowed"]
    case.do("Promised", handler, PROMISE)
    assert case.state.status == "applied"
    assert case.codes("Promised", handler, PROMISE) == ["order.not_allowed"]
    case.do("Accepted", handler)
    assert case.state.reform.accepted_on_promise


def test_a_failed_verification_revokes_naming_the_promise_and_bars_the_applicant(
    world: World,
) -> None:
    o = world.office
    case = promised_case(world).do("Accepted", o.handler).do("Reviewed", o.reviewer)
    case.do("Decided", o.approver)
    assert case.codes("Verified", o.handler) == ["order.not_allowed"]  # not yet delivered
    case.do("ResultIssued", o.seal_service).do("Delivered", o.handler)
    case.do("Verified", o.reviewer, {"outcome": "failed", "findings": "现场核查无卫生许可"})
    assert case.codes("Verified", o.reviewer) == ["order.not_allowed"]  # once
    revoke = {**body_for("ResultRevoked"), "result": case.state.result_sha256}
    assert case.codes("ResultRevoked", o.approver, revoke) == ["order.not_allowed"]
    promise = case.state.reform.promise
    case.do("ResultRevoked", o.approver, {**revoke, "promise": promise})
    assert case.state.status == "revoked"

    subject = case.state.applicant["id_number"]
    bar = {"bar": "bar-1", "subject": subject, "case": case.state.stream, "reason": "虚假承诺"}
    world.admin_does("PromiseBarred", bar, at=case.clock + CHINA_DAY)
    again = Case(world, clock=case.clock + 2 * CHINA_DAY)
    again.do("Applied", o.handler, application("CN-1", "申请书.pdf"))
    assert again.codes("Promised", o.handler, PROMISE) == ["promise.barred"]
    clearing = {"bar": "bar-1", "reason": "信用修复"}
    unknown = world.sign_directory(
        "PromiseBarCleared", {"bar": "bar-9", "reason": "x"}, at=again.clock + CHINA_DAY
    )
    assert [v.code for v in check(None, world.directory, unknown)] == ["directory.invalid"]
    world.admin_does("PromiseBarCleared", clearing, at=again.clock + CHINA_DAY)
    again.clock += 2 * CHINA_DAY
    again.do("Promised", o.handler, PROMISE)


def test_no_revocation_names_a_promise_a_case_does_not_have(world: World) -> None:
    o = world.office
    case = Case(world).do(
        "Applied", o.handler, application("ZC-1", "申请书", "营业执照", "场所平面图")
    )
    case.do("Accepted", o.handler).do("Reviewed", o.reviewer).do("Decided", o.approver)
    case.do("ResultIssued", o.seal_service).do("Delivered", o.handler)
    assert case.codes("Verified", o.handler) == ["order.not_allowed"]
    revoke = {**body_for("ResultRevoked"), "result": case.state.result_sha256, "promise": "ab" * 32}
    assert case.codes("ResultRevoked", o.approver, revoke) == ["order.not_allowed"]


# 好差评 --------------------------------------------------------------------------------------


def delivered_case(world: World, applicant: Signer | None = None) -> Case:
    o = world.office
    body = application("ZC-1", "申请书", "营业执照", "场所平面图")
    if applicant is not None:
        body["applicant_key"] = applicant.key.public_key_b64
    case = Case(world).do("Applied", applicant or o.handler, body)
    case.do("Accepted", o.handler).do("Reviewed", o.reviewer).do("Decided", o.approver)
    return case.do("ResultIssued", o.seal_service).do("Delivered", o.handler)


POOR = {
    "level": "不满意",
    "channel": "offline",
    "indicators": {"服务态度": "非常不满意", "服务效率": "基本满意"},
    "comment": "窗口让我跑了三次",
    "on_behalf": "query_code_holder",  # made with the query code, signed by the seal service
}


def test_a_poor_rating_opens_a_rectification_answered_once(world: World) -> None:
    o = world.office
    case = delivered_case(world)
    assert case.codes("RectificationReplied", o.handler) == ["order.not_allowed"]
    wrong = {**POOR, "indicators": {"平台操作性": "满意"}}  # an online indicator
    assert case.codes("Rated", o.seal_service, wrong) == ["body.invalid"]
    assert case.codes("Rated", o.handler, POOR) == ["role.wrong_for_step"]
    # The seal service signs a rating only saying in its body for whom.
    unsaid = {k: v for k, v in POOR.items() if k != "on_behalf"}
    assert case.codes("Rated", o.seal_service, unsaid) == ["role.wrong_for_step"]
    other = {**POOR, "on_behalf": "staff:wang.li"}
    assert case.codes("Rated", o.seal_service, other) == ["body.invalid"]
    case.do("Rated", o.seal_service, POOR)
    assert case.state.reform.poor and case.state.status == "delivered"
    assert case.codes("Rated", o.seal_service, POOR) == ["order.not_allowed"]
    case.do("RectificationReplied", o.approver)
    assert case.codes("RectificationReplied", o.approver) == ["order.not_allowed"]


def test_the_applicant_rates_with_their_own_key_and_nobody_else_as_applicant(
    world: World,
) -> None:
    applicant = Signer("applicant:quancheng", "applicant", PrivateKey.generate())
    case = delivered_case(world, applicant)
    stranger = Signer("applicant:other", "applicant", PrivateKey.generate())
    good = {"level": "非常满意", "channel": "online", "indicators": {"办事效率": "非常满意"}}
    assert case.codes("Rated", stranger, good) == ["role.missing"]
    # Their own key signs their own rating: it claims to be recorded for no one.
    claimed = {**good, "on_behalf": "query_code_holder"}
    assert case.codes("Rated", applicant, claimed) == ["role.wrong_for_step"]
    case.do("Rated", applicant, good)
    assert not case.state.reform.poor
    assert case.codes("RectificationReplied", world.office.handler) == ["order.not_allowed"]


def test_a_queue_waits_for_the_tolerated_materials_before_the_decision(world: World) -> None:
    from ledger.steps import next_step

    o = world.office
    case = tolerated_case(world).do(
        "Accepted", o.handler, tolerance(date(2026, 12, 1)), at=ACCEPTED_AT
    )
    case.do("Reviewed", o.reviewer)
    matter = world.directory.latest_matter("RQ-1")
    assert next_step(case.state, matter) == ("ToleratedProvided", "applicant", None)
    case.do("ToleratedProvided", o.handler, {"materials": [material("场所平面图.pdf")]})
    assert next_step(case.state, matter) == ("Decided", "approver", "approver")


@pytest.mark.parametrize(
    "settings",
    [
        {"mode": "承诺制"},
        {"tolerated_materials": ["未列明的材料"]},
        {"mode": "告知承诺", "promise_materials": ["申请书"]},  # no 核查 days
        {"mode": "告知承诺", "verification_days": 10},  # nothing to promise
        {"promise_materials": ["申请书"], "verification_days": 10},  # no mode
        {"mode": "告知承诺", "promise_materials": ["申请书"], "verification_days": True},
    ],
)
def test_a_matter_with_reform_settings_that_do_not_hold_is_refused(
    settings: dict[str, Any],
) -> None:
    from ledger.client import matter_body
    from ledger.directory import matter_from_body
    from ledger.errors import EnvelopeError

    body = matter_body("M-1", "事项", required_materials=("申请书",), **settings)
    with pytest.raises(EnvelopeError) as refused:
        matter_from_body(body, ACCEPTED_AT)
    assert refused.value.code == "body.invalid"
