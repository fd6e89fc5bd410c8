"""Property: the ledger admits a step exactly when a small, independent model of the rules says
it should, and the audit of what was stored finds nothing and folds to the model's states.

Random runs mix role grants, grant and key revocations, new keys, and case steps taken by
random staff in random roles at random times (some backdated). Each run is appended through a
real CaseLedger on a SQLite file. The model below is written from the design's table of steps,
not from ledger.policy.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.client import Signer, StreamWriter, grant_body, matter_body
from ledger.envelope import Envelope
from ledger.errors import RulesRefused
from ledger.personal import commit, is_commitment
from ledger.signing import PrivateKey
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
T1 = datetime.fromisoformat("2026-11-24T01:00:00+00:00")
ORG = "prop-office"
MATTER = "XK-PROP-001"
STAFF = [f"staff:s{i}" for i in range(5)]
SEAL = "service:seal"
APPLICANT = "applicant:p"
COMPANY_ID = "91370100MA3C000001"

# The design's table: the states a step may follow and the roles that may take it.
FROM: dict[str, set[str | None]] = {
    "Applied": {None},
    "SupplementRequested": {"applied"},
    "SupplementProvided": {"awaiting_supplement"},
    "Accepted": {"applied"},
    "NotAccepted": {"applied"},
    "Reviewed": {"accepted", "in_review"},
    "Decided": {"accepted", "in_review"},
    "ResultIssued": {"decided"},
    "Delivered": {"decided", "result_issued"},
    "Suspended": {"accepted", "in_review"},
    "Resumed": {"suspended"},
    "Withdrawn": {"applied", "awaiting_supplement", "accepted", "in_review", "suspended"},
    "ResultRevoked": {"delivered"},
}
ROLES: dict[str, set[str]] = {
    "Applied": {"applicant", "handler"},
    "SupplementRequested": {"handler"},
    "SupplementProvided": {"applicant", "handler"},
    "Accepted": {"handler"},
    "NotAccepted": {"handler"},
    "Reviewed": {"reviewer", "approver"},
    "Decided": {"approver"},
    "ResultIssued": {"seal_service"},
    "Delivered": {"handler"},
    "Suspended": {"handler"},
    "Resumed": {"handler"},
    "Withdrawn": {"applicant", "handler"},
    "ResultRevoked": {"approver"},
}
NATURAL_ROLE = {
    "Reviewed": "reviewer",
    "Decided": "approver",
    "ResultRevoked": "approver",
    "ResultIssued": "seal_service",
}
NEXT_STATUS = {
    "Applied": "applied",
    "SupplementRequested": "awaiting_supplement",
    "SupplementProvided": "applied",
    "Accepted": "accepted",
    "NotAccepted": "not_accepted",
    "Reviewed": "in_review",
    "Decided": "decided",
    "ResultIssued": "result_issued",
    "Delivered": "delivered",
    "Suspended": "suspended",
    "Withdrawn": "withdrawn",
    "ResultRevoked": "revoked",
}
STEPS = sorted(FROM)
CLOSING = {"NotAccepted", "Withdrawn"}
DETOURS = {"SupplementRequested", "Suspended"}
STAFF_ROLES = ["handler", "reviewer", "approver", "seal_service"]


def body_for(
    step: str, level: int, outcome: str, applicant_key: str | None, applicant_id: str
) -> dict[str, Any]:
    digest = hashlib.sha256(step.encode()).hexdigest()
    if step == "Applied":
        body: dict[str, Any] = {
            "matter": {"code": MATTER, "version": 1},
            # A staff member applying for themselves is a person, known by the commitment
            # their own enrolment carries; anyone else here is a company with its credit code.
            "applicant": (
                {"kind": "person", "name": "某人", "id_commitment": applicant_id}
                if is_commitment(applicant_id)
                else {"kind": "organisation", "name": "某公司", "id_number": applicant_id}
            ),
            "materials": [{"name": "申请书.pdf", "sha256": digest}],
            "channel": "online" if applicant_key else "window",
        }
        if applicant_key:
            body["applicant_key"] = applicant_key
        return body
    return {
        "SupplementRequested": {"items": ["章程"], "notice": "请一次性补正。"},
        "SupplementProvided": {"materials": [{"name": "章程.pdf", "sha256": digest}]},
        "Accepted": {"opinion": "受理"},
        "NotAccepted": {"reason": "不符合", "legal_basis": "第三十二条"},
        "Reviewed": {"level": level, "opinion": "agree", "comments": "同意"},
        "Decided": {"outcome": outcome, "decision": "决定", "legal_basis": "第三十八条"},
        "ResultIssued": {"pdf_sha256": digest, "seal_serial": "01"},
        "Delivered": {"channel": "window", "recipient": "申请人"},
        "Suspended": {"reason": "专家评审"},
        "Resumed": {"reason": "评审结束"},
        "Withdrawn": {"reason": "撤回"},
        "ResultRevoked": {
            "reason": "撤销",
            "legal_basis": "第六十九条",
            "result": hashlib.sha256(b"ResultIssued").hexdigest(),
        },
    }[step]


# The model ------------------------------------------------------------------------------------


@dataclass
class GrantRecord:
    staff: str
    role: str
    valid_from: datetime
    valid_until: datetime | None
    recorded_at: datetime
    revoked_at: datetime | None = None
    grant_id: str = ""


@dataclass
class KeyInfo:
    key: PrivateKey
    recorded_at: datetime
    void_from: datetime | None = None


@dataclass
class Model:
    levels: int
    seal_issued: bool
    applicant_id: str
    id_numbers: dict[str, str]
    grants: list[GrantRecord] = field(default_factory=list)
    keys: dict[str, KeyInfo] = field(default_factory=dict)
    status: str | None = None
    resume_to: str | None = None
    reviews_done: int = 0
    outcome: str | None = None
    issued: bool = False  # a sealed result was issued (a revocation then names it)
    by_applicant: bool = False
    capacities: dict[str, set[str]] = field(default_factory=dict)
    last_at: datetime | None = None

    def predict(self, step: str, actor: str, role: str, at: datetime, outcome: str) -> set[str]:
        found = set()
        if self.last_at is not None and at < self.last_at:
            found.add("chain.time_reversed")
        if self.order_problem(step):
            found.add("order.not_allowed")
        found |= self.actor_problems(step, actor, role, at)
        capacity = self.capacity(step, role)
        if capacity and self.capacities.get(actor, set()) - {capacity}:
            found.add("duty.same_person")
        has_applicant = self.status is not None or step == "Applied"
        if has_applicant and self.id_numbers.get(actor) == self.applicant_id:
            found.add("duty.own_case")
        return found

    def order_problem(self, step: str) -> bool:
        if self.status not in FROM[step]:
            return True
        if step == "Reviewed":
            return self.reviews_done + 1 > self.levels
        if step == "Decided":
            return self.reviews_done < self.levels
        if step == "ResultIssued":
            return self.outcome != "approved"
        if step == "Delivered" and self.status == "decided":
            return self.outcome == "approved" and self.seal_issued
        if step == "ResultRevoked":
            return not self.issued  # the body names the issued document
        return False

    def actor_problems(self, step: str, actor: str, role: str, at: datetime) -> set[str]:
        if role not in ROLES[step]:
            return {"role.wrong_for_step"}
        # Every review level of the model's matter is a reviewer's.
        level = self.reviews_done + 1
        in_levels = self.status is not None and level <= self.levels
        if step == "Reviewed" and in_levels and role != "reviewer":
            return {"role.wrong_for_step"}
        if role == "applicant":
            ok = step == "Applied" or (self.by_applicant and actor == APPLICANT)
            return set() if ok else {"role.missing"}
        found = set()
        info = self.keys[actor]
        if info.recorded_at > at:
            found.add("key.not_yet_active")
        if info.void_from is not None and info.void_from < at:  # same second: not yet
            found.add("key.revoked")
        grants = [
            g for g in self.grants if g.staff == actor and g.role == role and g.recorded_at <= at
        ]
        live = [g for g in grants if g.revoked_at is None or g.revoked_at >= at]
        current = [
            g for g in live if g.valid_from <= at and (g.valid_until is None or at < g.valid_until)
        ]
        if not grants:
            found.add("role.missing")
        elif not live:
            found.add("role.revoked")
        elif not current:
            found.add("role.expired")
        return found

    def capacity(self, step: str, role: str) -> str | None:
        if role == "handler":
            return "handler"
        if step == "Reviewed":
            return f"reviewer:{self.reviews_done + 1}"
        return "approver" if role == "approver" else None

    def admit(self, step: str, actor: str, role: str, at: datetime, outcome: str) -> None:
        capacity = self.capacity(step, role)
        if capacity:
            self.capacities.setdefault(actor, set()).add(capacity)
        if step == "Applied":
            self.by_applicant = actor == APPLICANT
        if step == "Reviewed":
            self.reviews_done += 1
        if step == "Decided":
            self.outcome = outcome
        if step == "ResultIssued":
            self.issued = True
        if step == "Suspended":
            self.resume_to = self.status
        self.status = self.resume_to if step == "Resumed" else NEXT_STATUS[step]
        self.last_at = at


# The run --------------------------------------------------------------------------------------

DELTAS = [0, 1, 60, 3600, 86400]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

grant_action = st.tuples(
    st.just("grant"),
    st.integers(0, len(STAFF) - 1),
    st.sampled_from(["handler", "reviewer", "approver"]),
    st.sampled_from([-DAY, timedelta(0), HOUR, 2 * DAY]),
    st.sampled_from([None, HOUR, 3 * DAY]),
)
step_action = st.tuples(
    st.just("step"),
    st.integers(0, 99),  # which step (among those the model allows, unless wild)
    st.integers(0, 99),  # which actor
    st.integers(0, 99),  # which role, when wild
    st.sampled_from([False, False, False, True]),  # wild: any step, any role
    st.sampled_from([False] * 9 + [True]),  # backdated
    st.sampled_from(["approved", "denied"]),
)
CHAOS = {
    "grant": grant_action,
    "revoke_grant": st.tuples(st.just("revoke_grant"), st.integers(0, 99)),
    "revoke_key": st.tuples(
        st.just("revoke_key"),
        st.integers(0, len(STAFF) - 1),
        st.sampled_from([timedelta(0), HOUR, DAY]),
    ),
    "add_key": st.tuples(st.just("add_key"), st.integers(0, len(STAFF) - 1)),
}
# Steps are most of a run, so cases get far enough for the later rules to matter.
action = st.sampled_from(["step"] * 12 + sorted(CHAOS)).flatmap(
    lambda kind: step_action if kind == "step" else CHAOS[kind]
)
runs = st.fixed_dictionaries(
    {
        "levels": st.integers(0, 2),
        "seal_issued": st.booleans(),
        "own_case": st.sampled_from([None] * 15 + list(range(len(STAFF)))),
        "everyone_everything": st.sampled_from([True, True, True, False]),
        "grants": st.lists(grant_action, min_size=3, max_size=10),
        "actions": st.lists(st.tuples(st.sampled_from(DELTAS), action), min_size=5, max_size=40),
    }
)


class Run:
    """A fresh office and ledger; applies actions to the ledger and the model side by side."""

    def __init__(self, path: Path, spec: dict[str, Any]) -> None:
        self.root = PrivateKey.generate()
        self.admin = Signer("staff:admin", "admin", PrivateKey.generate())
        self.ledger = open_ledger(path, org=ORG, root_keys={self.root.key_id: self.root.public_key})
        self.directory = StreamWriter(f"directory:{ORG}")
        self.case = StreamWriter(f"case:{uuid.UUID(int=0x5EED)}")
        self.applicant = Signer(APPLICANT, "applicant", PrivateKey.generate())
        self.clock = T0
        ids = {s: commit(f"3701021990{i:08d}").commitment for i, s in enumerate(STAFF)}
        own = spec["own_case"]
        self.model = Model(
            levels=spec["levels"],
            seal_issued=spec["seal_issued"],
            applicant_id=COMPANY_ID if own is None else ids[STAFF[own]],
            id_numbers=ids,
        )
        self._set_up(ids)

    def close(self) -> None:
        self.ledger.close()

    def directory_change(
        self, step: str, body: dict[str, Any], signer: Signer | None = None
    ) -> None:
        env = self.directory.sign(step, signer or self.admin, self.clock, body)
        self.ledger.append(env)  # the admin's changes are always valid

    def _set_up(self, ids: dict[str, str]) -> None:
        root = Signer("staff:admin", "admin", self.root)
        self.directory_change("StaffEnrolled", enrol("staff:admin", commit("000").commitment), root)
        self.directory_change("KeyAdded", key_body("staff:admin", self.admin.key), root)
        self.directory_change(
            "RoleGranted", grant_body("g-admin", "staff:admin", "admin", valid_from=T0), root
        )
        for principal in [*STAFF, SEAL]:
            key = PrivateKey.generate()
            self.directory_change(
                "StaffEnrolled", enrol(principal, ids.get(principal) or commit("SEAL").commitment)
            )
            self.directory_change("KeyAdded", key_body(principal, key))
            self.model.keys[principal] = KeyInfo(key, self.clock)
        self.directory_change(
            "RoleGranted", grant_body("g-seal", SEAL, "seal_service", valid_from=T0)
        )
        self.model.grants.append(GrantRecord(SEAL, "seal_service", T0, None, self.clock))
        levels = ("reviewer",) * self.model.levels
        self.directory_change(
            "MatterDefined",
            matter_body(
                MATTER, "属性测试事项", review_levels=levels, seal_issued=self.model.seal_issued
            ),
        )

    def tick(self, seconds: int) -> None:
        self.clock += timedelta(seconds=seconds)

    def grant(self, staff: int, role: str, start: timedelta, until: timedelta | None) -> None:
        record = GrantRecord(
            STAFF[staff],
            role,
            self.clock + start,
            self.clock + until if until else None,
            self.clock,
            grant_id=f"g-{len(self.model.grants)}",
        )
        self.directory_change(
            "RoleGranted",
            grant_body(
                record.grant_id,
                record.staff,
                role,
                valid_from=record.valid_from,
                valid_until=record.valid_until,
            ),
        )
        self.model.grants.append(record)

    def revoke_grant(self, pick: int) -> None:
        record = self.model.grants[pick % len(self.model.grants)]
        if record.staff == SEAL:
            return
        self.directory_change("RoleRevoked", {"grant": record.grant_id, "reason": "调整"})
        record.revoked_at = record.revoked_at or self.clock

    def revoke_key(self, staff: int, offset: timedelta) -> None:
        info = self.model.keys[STAFF[staff]]
        void_from = self.clock + offset
        self.directory_change(
            "KeyRevoked", {"key_id": info.key.key_id, "reason": "更换", "void_from": fmt(void_from)}
        )
        if info.void_from is None or void_from < info.void_from:
            info.void_from = void_from

    def add_key(self, staff: int) -> None:
        key = PrivateKey.generate()
        self.directory_change("KeyAdded", key_body(STAFF[staff], key))
        self.model.keys[STAFF[staff]] = KeyInfo(key, self.clock)

    def step(
        self,
        step_pick: int,
        actor_pick: int,
        role_pick: int,
        wild: bool,
        backdated: bool,
        outcome: str,
    ) -> None:
        model = self.model
        if wild:
            step = STEPS[step_pick % len(STEPS)]
            actor = [*STAFF, SEAL, APPLICANT][actor_pick % (len(STAFF) + 2)]
            role = (
                "applicant"
                if actor == APPLICANT
                else "seal_service"
                if actor == SEAL
                else STAFF_ROLES[role_pick % len(STAFF_ROLES)]
            )
        else:
            allowed = [s for s in STEPS if model.status in FROM[s]] or STEPS
            if step_pick % 10:  # mostly move on; close a case early now and then
                allowed = [s for s in allowed if s not in CLOSING] or allowed
            if step_pick % 4:  # and take the detours (补正, suspension) less often
                allowed = [s for s in allowed if s not in DETOURS] or allowed
            step = allowed[step_pick % len(allowed)]
            role = NATURAL_ROLE.get(step, "handler")
            if role == "handler" and "applicant" in ROLES[step] and actor_pick % 3 == 0:
                role = "applicant"
            actor = {"applicant": APPLICANT, "seal_service": SEAL}.get(
                role, STAFF[actor_pick % len(STAFF)]
            )
        at = self.clock
        if backdated and model.last_at is not None:
            at = model.last_at - timedelta(minutes=1)
        signer = Signer(
            actor, role, self.applicant.key if actor == APPLICANT else model.keys[actor].key
        )
        applicant_key = self.applicant.key.public_key_b64 if actor == APPLICANT else None
        body = body_for(step, model.reviews_done + 1, outcome, applicant_key, model.applicant_id)
        expected = model.predict(step, actor, role, at, outcome)
        env = StreamWriter(self.case.stream, *self.ledger.head(self.case.stream)).sign(
            step, signer, at, body
        )
        got = appended_codes(self.ledger, env)
        event("admitted" if not got else f"refused: {sorted(got)} {step}")
        assert got == expected, (step, actor, role, at, model)
        if not got:
            model.admit(step, actor, role, at, outcome)


def appended_codes(ledger: CaseLedger, env: Envelope) -> set[str]:
    try:
        ledger.append(env)
    except RulesRefused as refused:
        return {v.code for v in refused.violations}  # type: ignore[attr-defined]
    return set()


def enrol(principal: str, id_number: str) -> dict[str, Any]:
    return {"staff": principal, "name": principal, "unit": "审批科", "id_commitment": id_number}


def key_body(principal: str, key: PrivateKey) -> dict[str, Any]:
    return {"staff": principal, "public_key": key.public_key_b64}


def fmt(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs)
def test_the_ledger_admits_exactly_what_the_model_admits(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(Path(tmp) / "caseledger.db", spec)
        try:
            if spec["everyone_everything"]:
                # Every staff member may take every step; duties then decide who may act.
                for staff in range(len(STAFF)):
                    for role in ("handler", "reviewer", "approver"):
                        run.grant(staff, role, timedelta(0), None)
            for _, staff, role, start, until in spec["grants"]:
                run.tick(1)
                run.grant(staff, role, start, until)
            run.clock = max(run.clock, T1)
            for delta, (kind, *args) in spec["actions"]:
                run.tick(delta)
                getattr(run, kind)(*args)
            event(f"final status: {run.model.status}")
            report = run.ledger.audit()
            assert report.ok, [f.to_json() for f in report.findings]
            assert_folds_to_the_model(Path(tmp) / "caseledger.db", run)
        finally:
            run.close()


def assert_folds_to_the_model(path: Path, run: Run) -> None:
    """A fresh ledger on the same file folds the stored case to the model's state."""
    fresh = open_ledger(path, org=ORG, root_keys=run.ledger.root_keys)
    try:
        if run.model.status is None:
            assert fresh.head(run.case.stream) == (0, None)
            return
        state = fresh.case_state(run.case.stream)
        assert state.status == run.model.status
        assert state.reviews_done == run.model.reviews_done
        assert state.outcome == run.model.outcome
        assert {(p.person, p.capacity) for p in state.participants} == {
            (person, capacity)
            for person, capacities in run.model.capacities.items()
            for capacity in capacities
        }
    finally:
        fresh.close()
