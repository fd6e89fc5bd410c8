"""退回 and the rule it answers: an approval may not stand over a standing 不同意 review.
The append-time rules, the audit and the verifier read the same table, so a stream that
breaks the rule is one finding in the audit and in the verifier alike."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.client import StreamWriter
from ledger.directory import DirectoryState
from ledger.policy import check
from ledger.sample import SampleOffice, applied_body
from ledger.state import CaseState
from ledger.steps import next_step, open_steps
from tests.unit.test_policy import T1, Case, World, body_for, codes
from tests.unit.test_replay import (
    OFFICE,
    audit_findings,
    case_of,
    directory_with,
    verifier_findings,
)

TWO_LEVELS = "XK-370100-002"


def two_level_case() -> tuple[Case, dict[str, Any]]:
    world = World()
    o = world.office
    second = world.enrol("staff:zhou.qiang", "reviewer")
    world.define_matter(TWO_LEVELS, review_levels=("reviewer", "reviewer"))
    applied = applied_body("济南泉城食品有限公司")
    applied["matter"] = {"code": TWO_LEVELS, "version": 1}
    case = Case(world).do("Applied", o.handler, applied).do("Accepted", o.handler)
    return case, {
        "handler": o.handler,
        "first": o.reviewer,
        "second": second,
        "approver": o.approver,
    }


def review(level: int, opinion: str) -> dict[str, Any]:
    return {"level": level, "opinion": opinion, "comments": "意见如上。"}


def returned(level: int) -> dict[str, Any]:
    return {"level": level, "reason": "请补充现场核查记录"}


def test_a_disagreement_is_returned_a_level_then_agreed_and_approved() -> None:
    case, who = two_level_case()
    case.do("Reviewed", who["first"], review(1, "agree"))
    case.do("Reviewed", who["second"], review(2, "disagree"))
    matter = case.world.directory.matter_at(TWO_LEVELS, 1, case.clock)
    # The queue offers 退回 to the level that disagreed, not a decision.
    assert next_step(case.state, matter) == ("Returned", "reviewer", "reviewer:2")
    assert "Returned" in open_steps(case.state, matter)
    assert case.codes("Decided", who["approver"], body_for("Decided")) == ["order.not_allowed"]
    case.do("Returned", who["second"], returned(2))
    assert (case.state.status, case.state.reviews_done, case.state.opinions) == ("accepted", 0, ())
    case.do("Reviewed", who["first"], review(1, "agree"))
    case.do("Reviewed", who["second"], review(2, "agree"))
    case.do("Decided", who["approver"], body_for("Decided"))
    assert case.state.outcome == "approved"


def test_a_denial_may_follow_a_disagreement_but_an_approval_may_not() -> None:
    case, who = two_level_case()
    case.do("Reviewed", who["first"], review(1, "agree"))
    case.do("Reviewed", who["second"], review(2, "disagree"))
    assert case.codes("Decided", who["approver"], body_for("Decided", outcome="approved")) == [
        "order.not_allowed"
    ]
    case.do("Decided", who["approver"], body_for("Decided", outcome="denied"))
    assert case.state.outcome == "denied"


def test_a_return_from_a_higher_level_keeps_the_levels_below() -> None:
    stream = f"case:{uuid.UUID(int=3)}"
    state = CaseState(stream, status="in_review", reviews_done=3,
                      opinions=("agree", "agree", "disagree"))  # fmt: skip
    env = StreamWriter(stream).sign("Returned", SampleOffice().reviewer, T1, returned(3))
    after = state.apply(env)
    assert (after.status, after.reviews_done, after.opinions) == ("in_review", 1, ("agree",))


def test_a_return_must_answer_the_standing_disagreement_by_its_own_level() -> None:
    case, who = two_level_case()
    case.do("Reviewed", who["first"], review(1, "agree"))
    # Nothing to return: level 1 agreed.
    assert case.codes("Returned", who["first"], returned(1)) == ["order.not_allowed"]
    case.do("Reviewed", who["second"], review(2, "disagree"))
    assert "order.not_allowed" in case.codes("Returned", who["second"], returned(1))
    # The first reviewer may not return level 2's review: neither their level nor capacity.
    assert "duty.same_person" in case.codes("Returned", who["first"], returned(2))
    assert case.codes("Returned", who["handler"], returned(2)) == ["role.wrong_for_step"]


def test_an_approval_over_a_disagreement_is_the_same_finding_in_audit_and_verifier() -> None:
    directory = directory_with()
    case = case_of([
        ("Applied", "handler", applied_body("济南泉城食品有限公司")),
        ("Accepted", "handler", {"opinion": "予以受理。"}),
        ("Reviewed", "reviewer", review(1, "disagree")),
        ("Decided", "approver", body_for("Decided")),
    ])  # fmt: skip
    found = audit_findings(directory, case)
    assert [(f[1], f[2]) for f in found] == [(4, "order.not_allowed")]
    assert verifier_findings(directory, case) == found
    # and the append-time rules refuse it with the same code
    state = CaseState.empty(case[0].stream)
    roots = {OFFICE.root_key.key_id: OFFICE.root_key.public_key}
    folded = DirectoryState(org=OFFICE.org, root_keys=roots)
    for env in directory:
        folded.apply(env)
    for env in case[:3]:
        state = state.apply(env)
    assert codes(check(state, folded, case[3])) == ["order.not_allowed"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["agree", "disagree", "return"]), max_size=7))
def test_the_rules_admit_reviews_returns_and_decisions_as_the_documented_model_says(
    actions: list[str],
) -> None:
    """Model (docs/rules.md): a review takes the next level while levels remain; 退回 answers
    the latest standing review when it says 不同意 and drops the level before it; an approval
    needs every level done with no standing 不同意; a denial needs every level done."""
    case, who = two_level_case()
    standing: list[str] = []
    for action in actions:
        if action == "return":
            level = len(standing)
            allowed = bool(standing) and standing[-1] == "disagree"
            signer = who["second"] if level == 2 else who["first"]
            step, body = "Returned", returned(max(level, 1))
        else:
            level = len(standing) + 1
            allowed = level <= 2
            signer = who["second"] if level == 2 else who["first"]
            step, body = "Reviewed", review(level, action)
        found = case.codes(step, signer, body)
        assert (found == []) == allowed, (standing, action, found)
        if allowed:
            case.do(step, signer, body)
            standing = standing[: max(level - 2, 0)] if step == "Returned" else [*standing, action]
        assert list(case.state.opinions) == standing
    done = len(standing) == 2
    approve = case.codes("Decided", who["approver"], body_for("Decided", outcome="approved"))
    deny = case.codes("Decided", who["approver"], body_for("Decided", outcome="denied"))
    assert (approve == []) == (done and "disagree" not in standing)
    assert (deny == []) == done
