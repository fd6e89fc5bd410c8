"""Request and response models of the HTTP API (not domain types), with examples.

Conversions from ledger values live next to the models they fill (``from_summary`` …), so
routes stay: schema in → service → schema out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.calendars import CalendarOut

__all__ = [
    "AppendOut",
    "CaseDetailOut",
    "CaseOut",
    "ChallengeIn",
    "ChallengeOut",
    "ConsistencyOut",
    "DirectoryOut",
    "DraftOut",
    "ErrorOut",
    "HistoryItem",
    "InclusionOut",
    "LeavesOut",
    "PublicCaseOut",
    "QueueOut",
    "StatsOut",
    "TimingOut",
    "TokenIn",
    "TokenOut",
    "WatchOut",
]

HASH_EXAMPLE = "9f2c4e0b7a1d5c3e8f6a0b2d4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorOut(_Out):
    """Every error: a stable code and a message; some add details."""

    code: str = Field(examples=["rules.refused"])
    message: str = Field(examples=["the step is not admitted: duty.same_person"])
    zh: str | None = Field(
        None, examples=["办理规则不允许此步骤"], description="the code's Chinese text"
    )
    codes: list[str] | None = Field(None, examples=[["duty.same_person"]])
    violations: list[dict[str, str]] | None = None
    stream: str | None = None
    head_seq: int | None = Field(None, examples=[3])
    head_hash: str | None = Field(None, examples=[HASH_EXAMPLE])
    problems: list[dict[str, Any]] | None = None


def error_responses(
    *statuses: int, extra: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with (and ``extra``)."""
    text = {
        400: "Malformed input (the code says what)",
        401: "Not signed in, or the envelope's signature is not valid",
        403: "The rules refuse the step, or the caller's role may not see this",
        404: "Not found",
        409: "Stale: the stream has moved on (head given)",
        413: "Request body too large",
        422: "Invalid request (parameters, time skew)",
        429: "Too many requests from this address",
        503: "Not available on this server yet",
    }
    entries: dict[int | str, dict[str, Any]] = dict(extra or {})
    entries.update({s: {"model": ErrorOut, "description": text[s]} for s in statuses})
    return entries


class AppendOut(_Out):
    """Where an admitted envelope now stands."""

    stream: str = Field(examples=["case:3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11"])
    seq: int = Field(examples=[3])
    hash: str = Field(examples=[HASH_EXAMPLE], description="sha-256 hex of the envelope")
    leaf_index: int | None = Field(None, examples=[41], description="index in the Merkle log")
    position: int | None = Field(None, examples=[57], description="notification id")
    replayed: bool = Field(False, description="true if this exact envelope was already stored")
    receipt: dict[str, Any] | None = Field(
        None,
        description="receipt of admission signed by the log key (docs/api.md): stream, seq, "
        "envelope_hash, leaf_index, tree_size, admitted_at, sig",
    )


class ChallengeIn(BaseModel):
    principal: str = Field(max_length=80, examples=["staff:wang.li"])
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$", examples=["3fa85f6457174562"])


class ChallengeOut(_Out):
    challenge: str = Field(description="sign b'caseledger/signin/v1\\n' + challenge (UTF-8)")
    expires_at: str = Field(examples=["2026-11-24T01:02:00Z"])
    signing_prefix: str = "caseledger/signin/v1\n"


class TokenIn(BaseModel):
    challenge: str = Field(max_length=1024)
    signature: str = Field(max_length=200, description="base64 Ed25519 signature")


class TokenOut(_Out):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: str = Field(examples=["2026-11-24T01:15:00Z"])
    principal: str = Field(examples=["staff:wang.li"])
    roles: dict[str, list[str]] = Field(examples=[{"handler": ["*"]}])


