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

from ledger.deadline import case_deadline, deadline_judgement
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.timelimits import local_date
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
        return Check(
            CHECK_ID, Status.INDETERMINATE, "the time limits cannot be recomputed from this record"
        )
    if not envelopes:
        return Check(CHECK_ID, Status.INDETERMINATE, "the record holds no case step")
    first, last = local_date(envelopes[0].at).year, local_date(envelopes[-1].at).year
    calendar = directory.work_calendar()
    sources = "; ".join(
        f"{year} {source}"
        for year, source in calendar.sources().items()
        if first <= year <= last + 1
    )
    judgement = deadline_judgement(assessment, sources=sources)
    return Check(CHECK_ID, Status(judgement.status), judgement.detail)
