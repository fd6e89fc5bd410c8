"""The reform modes of a matter and their facts: required materials, 容缺受理, 告知承诺, 好差评.

A matter's settings (:class:`ReformRules`) are read from its MatterDefined / MatterRevised body;
a case's progress under them is :class:`CaseReform`, folded with the case. The rules that judge
steps against them are in :mod:`ledger.reform_rules` (called by :func:`ledger.policy.check`);
the step table's helpers in :mod:`ledger.reform_steps`.

Legal sources: 国办发〔2020〕42号 (证明事项告知承诺制), the provinces' 容缺受理 rules, and
国办发〔2019〕51号 (政务服务"好差评"制度, its five levels and the national indicators).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ledger.errors import EnvelopeError
from ledger.step_bodies import text

if TYPE_CHECKING:
    from ledger.step_bodies import Material

__all__ = [
    "POOR_LEVELS",
    "PROMISE_MODE",
    "RATING_INDICATORS",
    "RATING_LEVELS",
    "RECTIFICATION_DAYS",
    "CaseReform",
    "PromiseBar",
    "PromiseBarClearedBody",
    "PromiseBarredBody",
    "ReformRules",
    "missing_materials",
    "names",
    "read_reform",
    "satisfies",
]

PROMISE_MODE = "告知承诺"
# 国办发〔2019〕51号: five levels, the last two are 差评.
RATING_LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
POOR_LEVELS = frozenset(RATING_LEVELS[3:])
# The national 好差评 indicators below 整体满意度 (the level itself), by channel.
RATING_INDICATORS: dict[str, frozenset[str]] = {
    "online": frozenset({"办事效率", "办事指南精确度", "办事便捷度", "平台操作性"}),
    "offline": frozenset({"服务效率", "服务水平", "服务态度"}),
}
# A 差评 is put right, and the applicant answered, within 15 working days (国办发〔2019〕51号).
RECTIFICATION_DAYS = 15


def _refuse(message: str) -> EnvelopeError:
    return EnvelopeError(message, code="body.invalid")


def names(body: Mapping[str, Any], name: str, *, needed: bool = False) -> tuple[str, ...]:
    """``body[name]`` as a tuple of non-empty texts (absent = empty, refused if ``needed``)."""
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _refuse(f"body.{name} must be a list of names")
    if needed and not value:
        raise _refuse(f"body.{name} must name at least one")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class ReformRules:
    """What a matter allows beyond ordinary acceptance.

    ``tolerated``: required materials that may be missing at 容缺受理; ``mode`` 告知承诺 lets
    the applicant's signed promise stand in for ``promise_materials``, except where one of
    ``promise_exclusions`` applies (the applicant declares none does); ``verification_days``:
    the working days after the decision within which the promise is verified (核查).
    """

    tolerated: tuple[str, ...] = ()
    mode: str | None = None
    promise_materials: tuple[str, ...] = ()
    promise_exclusions: tuple[str, ...] = ()
    verification_days: int = 0

    @property
    def promises(self) -> bool:
        return self.mode == PROMISE_MODE


def read_reform(body: Mapping[str, Any], required: tuple[str, ...]) -> ReformRules:
    """The reform settings of a matter body; EnvelopeError (``body.invalid``) if wrong."""
    tolerated = names(body, "tolerated_materials")
    mode = body.get("mode")
    if mode is not None and mode != PROMISE_MODE:
        raise _refuse(f"body.mode must be {PROMISE_MODE} or absent")
    promised = names(body, "promise_materials")
    if not set(tolerated) | set(promised) <= set(required):
        raise _refuse("容缺 and 告知承诺 materials must be among the required materials")
    days = body.get("verification_days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 366:
        raise _refuse("body.verification_days must be 0 to 366 working days")
    exclusions = names(body, "promise_exclusions")
    if mode is None and (promised or days or exclusions):
        raise _refuse("promise materials, exclusions and 核查 days need mode 告知承诺")
    if mode is not None and (not promised or days < 1):
        raise _refuse("告知承诺 needs promise_materials and verification_days ≥ 1")
    return ReformRules(tolerated, mode, promised, exclusions, days)


def satisfies(material: Material, requirement: str) -> bool:
    """Whether a material meets a required one: it says so (``for``) or its name, less any
    file extension, is the requirement's."""
    if material.requirement is not None:
        return material.requirement == requirement
    stem, dot, _ = material.name.rpartition(".")
    return material.name == requirement or (bool(dot) and stem == requirement)


def missing_materials(required: Iterable[str], provided: Iterable[Material]) -> tuple[str, ...]:
    """The required materials no provided material meets, in the matter's order."""
    kept = tuple(provided)
    return tuple(r for r in required if not any(satisfies(m, r) for m in kept))


@dataclass(frozen=True, slots=True)
class CaseReform:
    """A case's standing under the reform modes (empty for an ordinary case)."""

    tolerated_missing: tuple[str, ...] = ()  # 容缺: still to come
    tolerance_due: date | None = None
    tolerance_consequence: str | None = None
    promise: str | None = None  # 告知承诺: the hash of the Promised envelope
    promise_replaces: tuple[str, ...] = ()
    accepted_on_promise: bool = False
    verification: str | None = None  # 核查: passed / failed
    verified_at: datetime | None = None
    rating: str | None = None  # 好差评
    rated_at: datetime | None = None
    rectified_at: datetime | None = None

    @property
    def poor(self) -> bool:
        return self.rating in POOR_LEVELS


# Bars from 告知承诺 (a directory fact) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromiseBarredBody:
    """An applicant barred from 告知承诺 after a false promise: ``subject`` is the applicant as
    the case names them (an organisation's credit code, a person's identity commitment)."""

    bar: str
    subject: str
    case: str
    reason: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> PromiseBarredBody:
        return cls(*(text(body, n) for n in ("bar", "subject", "case", "reason")))


@dataclass(frozen=True, slots=True)
class PromiseBarClearedBody:
    bar: str
    reason: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> PromiseBarClearedBody:
        return cls(text(body, "bar"), text(body, "reason"))


@dataclass(frozen=True, slots=True)
class PromiseBar:
    bar: str
    subject: str
    case: str
    reason: str
    recorded_at: datetime
    cleared_at: datetime | None = None

    def holds_at(self, at: datetime) -> bool:
        return self.recorded_at <= at and (self.cleared_at is None or at < self.cleared_at)