class TimingOut(_Out):
    """A case against its time limits now (working days, China time)."""

    committed_deadline: str | None = Field(None, examples=["2026-12-08"])
    statutory_deadline: str | None = Field(None, examples=["2026-12-22"])
    used_days: int = 0
    remaining_days: int | None = None
    paused: bool = False
    overdue: bool = False
    near_due: bool = False
    card: str | None = Field(None, examples=["yellow"], description="red, yellow or null")
    overran_stages: list[str] = Field(default_factory=list, examples=[["review:1"]])
    statutory_overdue: bool = False
    statutory_used_days: int = 0
    statutory_remaining_days: int | None = None
    extended_days: int = Field(0, description="working days added by 延期 (§42)")
    suspended_since: str | None = Field(None, description="China date the open 中止 began")
    suspended_reason: str | None = None
    warnings: list[str] = Field(
        default_factory=list,
        examples=[["clock.calendar_unknown"]],
        description="clock.calendar_unknown: a deadline runs into a year with no published "
        "working-day calendar, so it is not dated",
    )
    unknown_years: list[int] = Field(default_factory=list, examples=[[2027]])


class CaseOut(_Out):
    """A case as queues and lists show it."""

    case_id: str
    case_number: str = Field(examples=["20261124-3F6C2A9B1D044E4B9A510C7D2E8F6A11"])
    status: str = Field(examples=["accepted"])
    matter: str = Field(examples=["XK-370100-001"])
    matter_name: str = Field(examples=["食品经营许可证核发"])
    unit: str = Field(examples=["行政审批科"])
    applicant: str = Field(examples=["济南泉城食品有限公司"])
    next_step: str | None = Field(None, examples=["Reviewed"])
    next_role: str | None = Field(None, examples=["reviewer"])
    applied_at: str
    last_at: str
    seq: int
    timing: TimingOut


class QueueOut(_Out):
    role: str = Field(examples=["reviewer"])
    cases: list[CaseOut]


class HistoryItem(_Out):
    seq: int
    type: str = Field(examples=["Accepted"])
    at: str
    actor: dict[str, str] = Field(
        examples=[{"id": "staff:wang.li", "role": "handler", "key": "3fa85f6457174562"}]
    )
    hash: str
    body: dict[str, Any]
    envelope: str = Field(description="the stored canonical JSON, byte for byte")


class CaseDetailOut(_Out):
    case: CaseOut
    applicant: dict[str, Any]
    participants: list[dict[str, str]]
    outcome: str | None = None
    head_seq: int
    head_hash: str | None
    query_code: str | None = Field(None, description="for the acceptance receipt (handlers)")
    history: list[HistoryItem]
    materials: dict[str, Any] = Field(
        default_factory=dict,
        description="required materials still missing, what a 补正 still waits for, and the "
        "reform modes' standing (容缺, 告知承诺, 好差评)",
    )


class DraftOut(_Out):
    """The unsigned fields of the next envelope: fill ``body``, sign, POST /v1/envelopes."""

    draft: dict[str, Any]
    body_template: dict[str, Any]
    signing_prefix: str = "caseledger/envelope/v1\n"


class StaffIdentityOut(_Out):
    """A staff member's identity number, read from the office's private table."""

    staff: str
    id_commitment: str = Field(description="the pc1: commitment their StaffEnrolled carries")
    id_number: str


class DirectoryOut(_Out):
    org: str
    seq: int
    head_hash: str | None
    staff: list[dict[str, Any]]
    keys: list[dict[str, Any]]
    grants: list[dict[str, Any]]
    matters: list[dict[str, Any]]
    calendars: list[CalendarOut] = Field(
        default_factory=list,
        description="the working-day calendars, in brief (year, notice, counts)",
    )


class WatchOut(_Out):
    """Cases past or near their committed deadline."""

    as_of: str = Field(examples=["2026-12-09"])
    cases: list[CaseOut]


class StatsOut(_Out):
    as_of: str
    rows: list[dict[str, Any]] = Field(
        examples=[
            [
                {
                    "matter": "XK-370100-001",
                    "matter_name": "食品经营许可证核发",
                    "unit": "行政审批科",
                    "cases": 12,
                    "decided": 10,
                    "decided_late": 1,
                    "on_time_rate": 0.9,
                    "open_overdue": 0,
                    "yellow_cards": 2,
                }
            ]
        ]
    )


