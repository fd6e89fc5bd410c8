"""What the staff workbench and the admin console read beyond the case API: the names staff
sign in by, the matters in force, and a case as a person reads it before signing (timeline
with names, the applicant as the privacy rules show them, materials, the time limit, and
the steps the caller may take now)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from api import service
from api.auth import Identity
from api.deps import Services
from api.materials import kept_flags, may_read
from api.personal import applicant_number, handles_case
from ledger.directory import DirectoryState, Matter
from ledger.masking import identifier_label, mask_person_number
from ledger.state import CaseState
from ledger.steps import STEPS, open_steps

__all__ = ["case_view", "current_matters", "staff_names"]


def staff_names(directory: DirectoryState, now: datetime) -> list[dict[str, str]]:
    """Who may sign in: enrolled staff holding a key now (id, name, unit). The 工号 is the
    id's part after ``staff:``."""
    keyed = {k.owner for k in directory.keys.values() if k.void_from is None or k.void_from > now}
    return [
        {"id": s.id, "name": s.name, "unit": s.unit, "number": s.id.split(":", 1)[1]}
        for s in directory.staff.values()
        if s.id in keyed and s.id.startswith("staff:")
    ]


def current_matters(directory: DirectoryState) -> list[dict[str, Any]]:
    """Each matter in its latest version: what a new case applies under."""
    out = []
    for code in sorted(directory.matters):
        m = directory.matters[code][-1]
        out.append(service.matter_json(m))
    return out


def _applicant(state: CaseState, number: str | None) -> dict[str, str]:
    applicant = state.applicant
    kind = str(applicant.get("kind", ""))
    shown = str(applicant.get("id_number") or number or "")
    if kind != "organisation" and shown:
        shown = mask_person_number(shown)
    return {
        "kind": kind,
        "name": str(applicant.get("name", "")),
        "identifier": shown or "（已登记，号码存于本机关个人信息表）",
        "identifier_label": identifier_label(shown, kind) if shown else "证件号码",
    }


def _actions(state: CaseState, matter: Matter | None, who: Identity) -> list[dict[str, str]]:
    """The steps ``who`` may take now: open by the table, in a role they hold for the matter,
    the level's role for a review, and no second capacity on the case."""
    code = matter.code if matter else state.matter_code
    held = state.capacities_of(who.principal)
    out = []
    for name in open_steps(state, matter):
        step = STEPS[name]
        if step.roles == {"seal_service"}:
            continue
        drafted = step.drafted(state) if step.drafted else {}
        for role in sorted(step.roles - {"applicant"}):
            if not who.may(role, code):
                continue
            level = drafted.get("level")
            if step.actor and isinstance(level, int) and matter is not None:
                if not 1 <= level <= len(matter.review_levels):
                    continue
                if matter.review_levels[level - 1].role != role:
                    continue
            capacity = f"reviewer:{level}" if step.actor and role != "handler" else None
            capacity = capacity or (role if role in ("handler", "approver") else None)
            if capacity and held - {capacity}:
                continue
            out.append({"step": name, "role": role})
            break
    return out


def _own_case(services: Services, who: Identity, state: CaseState) -> bool:
    commitment = state.applicant.get("id_commitment")
    return bool(commitment) and service.own_case_test(services, who.principal)(str(commitment))


def _mark_kept(
    services: Services,
    who: Identity,
    case_id: uuid.UUID,
    state: CaseState,
    materials: list[dict[str, Any]],
) -> None:
    """Each material: whether its file is kept (``stored``, None when the store cannot tell)
    and, for those who may read it, where (``url``): a name listed but never uploaded must
    say so rather than look like a file."""
    kept = kept_flags(services, [str(m["sha256"]) for m in materials])
    readable = may_read(who, state.matter_code)
    for m in materials:
        m["stored"] = kept[str(m["sha256"])]
        m["url"] = (
            f"/v1/cases/{case_id}/materials/{m['sha256']}" if m["stored"] and readable else None
        )


def case_view(
    services: Services, who: Identity, case_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    detail = service.case_detail(services, who, case_id, now)
    stream = f"case:{case_id}"
    state = services.ledger.case_state(stream)
    directory = services.ledger.directory()
    matter = (
        directory.matter_at(state.matter_code, state.matter_version, state.applied_at)
        if state.matter_code and state.matter_version and state.applied_at
        else None
    )
    number = None
    if state.applicant.get("kind") == "person" and handles_case(
        who, state, state.matter_code, detail.case.next_role
    ):
        number = applicant_number(
            services.ledger, state, reader=who.principal, purpose="case view", now=now
        )
    names = {s.id: s.name for s in directory.staff.values()}
    timeline, materials = [], []
    for item in detail.history:
        actor = item.actor
        timeline.append(
            {
                "seq": item.seq,
                "type": item.type,
                "at": item.at,
                "actor": actor["id"],
                "name": names.get(actor["id"], actor["id"]),
                "role": actor["role"],
                "body": {k: v for k, v in item.body.items() if k not in ("applicant",)},
            }
        )
        for m in item.body.get("materials") or []:
            if isinstance(m, dict):
                materials.append({"name": m.get("name"), "sha256": m.get("sha256"),
                                  "seq": item.seq})  # fmt: skip
    _mark_kept(services, who, case_id, state, materials)
    return {
        "case": detail.case.model_dump(),
        "matter": service.matter_json(matter) if matter else None,
        "applicant": _applicant(state, number),
        "materials": materials,
        "timeline": timeline,
        # A staff member is offered nothing on a case where they are the applicant.
        "actions": [] if _own_case(services, who, state) else _actions(state, matter, who),
        "query_code": detail.query_code,
        "head_seq": state.seq,
    }
