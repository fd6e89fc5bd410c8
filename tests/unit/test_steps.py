"""The step table: one entry per step type, consistent with itself and with the docs; drafts
and the queue's next step are derived from it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from ledger.errors import DraftRefused
from ledger.state import CaseState
from ledger.steps import STATES, STEPS, catalogue, draft_next, next_step

AT = datetime.fromisoformat("2026-11-24T01:00:00+00:00")
STREAM = f"case:{uuid.UUID(int=7)}"


def test_every_step_follows_and_leads_to_known_states() -> None:
    for step in STEPS.values():
        assert step.follows <= {None, *STATES}, step.name
        assert step.leads_to is None or step.leads_to in STATES, step.name
        assert step.roles, step.name


def test_every_state_is_reached_by_some_step_and_every_open_state_is_left() -> None:
    reached = {step.leads_to for step in STEPS.values()} - {None}
    left = set().union(*(step.follows for step in STEPS.values())) - {None}
    assert reached == set(STATES)
    assert {name for name, state in STATES.items() if state.open} <= left
    # A closed case takes no step that moves it on (a notice, which leaves the state as it
    # is, may still answer its closing step: 不予受理通知书, 撤销决定书; and a refusal's notice
    # is served, the case keeping its status — tests/unit/test_delivery.py).
    moving = set().union(
        *(s.follows for s in STEPS.values() if s.leads_to is not None and s.name != "Delivered")
    )
    closed = {name for name, state in STATES.items() if not state.open}
    assert not moving - {None} & closed - {"delivered"}
    assert STEPS["Delivered"].follows & closed == {"not_accepted", "delivered"}


def test_the_catalogue_is_json_for_every_step_and_state() -> None:
    data = json.loads(json.dumps(catalogue(), ensure_ascii=False))
    assert set(data["steps"]) == set(STEPS)
    assert set(data["states"]) == set(STATES)
    assert data["steps"]["Accepted"]["zh"] == "受理"
    assert data["steps"]["Applied"]["follows"] == [None]


@pytest.mark.parametrize(
    ("step", "status", "may", "code"),
    [
        ("Approved", "applied", {"handler"}, "step.unknown"),
        ("Decided", "applied", {"approver"}, "order.not_allowed"),
        ("Accepted", "applied", {"reviewer"}, "role.missing"),
    ],
)
def test_a_draft_that_cannot_be_made_is_refused_with_a_code(
    step: str, status: str, may: set[str], code: str
) -> None:
    state = CaseState(STREAM, seq=1, head_hash="ab" * 32, status=status)
    with pytest.raises(DraftRefused) as refused:
        draft_next(state, step, signer=("staff:a", "0" * 16), at=AT, may=may.__contains__)
    assert refused.value.code == code


def test_a_draft_follows_the_head_and_prefers_the_offered_role() -> None:
    state = CaseState(STREAM, seq=3, head_hash="cd" * 32, status="accepted", reviews_done=0)
    draft = draft_next(
        state,
        "Reviewed",
        signer=("staff:a", "0" * 16),
        at=AT,
        may={"reviewer", "approver"}.__contains__,
        offered_role="reviewer",
    )
    assert (draft["seq"], draft["prev"], draft["type"]) == (4, "cd" * 32, "Reviewed")
    assert draft["actor"]["role"] == "reviewer"
    assert draft["body"]["level"] == 1


def test_a_closed_case_is_offered_nothing() -> None:
    for name, state in STATES.items():
        if not state.open:
            assert next_step(CaseState(STREAM, status=name), None) is None


def test_the_rules_page_lists_every_step_of_the_table() -> None:
    text = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    section = text.split("## The case state machine")[1].split("\n## ")[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    named = {row.split()[0] for row in rows[1:] if row and row != "---"}
    assert named == set(STEPS)


def test_every_step_a_person_takes_has_a_form_for_every_member_of_its_template() -> None:
    from ledger.step_forms import FORMS

    people = {name for name, step in STEPS.items() if step.roles != {"seal_service"}}
    assert set(FORMS) == people
    for name in people:
        fields = {f.name for f in FORMS[name]}
        assert set(STEPS[name].template) <= fields, name
        assert all(f.zh and f.en for f in FORMS[name]), name
    assert catalogue()["forms"]["Returned"][0]["kind"] == "fixed"


def test_every_role_a_step_or_grant_names_has_a_chinese_name() -> None:
    from ledger.directory import STAFF_ROLES
    from ledger.step_forms import ROLES

    named = set().union(*(s.roles for s in STEPS.values())) | set(STAFF_ROLES)
    assert named <= set(ROLES)
