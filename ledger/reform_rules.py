"""The rules of required materials and the reform modes, with their own violation codes.

:func:`reform_violations` is called by :func:`ledger.policy.check_case` for every readable case
step, so the append path, the audit and the verifier judge these as they judge the rest:

- ``materials.missing``: Accepted while a required material is missing that neither a
  recorded 容缺 nor the applicant's 告知承诺 covers;
- ``materials.tolerance``: a 容缺 record the matter does not allow (a material it does not
  list, one not missing, a deadline beyond the committed limit);
- ``promise.not_allowed``: a 告知承诺 the matter does not allow, for materials it does not
  list, or without declaring its exclusions;
- ``promise.barred``: a promise (or acceptance on one) by an applicant the directory bars;
- ``tolerance.deadline``: 容缺 materials after their deadline, or a termination before it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from ledger.calendar import WorkCalendar
from ledger.clock import china_date
from ledger.directory import DirectoryState, Matter
from ledger.envelope import Envelope
from ledger.personal import is_commitment
from ledger.reform import PromiseBar
from ledger.reform_bodies import AcceptedBody, PromiseBody
from ledger.reform_steps import still_missing
from ledger.state import CaseState
from ledger.timelimits import add_working_days
from ledger.violations import Violation

__all__ = ["applicant_subject", "promise_bar", "reform_violations", "tolerance_limit"]


def _joined(items: tuple[str, ...] | list[str]) -> str:
    return "、".join(items)


def reform_violations(
    state: CaseState,
    directory: DirectoryState,
    matter: Matter | None,
    env: Envelope,
    body: object,
    same_person: Callable[[str, str], bool],
) -> list[Violation]:
    """What the materials and reform rules find wrong with a readable case step."""
    if matter is None:
        return []
    if isinstance(body, AcceptedBody):
        return _acceptance(state, directory, matter, env, body, same_person)
    if isinstance(body, PromiseBody):
        return _promise(state, directory, matter, env, body, same_person)
    if env.type in ("ToleratedProvided", "TerminatedForMissing"):
        return _tolerance_deadline(state, env)
    return []


def tolerance_limit(
    accepted_on: date, matter: Matter, calendar: WorkCalendar | None = None
) -> date | None:
    """The latest 容缺 deadline a case accepted on ``accepted_on`` may be given: its
    committed limit, counted on ``calendar`` (None when it runs into a year nobody knows)."""
    return add_working_days(accepted_on, matter.committed_days, calendar=calendar)


def _acceptance(
    state: CaseState,
    directory: DirectoryState,
    matter: Matter,
    env: Envelope,
    body: AcceptedBody,
    same_person: Callable[[str, str], bool],
) -> list[Violation]:
    found = []
    missing = still_missing(state, matter)
    promised = set(state.reform.promise_replaces) if matter.reform.promises else set()
    tolerance = body.tolerance
    tolerated = tuple(tolerance.items) if tolerance else ()
    if tolerance is not None:
        disallowed = [i for i in tolerated if i not in matter.reform.tolerated]
        present = [i for i in tolerated if i not in missing]
        limit = tolerance_limit(china_date(env.at), matter, directory.work_calendar())
        if disallowed:
            found.append(_tolerance(f"本事项不允许容缺：{_joined(disallowed)}"))
        if present:
            found.append(_tolerance(f"以下材料已提交，无须容缺：{_joined(present)}"))
        if tolerance.deadline <= china_date(env.at) or (limit and tolerance.deadline > limit):
            found.append(_tolerance(f"容缺补齐期限须在受理之后、承诺时限（{limit}）之内"))
    uncovered = [m for m in missing if m not in promised and m not in tolerated]
    if uncovered:
        allowed = [m for m in uncovered if m in matter.reform.tolerated]
        hint = f"；其中可容缺受理并列明的：{_joined(allowed)}" if allowed else ""
        found.append(
            Violation(
                "materials.missing",
                f"受理缺少必需材料：{_joined(uncovered)}{hint} (required materials missing)",
            )
        )
    if state.reform.promise is not None:
        found += _barred(state, directory, env, same_person)
    return found


def _tolerance(detail: str) -> Violation:
    return Violation("materials.tolerance", f"{detail} (the 容缺 record is not allowed)")


def _promise(
    state: CaseState,
    directory: DirectoryState,
    matter: Matter,
    env: Envelope,
    body: PromiseBody,
    same_person: Callable[[str, str], bool],
) -> list[Violation]:
    rules = matter.reform
    problem = None
    if not rules.promises:
        problem = "本事项不实行告知承诺制"
    elif not set(body.replaces) <= set(rules.promise_materials):
        others = [m for m in body.replaces if m not in rules.promise_materials]
        problem = f"以下材料不可以承诺替代：{_joined(others)}"
    elif set(body.exclusions_declared) != set(rules.promise_exclusions):
        problem = f"承诺书须声明不存在以下情形：{_joined(rules.promise_exclusions)}"
    found = [Violation("promise.not_allowed", f"{problem} (no such promise)")] if problem else []
    return found + _barred(state, directory, env, same_person)


def applicant_subject(state: CaseState) -> str | None:
    """The applicant as a bar names them: a credit code, or a person's identity commitment."""
    value = state.applicant.get("id_number") or state.applicant.get("id_commitment")
    return str(value) if value else None


def promise_bar(
    state: CaseState,
    directory: DirectoryState,
    at: datetime,
    same_person: Callable[[str, str], bool],
) -> PromiseBar | None:
    """The bar in force at ``at`` against this case's applicant, if any."""
    subject = applicant_subject(state)
    if subject is None:
        return None
    for bar in directory.promise_bars.values():
        if not bar.holds_at(at):
            continue
        same = bar.subject == subject or (
            is_commitment(subject)
            and is_commitment(bar.subject)
            and same_person(bar.subject, subject)
        )
        if same:
            return bar
    return None


def _barred(
    state: CaseState,
    directory: DirectoryState,
    env: Envelope,
    same_person: Callable[[str, str], bool],
) -> list[Violation]:
    bar = promise_bar(state, directory, env.at, same_person)
    if bar is None:
        return []
    return [
        Violation(
            "promise.barred",
            f"申请人因虚假承诺（{bar.case}）暂停适用告知承诺制 (barred by {bar.bar})",
        )
    ]


def _tolerance_deadline(state: CaseState, env: Envelope) -> list[Violation]:
    due = state.reform.tolerance_due
    if due is None:
        return []
    late = china_date(env.at) > due
    if env.type == "ToleratedProvided" and late:
        return [Violation("tolerance.deadline", f"容缺补齐期限（{due}）已过 (deadline passed)")]
    if env.type == "TerminatedForMissing" and not late:
        return [
            Violation("tolerance.deadline", f"容缺补齐期限（{due}）未届满 (deadline not passed)")
        ]
    return []
