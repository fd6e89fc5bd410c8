"""Properties of the materials and reform rules, each against a small model written from the
rules page (docs/rules.md), not from ledger.reform_rules:

- Accepted is admitted exactly when every required material is present, recorded as tolerated
  (and the matter allows it) or replaced by a promise the matter allows;
- a 补正 stays open exactly while some item asked for has not come;
- a 容缺 deadline is admitted exactly when it lies after the day of acceptance and within the
  committed limit counted day by day on the working-day calendar, and materials count as late
  exactly after its day;
- a case is rated once, and a rectification answers exactly one 差评.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.clock import china_date
from ledger.reform import POOR_LEVELS, RATING_LEVELS
from ledger.timelimits import is_working_day
from tests.unit.test_policy import T1, Case, World
from tests.unit.test_reform import application, material

REQUIRED = ("申请书", "营业执照", "场所平面图", "章程", "卫生许可证明")
TOLERABLE = ("场所平面图", "章程")
PROMISABLE = ("卫生许可证明",)
COMMITTED = 10


@cache
def world() -> World:
    """One directory for every example (its keys are slow to make; it is only read)."""
    world = World()
    world.define_matter(
        "P-1",
        required_materials=REQUIRED,
        tolerated_materials=TOLERABLE,
        mode="告知承诺",
        promise_materials=PROMISABLE,
        verification_days=10,
        committed_days=COMMITTED,
    )
    return world


def codes_of(case: Case, step: str, body: dict[str, Any] | None = None, **kw: Any) -> set[str]:
    return set(case.codes(step, world().office.handler, body, **kw))


subsets = st.lists(st.sampled_from(REQUIRED), unique=True)


@settings(max_examples=80, deadline=None)
@given(
    present=subsets, tolerated=subsets, promise=st.booleans(), suffix=st.sampled_from(["", ".pdf"])
)
def test_accepted_exactly_when_every_required_material_is_met(
    present: list[str], tolerated: list[str], promise: bool, suffix: str
) -> None:
    case = Case(world()).do(
        "Applied", world().office.handler, application("P-1", *(n + suffix for n in present))
    )
    if promise:
        case.do(
            "Promised",
            world().office.handler,
            {"replaces": list(PROMISABLE), "statement": "承诺。", "exclusions_declared": []},
        )
    body: dict[str, Any] = {"opinion": "受理"}
    deadline = china_date(case.clock) + timedelta(days=3)
    if tolerated:
        body["tolerance"] = {
            "items": tolerated,
            "deadline": deadline.isoformat(),
            "consequence": "终止办理",
        }
    missing = [m for m in REQUIRED if m not in present]
    covered = set(tolerated) | (set(PROMISABLE) if promise else set())
    record_ok = all(t in TOLERABLE and t in missing for t in tolerated)
    found = codes_of(case, "Accepted", body)
    assert ("materials.missing" in found) == any(m not in covered for m in missing)
    assert ("materials.tolerance" in found) == (not record_ok)
    assert found <= {"materials.missing", "materials.tolerance"}


@settings(max_examples=60, deadline=None)
@given(
    asked=st.lists(st.sampled_from(REQUIRED), min_size=1, unique=True),
    batches=st.lists(st.lists(st.sampled_from(REQUIRED), unique=True), max_size=4),
)
def test_a_supplement_stays_open_exactly_while_an_item_is_still_missing(
    asked: list[str], batches: list[list[str]]
) -> None:
    handler = world().office.handler
    case = Case(world()).do("Applied", handler, application("P-1"))
    case.do("SupplementRequested", handler, {"items": asked, "notice": "请一次性补正。"})
    given_so_far: set[str] = set()
    for batch in batches:
        if case.state.status != "awaiting_supplement":
            break
        case.do("SupplementProvided", handler, {"materials": [material(n) for n in batch]})
        given_so_far |= set(batch)
        left = tuple(item for item in asked if item not in given_so_far)
        assert case.state.supplement_missing == left
        assert case.state.status == ("awaiting_supplement" if left else "applied")


def day_by_day(start: date, days: int) -> date | None:
    """The ``days``-th working day after ``start``, counted one day at a time (None once a
    day falls in a year no calendar knows)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        working = is_working_day(day)
        if working is None:
            return None
        counted += working
    return day


@settings(max_examples=80, deadline=None)
@given(
    accept_after=st.integers(min_value=0, max_value=300),
    deadline_after=st.integers(min_value=-2, max_value=25),
    brought_after=st.integers(min_value=0, max_value=30),
)
def test_a_tolerance_deadline_within_the_committed_limit_and_lateness_after_its_day(
    accept_after: int, deadline_after: int, brought_after: int
) -> None:
    handler = world().office.handler
    case = Case(world(), clock=T1 + timedelta(days=accept_after))
    case.do("Applied", handler, application("P-1", "申请书", "营业执照", "章程", "卫生许可证明"))
    accepted_on = china_date(case.clock)
    deadline = accepted_on + timedelta(days=deadline_after)
    body = {
        "opinion": "容缺受理",
        "tolerance": {
            "items": ["场所平面图"],
            "deadline": deadline.isoformat(),
            "consequence": "逾期未补齐的，终止办理。",
        },
    }
    limit = day_by_day(accepted_on, COMMITTED)
    admissible = accepted_on < deadline and (limit is None or deadline <= limit)
    found = codes_of(case, "Accepted", body, at=case.clock)
    assert found == (set() if admissible else {"materials.tolerance"})
    if not admissible:
        return
    case.do("Accepted", handler, body, at=case.clock)
    later = case.clock + timedelta(days=brought_after)
    late = china_date(later) > deadline
    plan = {"materials": [material("场所平面图.pdf")]}
    assert codes_of(case, "ToleratedProvided", plan, at=later) == (
        {"tolerance.deadline"} if late else set()
    )
    ended = {"reason": "逾期未补齐", "missing": ["场所平面图"]}
    assert codes_of(case, "TerminatedForMissing", ended, at=later) == (
        set() if late else {"tolerance.deadline"}
    )


@settings(max_examples=40, deadline=None)
@given(
    attempts=st.lists(
        st.one_of(st.sampled_from(RATING_LEVELS), st.just("reply")), min_size=1, max_size=6
    )
)
def test_rated_once_and_each_poor_rating_answered_once(attempts: list[str]) -> None:
    o = world().office
    case = Case(world()).do("Applied", o.handler, application("P-1", *REQUIRED))
    case.do("Accepted", o.handler).do("Reviewed", o.reviewer).do("Decided", o.approver)
    case.do("ResultIssued", o.seal_service).do("Delivered", o.handler)
    rating: str | None = None
    replied = False
    for attempt in attempts:
        if attempt == "reply":
            step, signer, body = "RectificationReplied", o.approver, None
            ok = rating in POOR_LEVELS and not replied
        else:
            step, signer = "Rated", o.seal_service
            body = {"level": attempt, "channel": "online", "indicators": {},
                    "on_behalf": "query_code_holder"}  # fmt: skip
            ok = rating is None
        found = case.codes(step, signer, body)
        assert (found == []) == ok, (step, found)
        if ok:
            case.do(step, signer, body)
            if step == "Rated":
                rating = attempt
            else:
                replied = True
    assert case.state.reform.rating == rating
