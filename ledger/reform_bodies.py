"""The bodies of the reform modes' case steps (:mod:`ledger.reform`), read as
:mod:`ledger.step_bodies` reads the others: once, into typed frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.errors import EnvelopeError
from ledger.reform import RATING_INDICATORS, RATING_LEVELS, names
from ledger.step_bodies import choice, opinion_body, optional_text, text

__all__ = [
    "QUERY_CODE_HOLDER",
    "AcceptedBody",
    "PromiseBody",
    "RatedBody",
    "RectificationBody",
    "TerminationBody",
    "Tolerance",
    "VerifiedBody",
]


def _refuse(message: str) -> EnvelopeError:
    return EnvelopeError(message, code="body.invalid")


@dataclass(frozen=True, slots=True)
class Tolerance:
    """容缺受理: the materials accepted as missing, the date promised, and what follows if not."""

    items: tuple[str, ...]
    deadline: date
    consequence: str


@dataclass(frozen=True, slots=True)
class AcceptedBody:
    opinion: str
    tolerance: Tolerance | None

    @classmethod
    def read(cls, body: dict[str, Any]) -> AcceptedBody:
        raw = body.get("tolerance")
        if raw is None:
            return cls(opinion_body(body), None)
        if not isinstance(raw, dict):
            raise _refuse("body.tolerance must be an object with items, deadline, consequence")
        try:
            deadline = date.fromisoformat(text(raw, "deadline"))
        except ValueError:
            raise _refuse("body.tolerance.deadline must be a date (YYYY-MM-DD)") from None
        items = names(raw, "items", needed=True)
        return cls(opinion_body(body), Tolerance(items, deadline, text(raw, "consequence")))


@dataclass(frozen=True, slots=True)
class PromiseBody:
    """告知承诺书: the materials the promise replaces, its text, and the exclusions the
    applicant declares do not apply to them."""

    replaces: tuple[str, ...]
    statement: str
    exclusions_declared: tuple[str, ...]

    @classmethod
    def read(cls, body: dict[str, Any]) -> PromiseBody:
        return cls(
            names(body, "replaces", needed=True),
            text(body, "statement"),
            names(body, "exclusions_declared"),
        )


@dataclass(frozen=True, slots=True)
class TerminationBody:
    """容缺终止: why, and the materials still missing at the deadline."""

    reason: str
    missing: tuple[str, ...]

    @classmethod
    def read(cls, body: dict[str, Any]) -> TerminationBody:
        return cls(text(body, "reason"), names(body, "missing", needed=True))


_VERIFICATION = frozenset({"passed", "failed"})


@dataclass(frozen=True, slots=True)
class VerifiedBody:
    """核查 of a promise: passed or failed, with what was found."""

    outcome: str
    findings: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> VerifiedBody:
        return cls(choice(body, "outcome", _VERIFICATION), text(body, "findings"))


# What a Rated body says when the office's seal service signs it for whoever rated with the
# case's query code (the applicant has no key of their own there).
QUERY_CODE_HOLDER = "query_code_holder"


@dataclass(frozen=True, slots=True)
class RatedBody:
    """好差评: the level (整体满意度), the channel and its indicators, a comment, and
    ``on_behalf`` (:data:`QUERY_CODE_HOLDER`) when the seal service records a rating made
    with the query code."""

    level: str
    channel: str
    indicators: Mapping[str, str]
    comment: str | None
    on_behalf: str | None = None

    @classmethod
    def read(cls, body: dict[str, Any]) -> RatedBody:
        levels = frozenset(RATING_LEVELS)
        level = choice(body, "level", levels)
        channel = choice(body, "channel", frozenset(RATING_INDICATORS))
        indicators = body.get("indicators", {})
        if not isinstance(indicators, dict) or not all(
            name in RATING_INDICATORS[channel] and value in levels
            for name, value in indicators.items()
        ):
            raise _refuse(
                f"body.indicators rates {sorted(RATING_INDICATORS[channel])} on the five levels"
            )
        on_behalf = (
            choice(body, "on_behalf", frozenset({QUERY_CODE_HOLDER}))
            if body.get("on_behalf") is not None
            else None
        )
        return cls(level, channel, dict(indicators), optional_text(body, "comment"), on_behalf)


@dataclass(frozen=True, slots=True)
class RectificationBody:
    """整改反馈 to a 差评: the reply to the applicant and the measures taken."""

    reply: str
    measures: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> RectificationBody:
        return cls(text(body, "reply"), text(body, "measures"))
