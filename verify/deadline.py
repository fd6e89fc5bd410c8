"""The check ``case.deadline``: did the office keep the law's time limits?

The limits are recomputed from the record alone — its signed case steps, the matter as the
directory in the record defines it, and the working-day calendars the record carries
(:func:`ledger.deadline.case_deadline`, the function the office's own queues use) — and
judged at the record's last step: decided within the statutory limit, and within the
committed one, with the working days used. A year whose calendar the record lacks falls back
to the calendar the verifier ships (named in the detail as unsigned); days of a year neither
knows leave the check indeterminate (``clock.calendar_unknown``), never counted Monday to
Friday.
"""

from __future__ import annotations

from ledger.deadline import case_deadline
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.timelimits import Assessment, local_date
from verify.texts import detail
from verify.verdict import Check, Status

__all__ = ["CHECK_ID", "deadline_check"]

CHECK_ID = "case.deadline"


def deadline_check(envelopes: tuple[Envelope, ...], directory: DirectoryState) -> Check:
    """``case.deadline`` for a receipt's case steps against its folded directory."""
    try:
        assessment = case_deadline(envelopes, directory)
    except (CaseLedgerError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
        # A record the rules already condemn (a Resumed with no suspension, say) may not fold;
        # receipt.rules says why, and the limits are left undetermined.
        return Check(CHECK_ID, Status.INDETERMINATE, detail("deadline.not_folded"))
    if not envelopes:
        return Check(CHECK_ID, Status.INDETERMINATE, detail("deadline.no_step"))
    first, last = local_date(envelopes[0].at).year, local_date(envelopes[-1].at).year
    calendar = directory.work_calendar()
    sources = "; ".join(
        f"{year} {source}"
        for year, source in calendar.sources().items()
        if first <= year <= last + 1
    )
    return judgement(assessment, sources=sources)


def judgement(assessment: Assessment | None, *, sources: str = "") -> Check:
    """Whether the case kept its time limits, in words, with the working days."""
    on = detail("deadline.calendar", sources=sources) if sources else ""
    # Before acceptance no limit runs (and only a suspension leaves the days left unknown).
    if assessment is None or (assessment.remaining_days is None and not assessment.paused):
        return Check(CHECK_ID, Status.PASSED, detail("deadline.not_accepted", on=on))
    a = assessment
    if a.uncounted_years and not (a.overdue or a.statutory_overdue):
        years = ", ".join(str(y) for y in a.uncounted_years)
        return Check(CHECK_ID, Status.INDETERMINATE, detail("deadline.unknown", years=years, on=on))
    verb = detail("deadline.decided" if a.decided else "deadline.undecided")
    limits = detail(
        "deadline.limits",
        statutory=a.statutory_days,
        statutory_deadline=_day(a.statutory_deadline),
        statutory_used=a.statutory_used_days,
        committed=a.committed_days,
        committed_deadline=_day(a.committed_deadline),
        committed_used=a.used_days,
    )
    if a.statutory_overdue:
        over = detail("deadline.past_statutory", verb=verb, days=a.days_over_statutory)
        judged = detail("deadline.judged", verdict=over, limits=limits, on=on)
        return Check(CHECK_ID, Status.FAILED, judged)
    if a.overdue:
        over = detail("deadline.past_committed", verb=verb, days=a.days_over_committed)
        judged = detail("deadline.judged", verdict=over, limits=limits, on=on)
        return Check(CHECK_ID, Status.FAILED, judged)
    within = detail("deadline.within", verb=verb)
    return Check(
        CHECK_ID, Status.PASSED, detail("deadline.judged", verdict=within, limits=limits, on=on)
    )


def _day(day: object) -> str:
    return day.isoformat() if hasattr(day, "isoformat") else detail("deadline.not_dated")
