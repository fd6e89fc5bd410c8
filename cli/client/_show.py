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
    again = "  (already stored: nothing written)" if result.replayed else ""
    typer.echo(f"{step_type:<14} admitted{again}")
    typer.echo(f"stream         {result.stream}")
    typer.echo(f"seq            {result.seq}")
    typer.echo(f"hash           {result.hash}")
    leaf = "-" if result.leaf_index is None else str(result.leaf_index)
    typer.echo(f"leaf index     {leaf}")


def _timing(case: dict[str, Any]) -> str:
    timing = case.get("timing") or {}
    deadline = timing.get("committed_deadline")
    unknown = "clock.calendar_unknown" in (timing.get("warnings") or [])
    started = deadline or timing.get("paused") or unknown or timing.get("used_days")
    if not started and timing.get("remaining_days") is None:
        return "not started (starts on acceptance)"
    parts = [f"committed deadline {deadline}" if deadline else "committed deadline not dated"]
    if timing.get("statutory_deadline"):
        parts.append(f"statutory {timing['statutory_deadline']}")
    if unknown:
        years = ", ".join(str(y) for y in timing.get("unknown_years") or [])
        parts.append(
            f"clock.calendar_unknown: no working-day calendar published for {years} "
            "(caseledger calendar publish)"
        )
    if timing.get("paused"):
        since = timing.get("suspended_since") or "?"
        why = timing.get("suspended_reason") or ""
        parts.append(f"clock stopped since {since} (suspended: {why}), {timing['used_days']} used")
        return ", ".join(parts)
    if timing.get("extended_days"):
        parts.append(f"extended by {timing['extended_days']} working days")
    if case.get("next_step") in (None, "ResultIssued", "Delivered"):
        # Decided or closed: the time limit no longer runs.
        return ", ".join(parts)
    if timing.get("remaining_days") is not None:
        parts.append(f"{timing['remaining_days']} working days left")
    if timing.get("statutory_overdue"):
        parts.append("past the statutory limit")
    if timing.get("card"):
        parts.append(f"{timing['card']} card")
    return ", ".join(parts)


def print_case(detail: dict[str, Any], *, as_json: bool = False) -> None:
    """A case: number, status, matter, applicant, deadlines, participants, then the timeline."""
    if as_json:
        typer.echo(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    case = detail["case"]
    typer.echo(f"case           {case['case_id']}")
    typer.echo(f"case number    {case['case_number']}")
    if detail.get("query_code"):
        typer.echo(f"query code     {detail['query_code']}")
    typer.echo(f"matter         {case['matter']} {case['matter_name']}")
    typer.echo(f"applicant      {case['applicant']}")
    status = case["status"] + (f" ({detail['outcome']})" if detail.get("outcome") else "")
    typer.echo(f"status         {status}")
    if case.get("next_step"):
        typer.echo(f"next step      {case['next_step']} by {case['next_role']}")
    typer.echo(f"time limit     {_timing(case)}")
    for line in _materials(detail.get("materials") or {}):
        typer.echo(line)
    people = ", ".join(f"{p['person']} ({p['capacity']})" for p in detail["participants"])
    typer.echo(f"acted          {people or '-'}")
    typer.echo("")
    _timeline(detail["history"], verbose=False)


def _materials(standing: dict[str, Any]) -> list[str]:
    """Lines for what a case still lacks and where its reform modes stand (empty if nothing)."""
    lines = []
    if standing.get("supplement_missing"):
        lines.append(f"still missing  {'、'.join(standing['supplement_missing'])} (补正)")
    elif standing.get("required_missing"):
        lines.append(f"missing        {'、'.join(standing['required_missing'])} (required)")
    if standing.get("tolerated_missing"):
        items = "、".join(standing["tolerated_missing"])
        lines.append(f"容缺           {items}, due {standing.get('tolerance_due')}")
    if standing.get("promise"):
        lines.append(f"告知承诺       核查 {standing.get('verification') or 'pending'}")
    if standing.get("rating"):
        answered = "answered" if standing.get("rectified_at") else "-"
        lines.append(f"好差评         {standing['rating']} (rectification {answered})")
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
            typer.echo(f"       key {actor['key']}  hash {item['hash']}")
            for entry in body.get("materials") or ():
                typer.echo(f"       material: {entry.get('name')} sha256 {entry.get('sha256')}")
