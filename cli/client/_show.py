"""Readable output of the signing client: append results, a case's state and its timeline.

Times are shown in China time (UTC+8), where the office works; the envelopes themselves keep
UTC. ``--json`` output is for programs and keeps the stored envelopes byte for byte.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer

from cli.client._target import Appended
from cli.texts import field, say
from ledger.clock import china_minute_text
from ledger.steps import STEPS

__all__ = ["local_time", "print_appended", "print_case", "print_history"]


ROLE_TEXT = {
    "handler": "经办",
    "reviewer": "审查",
    "approver": "审批",
    "seal_service": "电子印章",
    "applicant": "申请人",
}
# The body fields worth a line in a timeline, in the order shown.
SUMMARY_FIELDS = (
    "opinion", "comments", "outcome", "decision", "reason", "items", "notice", "channel",
    "recipient", "tracking_number", "address_commitment", "pdf_sha256", "seal_serial",
)  # fmt: skip


def local_time(text: str) -> str:
    """``2026-11-24T01:00:00Z`` as ``2026-11-24 09:00`` China time."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return china_minute_text(at)


def print_appended(step_type: str, result: Appended) -> None:
    """One appended envelope: stream, seq, hash, leaf index."""
    again = say("appended.again") if result.replayed else ""
    typer.echo(say("appended", step=f"{step_type:<14}", again=again))
    typer.echo(field("label.stream", result.stream))
    typer.echo(field("label.seq", result.seq))
    typer.echo(field("label.hash", result.hash))
    leaf = "-" if result.leaf_index is None else str(result.leaf_index)
    typer.echo(field("label.leaf", leaf))


def _timing(case: dict[str, Any]) -> str:
    timing = case.get("timing") or {}
    deadline = timing.get("committed_deadline")
    unknown = "clock.calendar_unknown" in (timing.get("warnings") or [])
    started = deadline or timing.get("paused") or unknown or timing.get("used_days")
    if not started and timing.get("remaining_days") is None:
        return say("timing.not_started")
    parts = [say("timing.committed", day=deadline) if deadline else say("timing.committed_undated")]
    if timing.get("statutory_deadline"):
        parts.append(say("timing.statutory", day=timing["statutory_deadline"]))
    if unknown:
        years = ", ".join(str(y) for y in timing.get("unknown_years") or [])
        parts.append(say("timing.calendar_unknown", years=years))
    joined = say("timing.separator")
    if timing.get("paused"):
        since = timing.get("suspended_since") or "?"
        why = timing.get("suspended_reason") or ""
        parts.append(say("timing.paused", since=since, why=why, used=timing["used_days"]))
        return joined.join(parts)
    if timing.get("extended_days"):
        parts.append(say("timing.extended", days=timing["extended_days"]))
    if case.get("next_step") in (None, "ResultIssued", "Delivered"):
        # Decided or closed: the time limit no longer runs.
        return joined.join(parts)
    if timing.get("remaining_days") is not None:
        parts.append(say("timing.left", days=timing["remaining_days"]))
    if timing.get("statutory_overdue"):
        parts.append(say("timing.statutory_overdue"))
    if timing.get("card"):
        parts.append(say("timing.card", card=timing["card"]))
    return joined.join(parts)


def print_case(detail: dict[str, Any], *, as_json: bool = False) -> None:
    """A case: number, status, matter, applicant, deadlines, participants, then the timeline."""
    if as_json:
        typer.echo(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    case = detail["case"]
    typer.echo(field("label.case", case["case_id"]))
    typer.echo(field("label.case_number", case["case_number"]))
    if detail.get("query_code"):
        typer.echo(field("label.query_code", detail["query_code"]))
    typer.echo(field("label.matter", f"{case['matter']} {case['matter_name']}"))
    typer.echo(field("label.applicant", case["applicant"]))
    status = case["status"]
    if detail.get("outcome"):
        status = say("case.outcome", status=status, outcome=detail["outcome"])
    typer.echo(field("label.status", status))
    if case.get("next_step"):
        step = say("case.next", step=case["next_step"], role=case["next_role"])
        typer.echo(field("label.next_step", step))
    typer.echo(field("label.time_limit", _timing(case)))
    for line in _materials(detail.get("materials") or {}):
        typer.echo(line)
    people = ", ".join(f"{p['person']} ({p['capacity']})" for p in detail["participants"])
    typer.echo(field("label.acted", people or "-"))
    typer.echo("")
    _timeline(detail["history"], verbose=False)


def _materials(standing: dict[str, Any]) -> list[str]:
    """Lines for what a case still lacks and where its reform modes stand (empty if nothing)."""
    lines = []
    if standing.get("supplement_missing"):
        missing = "、".join(standing["supplement_missing"]) + say("materials.supplement")
        lines.append(field("label.still_missing", missing))
    elif standing.get("required_missing"):
        missing = "、".join(standing["required_missing"]) + say("materials.required")
        lines.append(field("label.missing", missing))
    if standing.get("tolerated_missing"):
        items = "、".join(standing["tolerated_missing"])
        due = standing.get("tolerance_due")
        lines.append(field("label.tolerated", say("materials.tolerated", items=items, due=due)))
    if standing.get("promise"):
        state = standing.get("verification") or say("materials.pending")
        lines.append(field("label.promise", say("materials.promise", state=state)))
    if standing.get("rating"):
        answered = say("materials.answered") if standing.get("rectified_at") else "-"
        rating = say("materials.rating", rating=standing["rating"], answered=answered)
        lines.append(field("label.rating", rating))
    return lines


def print_history(detail: dict[str, Any], *, as_json: bool = False) -> None:
    """Every step with signer, key and hash; with ``as_json`` the stored envelopes, one per
    line, exactly as signed."""
    if as_json:
        for item in detail["history"]:
            typer.echo(item["envelope"])
        return
    typer.echo(f"{detail['case']['case_number']}  case:{detail['case']['case_id']}")
    _timeline(detail["history"], verbose=True)


def _timeline(history: list[dict[str, Any]], *, verbose: bool) -> None:
    for item in history:
        actor = item["actor"]
        role = ROLE_TEXT.get(actor["role"], actor["role"])
        known = STEPS.get(item["type"])
        step = known.zh if known else ""
        typer.echo(
            f"{item['seq']:>3}  {local_time(item['at'])}  {item['type']:<19} {step:<8} "
            f"{actor['id']} ({role})"
        )
        body = item.get("body") or {}
        for name in SUMMARY_FIELDS:
            value = body.get(name)
            if value not in (None, "", []):
                shown = "、".join(value) if isinstance(value, list) else str(value)
                typer.echo(f"       {name}: {shown}")
        if verbose:
            typer.echo(say("timeline.key", key=actor["key"], hash=item["hash"]))
            for entry in body.get("materials") or ():
                name, sha256 = entry.get("name"), entry.get("sha256")
                typer.echo(say("timeline.material", name=name, sha256=sha256))