class PublicStepOut(_Out):
    """One step of the public timeline: its name (the step table's), China time, detail."""

    step: str = Field(examples=["SupplementRequested"])
    name: str = Field(examples=["补正告知"])
    at: str = Field(description="UTC, as signed")
    at_china: str = Field(examples=["2026-11-24 09:00"])
    detail: str = Field(default="", examples=["需补正：营业执照副本。"])


class PublicDocumentOut(_Out):
    """A sealed document of the case, downloadable with the query code."""

    type: str = Field(examples=["acceptance"])
    title: str = Field(examples=["受理通知书"])
    document_number: str = Field(examples=["济审批受〔2026〕1号"])
    issued_china: str = Field(examples=["2026-11-24 09:05"])
    sha256: str
    url: str = Field(description="GET it with the query code (the latest of its type)")
    status: str | None = Field(
        default=None, description="the result's status: valid, revoked or superseded"
    )


class PublicDeliveryOut(_Out):
    channel: str = Field(examples=["post"])
    channel_text: str = Field(examples=["邮寄送达"])
    carrier: str | None = None
    tracking_number: str | None = None
    outcome: str | None = Field(default=None, description="received or returned (post)")
    document: str | None = Field(default=None, description="the type of the document served")


class PublicCaseOut(_Out):
    """What anyone with the case number and query code may see (personal data masked)."""

    case_number: str
    matter_name: str
    unit: str
    status: str = Field(examples=["in_review"])
    status_text: str = Field(examples=["审查中"])
    applicant: str = Field(examples=["王*"])
    applied_at: str
    accepted_at: str | None = None
    decided_at: str | None = None
    outcome: str | None = None
    committed_deadline: str | None = None
    timeline: list[PublicStepOut] = []
    supplement_items: list[str] = Field(default=[], description="what the latest 补正 asks")
    refusal: str | None = Field(default=None, description="the reason of a refusal or denial")
    delivery: PublicDeliveryOut | None = None
    documents: list[PublicDocumentOut] = []
    result_status: str | None = Field(default=None, examples=["valid"])


class WebhookIn(BaseModel):
    """Where the office pushes a department's feed."""

    url: str = Field(max_length=2000, examples=["https://feed.market.example.gov.cn/caseledger"])


class WebhookOut(_Out):
    department: str
    url: str
    key_id: str = Field(description="the directory key that registered it")
    position: int = Field(description="the feed position delivered so far")
    attempts: int = Field(description="failed tries since the last delivery")
    next_attempt_at: str
    last_error: str | None = None
    delivered_at: str | None = None


class InclusionOut(_Out):
    index: int
    size: int
    hashes: list[str] = Field(description="base64 sibling hashes, leaf to root (RFC 9162)")


class ConsistencyOut(_Out):
    old: int
    new: int
    hashes: list[str] = Field(description="base64 consistency proof (RFC 9162)")


class LeavesOut(_Out):
    start: int
    end: int
    leaves: list[str] = Field(description="base64 32-byte envelope hashes (the leaf data)")


class SetAsideItem(_Out):
    """A case the read models left out: where projecting it failed, and a stable code."""

    stream: str = Field(examples=["case:3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11"])
    seq: int = Field(examples=[1], description="the step whose summary failed")
    position: int = Field(description="the store's notification id of that step")
    code: str = Field(examples=["projection.conflict"])
    detail: str = Field(examples=["IntegrityError"], description="the kind of error only")
    step_at: str = Field(description="the step's signed time")


class SetAsideOut(_Out):
    """Cases set aside by the read models (their steps are stored; only summaries lack)."""

    cases: list[SetAsideItem]
    taken_back: list[str] = Field(
        default_factory=list, description="streams a retry took back into the summaries"
    )
