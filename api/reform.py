"""The reform modes over HTTP: what they leave due and the 好差评 statistics for supervision,
a case's materials standing for staff, and the applicant's rating with the query code.

A rating made with the query code has no applicant key to sign it: the office's seal service
signs the Rated step for the holder of the code, as it signs results — its ``actor`` is the
seal service and its body says for whom (``on_behalf``: ``query_code_holder``, which the rules
require of a seal-service rating and refuse in an applicant's own); a case is rated once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.deps import Services
from api.errors import ApiError
from api.org import SEAL_SERVICE
from ledger.client import Signer, StreamWriter
from ledger.directory import DirectoryState
from ledger.envelope import format_time
from ledger.errors import CaseLedgerError, EnvelopeError
from ledger.reform import POOR_LEVELS, RATING_LEVELS, RECTIFICATION_DAYS
from ledger.reform_bodies import QUERY_CODE_HOLDER, RatedBody
from ledger.reform_steps import still_missing
from ledger.state import CaseState
from ledger.timelimits import add_working_days, local_date

__all__ = ["DueOut", "RatingIn", "RatingOut", "RatingStatsOut", "materials_standing", "rate"]


UNAVAILABLE = "本服务暂不能记录评价 (this server holds no seal service key)"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class DueOut(_Out):
    """What one reform mode leaves due: 容缺 materials, 核查 or rectifications."""

    as_of: str = Field(examples=["2026-12-02"])
    kind: str = Field(examples=["tolerance"])
    items: list[dict[str, Any]]


class RatingStatsOut(_Out):
    """好差评 per matter and unit: ratings by level, 差评 and their rectifications."""

    as_of: str
    rows: list[dict[str, Any]]


class RatingIn(BaseModel):
    """A rating on the five levels (国办发〔2019〕51号), with the channel's indicators."""

    model_config = ConfigDict(extra="forbid")

    level: str = Field(examples=["满意"], description=" / ".join(RATING_LEVELS))
    channel: str = Field("online", examples=["online"], description="online or offline")
    indicators: dict[str, str] = Field(default_factory=dict, examples=[{"办事效率": "满意"}])
    comment: str | None = Field(None, max_length=2000)


class RatingOut(_Out):
    case_number: str
    seq: int
    level: str
    poor: bool
    rectification_due: str | None = Field(None, description="a 差评's rectification deadline")


def materials_standing(state: CaseState, directory: DirectoryState) -> dict[str, Any]:
    """Which required materials a case still lacks, what a 补正 still waits for, and its
    reform modes' standing, for the case detail."""
    applied_at = state.applied_at or state.last_at
    matter = (
        directory.matter_at(state.matter_code or "", state.matter_version or 0, applied_at)
        if applied_at
        else None
    )
    reform = state.reform
    return {
        "required_missing": list(still_missing(state, matter)),
        "supplement_missing": list(state.supplement_missing),
        "tolerated_missing": list(reform.tolerated_missing),
        "tolerance_due": reform.tolerance_due.isoformat() if reform.tolerance_due else None,
        "promise": reform.promise,
        "verification": reform.verification,
        "rating": reform.rating,
        "rectified_at": format_time(reform.rectified_at) if reform.rectified_at else None,
    }


def rate(services: Services, number: str, code: str, rating: RatingIn) -> RatingOut:
    """Record the applicant's rating of their case, made with its query code."""
    from api import service

    summary = service._public_summary(services, number, code)
    if services.home is None:
        raise ApiError(503, "rating.unavailable", UNAVAILABLE)
    state = services.ledger.case_state(summary.stream)
    body: dict[str, Any] = {
        "level": rating.level,
        "channel": rating.channel,
        "indicators": rating.indicators,
        # The seal service signs, the holder of the query code rated: the body says so.
        "on_behalf": QUERY_CODE_HOLDER,
    }
    if rating.comment:
        body["comment"] = rating.comment
    try:
        RatedBody.read(body)
    except EnvelopeError:
        raise ApiError(
            422,
            "body.invalid",
            f"评价等级须为{'、'.join(RATING_LEVELS)}之一，指标须为所选渠道的标准指标 "
            "(level, channel or indicators not of the standard)",
        ) from None
    now: datetime = services.clock()
    try:
        key = services.home.key("seal-service")
    except (CaseLedgerError, OSError):
        raise ApiError(503, "rating.unavailable", UNAVAILABLE) from None
    signer = Signer(SEAL_SERVICE, "seal_service", key)
    envelope = StreamWriter(state.stream, state.seq, state.head_hash).sign(
        "Rated", signer, now, body
    )
    result = services.ledger.append(envelope, now=now)
    poor = rating.level in POOR_LEVELS
    due = add_working_days(local_date(now), RECTIFICATION_DAYS) if poor else None
    return RatingOut(
        case_number=summary.case_number,
        seq=result.seq,
        level=rating.level,
        poor=poor,
        rectification_due=due.isoformat() if due else None,
    )
