"""The rules, one violation code at a time: ``check(state, directory, envelope)`` on real keys,
a real directory folded from signed envelopes, and cases built step by step.

Every test asserts codes, never message text.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.client import Signer, StreamWriter, grant_body, matter_body
from ledger.directory import DirectoryState
from ledger.envelope import Envelope, seal_envelope
from ledger.jcs import canonical
from ledger.personal import commit
from ledger.policy import check
from ledger.sample import SAMPLE_MATTER, SampleOffice, applied_body, decided_body
from ledger.signing import PrivateKey
from ledger.state import CaseState
from ledger.steps import STEPS
from ledger.violations import CODES

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
T1 = datetime.fromisoformat("2026-11-24T01:00:00+00:00")
SOME_ID = commit("110101199003070003").commitment
MIN = timedelta(minutes=1)
HEAD = "follow the head"  # default for Case.envelope(prev=...)


def body_for(step: str, level: int = 1, outcome: str = "approved") -> dict[str, Any]:
    """A well-formed body for each case step."""
    digest = hashlib.sha256(step.encode()).hexdigest()
    bodies: dict[str, dict[str, Any]] = {
        "Applied": applied_body("济南泉城食品有限公司"),
        "SupplementRequested": {"items": ["营业执照副本"], "notice": "请一次性补正以下材料。"},
        "SupplementProvided": {"materials": [{"name": "营业执照副本.pdf", "sha256": digest}]},
        "Accepted": {"opinion": "材料齐全，予以受理。"},
        "NotAccepted": {"reason": "不属于本机关职权范围", "legal_basis": "行政许可法第三十二条"},
        "Reviewed": {"level": level, "opinion": "agree", "comments": "同意。"},
        "Decided": {**decided_body(T1), "outcome": outcome},
        "ResultIssued": {"pdf_sha256": digest, "seal_serial": "7A3F01"},
        "DocumentIssued": {
            "document": "acceptance",
            "document_number": "济审批受〔2026〕1号",
            "pdf_sha256": digest,
            "seal_serial": "7A3F01",
            "answers": digest,
        },
        "Delivered": {"channel": "window", "recipient": "申请人"},
        "DeliveryReceived": {"tracking_number": "EMS1234567890"},
        "DeliveryReturned": {"tracking_number": "EMS1234567890", "reason": "查无此人"},
        "Suspended": {"reason": "专家评审"},
        "Resumed": {"reason": "专家评审结束"},
        "Withdrawn": {"reason": "申请人撤回"},
        "Extended": {"days": 10, "reason": "需要现场核查", "notice": "办理期限延长十个工作日。"},
        "SupervisionOrdered": {"order": "请说明办理情况", "due": "2026-12-31"},
        "Returned": {"level": level, "reason": "请补充现场核查记录"},
        "ResultRevoked": {
            "reason": "以欺骗手段取得",
            "legal_basis": "行政许可法第六十九条",
            "result": hashlib.sha256(b"ResultIssued").hexdigest(),
        },
        "Promised": {"replaces": ["卫生许可"], "statement": "承诺。", "exclusions_declared": []},
        "ToleratedProvided": {"materials": [{"name": "场所平面图.pdf", "sha256": digest}]},
        "TerminatedForMissing": {"reason": "逾期未补齐", "missing": ["场所平面图"]},
        "Verified": {"outcome": "failed", "findings": "承诺不实"},
        "Rated": {
            "level": "满意",
            "channel": "online",
            "indicators": {},
            "on_behalf": "query_code_holder",
        },  # signed by the seal service (below) for the holder of the query code
        "RectificationReplied": {"reply": "已整改", "measures": "增设窗口"},
    }
    return bodies[step]


@dataclass
class World:
    """The sample office's directory, extendable by the admin, folded as the rules admit it."""

    office: SampleOffice = field(default_factory=SampleOffice)
    directory: DirectoryState = field(init=False)
    writer: StreamWriter = field(init=False)
    clock: datetime = T0

    def __post_init__(self) -> None:
        self.directory = DirectoryState(
            org=self.office.org,
            root_keys={self.office.root_key.key_id: self.office.root_key.public_key},
        )
        self.writer = StreamWriter(f"directory:{self.office.org}")
        for env in self.office.directory_envelopes(T0):
            self.admit_directory(env)
            self.writer.seq, self.writer.prev = env.seq, env.hash
        self.clock = T0 + timedelta(hours=1)

    def admit_directory(self, env: Envelope) -> None:
        assert check(None, self.directory, env) == []
        self.directory.apply(env)

    def sign_directory(
        self,
        step: str,
        body: dict[str, Any],
        *,
        at: datetime | None = None,
        signer: Signer | None = None,
    ) -> Envelope:
        """The next directory envelope (not yet folded)."""
        if at is None:
            self.clock += timedelta(seconds=1)
            at = self.clock
        head = StreamWriter(self.writer.stream, self.directory.seq, self.directory.head_hash)
        return head.sign(step, signer or self.office.admin, at, body)

    def admin_does(self, step: str, body: dict[str, Any], at: datetime | None = None) -> Envelope:
        env = self.sign_directory(step, body, at=at)
        self.admit_directory(env)
        return env

    def enrol(
        self,
        principal: str,
        *roles: str,
        id_number: str | None = None,
        key: PrivateKey | None = None,
        at: datetime | None = None,
        **grant: Any,
    ) -> Signer:
        """Enrol a staff member with a key and grants of ``roles`` valid from T0 (by default)."""
        key = key or PrivateKey.generate()
        number = id_number or hashlib.sha256(principal.encode()).hexdigest()[:18]
        self.admin_does(
            "StaffEnrolled",
            {
                "staff": principal,
                "name": principal,
                "unit": "审批科",
                "id_commitment": commit(number).commitment,
            },
            at,
        )
        self.admin_does("KeyAdded", {"staff": principal, "public_key": key.public_key_b64}, at)
        for role in roles:
            self.grant(principal, role, at=at, **grant)
        return Signer(principal, roles[0] if roles else "handler", key)

    def grant(self, principal: str, role: str, *, at: datetime | None = None, **kw: Any) -> str:
        grant_id = f"g-{uuid.uuid4().hex[:8]}"
        kw.setdefault("valid_from", T0)
        self.admin_does("RoleGranted", grant_body(grant_id, principal, role, **kw), at)
        return grant_id

    def define_matter(self, code: str, **kw: Any) -> None:
        self.admin_does("MatterDefined", matter_body(code, f"事项 {code}", **kw))


@dataclass
class Case:
    """A case built step by step against a World's directory."""

    world: World
    state: CaseState = field(default_factory=lambda: CaseState.empty(f"case:{uuid.uuid4()}"))
    clock: datetime = T1

    def envelope(
        self,
        step: str,
        signer: Signer,
        body: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
        seq: int | None = None,
        prev: str | None = HEAD,
    ) -> Envelope:
        """The next envelope of this case; ``seq`` / ``prev`` override the chain for tests."""
        level = self.state.reviews_done + 1
        writer = StreamWriter(
            self.state.stream,
            self.state.seq if seq is None else seq - 1,
            self.state.head_hash if prev == HEAD else prev,
        )
        return writer.sign(
            step, signer, at or self.clock + MIN, body or body_for(step, level=level)
        )

    def codes(self, step: str, signer: Signer, body: dict[str, Any] | None = None, **kw: Any):
        return codes(
            check(self.state, self.world.directory, self.envelope(step, signer, body, **kw))
        )

    def do(self, step: str, signer: Signer, body: dict[str, Any] | None = None, **kw: Any) -> Case:
        env = self.envelope(step, signer, body, **kw)
        assert codes(check(self.state, self.world.directory, env)) == [], step
        self.state = self.state.apply(env)
        self.clock = env.at
        return self


def codes(violations: list[Any]) -> list[str]:
    return sorted(v.code for v in violations)


@pytest.fixture
def world() -> World:
    return World()


def staff(world: World) -> tuple[Signer, Signer, Signer, Signer]:
    o = world.office
    return o.handler, o.reviewer, o.approver, o.seal_service


# Every step of the design's table, in order ---------------------------------------------------


def test_the_full_path_with_supplement_suspension_result_and_revocation(world: World) -> None:
    handler, reviewer, approver, seal = staff(world)
    case = Case(world)
    for step, signer in [
        ("Applied", handler),
        ("SupplementRequested", handler),
        ("SupplementProvided", handler),
        ("Accepted", handler),
        ("Suspended", handler),
        ("Resumed", handler),
        ("Reviewed", reviewer),
        ("Decided", approver),
        ("ResultIssued", seal),
        ("Delivered", handler),
        ("ResultRevoked", approver),
    ]:
        case.do(step, signer)
    assert case.state.status == "revoked"


def test_not_accepted_closes_the_case(world: World) -> None:
    handler = world.office.handler
    case = Case(world).do("Applied", handler).do("NotAccepted", handler)
    assert case.state.status == "not_accepted"
    assert "order.not_allowed" in case.codes("Accepted", handler)


def test_denied_decision_is_delivered_without_a_result(world: World) -> None:
    handler, reviewer, approver, seal = staff(world)
    case = Case(world).do("Applied", handler).do("Accepted", handler).do("Reviewed", reviewer)
    case.do("Decided", approver, body_for("Decided", outcome="denied"))
    assert case.codes("ResultIssued", seal) == ["order.not_allowed"]
    case.do("Delivered", handler)
    assert case.state.status == "delivered"


@pytest.mark.parametrize(
    "status", ["applied", "awaiting_supplement", "accepted", "in_review", "suspended"]
)
def test_withdrawn_from_every_open_state(world: World, status: str) -> None:
    case = case_in(world, status)
    case.do("Withdrawn", world.office.handler)
    assert case.state.status == "withdrawn"


def notice(kind: str, digest: str = "ab" * 32) -> dict[str, Any]:
    return {**body_for("DocumentIssued"), "document": kind, "pdf_sha256": digest}


def test_a_notice_answers_a_step_the_case_has_taken_and_leaves_it_where_it_stands(
    world: World,
) -> None:
    handler, _, _, seal = staff(world)
    case = Case(world).do("Applied", handler)
    assert case.codes("DocumentIssued", seal, notice("acceptance")) == ["order.not_allowed"]
    assert case.codes("DocumentIssued", seal, notice("letter")) == ["body.invalid"]
    case.do("Accepted", handler).do("DocumentIssued", seal, notice("acceptance"))
    assert case.state.status == "accepted" and case.state.documents == ("ab" * 32,)
    assert case.codes("DocumentIssued", seal, notice("acceptance")) == ["order.not_allowed"]
    assert case.codes("DocumentIssued", seal, notice("denial", "cd" * 32)) == ["order.not_allowed"]
    assert case.codes("DocumentIssued", handler, notice("acceptance", "cd" * 32)) == [
        "role.wrong_for_step"
    ]


def test_approved_result_must_be_issued_before_delivery(world: World) -> None:
    handler, reviewer, approver, _ = staff(world)
    case = Case(world).do("Applied", handler).do("Accepted", handler).do("Reviewed", reviewer)
    case.do("Decided", approver)
    assert case.codes("Delivered", handler) == ["order.not_allowed"]


# Each step from each wrong state ------------------------------------------------------------

PATHS: dict[str | None, list[str]] = {
    None: [],
    "applied": ["Applied"],
    "awaiting_supplement": ["Applied", "SupplementRequested"],
    "accepted": ["Applied", "Accepted"],
    "in_review": ["Applied", "Accepted", "Reviewed"],
    "suspended": ["Applied", "Accepted", "Suspended"],
    "decided": ["Applied", "Accepted", "Reviewed", "Decided"],
    "result_issued": ["Applied", "Accepted", "Reviewed", "Decided", "ResultIssued"],
    "delivered": ["Applied", "Accepted", "Reviewed", "Decided", "ResultIssued", "Delivered"],
    "revoked": [
        "Applied",
        "Accepted",
        "Reviewed",
        "Decided",
        "ResultIssued",
        "Delivered",
        "ResultRevoked",
    ],
    "not_accepted": ["Applied", "NotAccepted"],
    "withdrawn": ["Applied", "Withdrawn"],
}


def signer_for(world: World, step: str) -> Signer:
    o = world.office
    role = {
        "Reviewed": o.reviewer,
        "Decided": o.approver,
        "ResultRevoked": o.approver,
        "Extended": o.approver,
        "ResultIssued": o.seal_service,
        "DocumentIssued": o.seal_service,
        "Rated": o.seal_service,
    }
    return role.get(step, o.handler)


def case_in(world: World, status: str | None) -> Case:
    case = Case(world)
    for step in PATHS[status]:
        case.do(step, signer_for(world, step))
    assert case.state.status == status
    return case


WRONG = [
    (step, status)
    for step, entry in STEPS.items()
    for status in PATHS
    if status not in entry.follows
]


@pytest.mark.parametrize(("step", "status"), WRONG, ids=[f"{s}-from-{t}" for s, t in WRONG])
def test_a_step_from_a_wrong_state_is_not_allowed(world: World, step: str, status: str) -> None:
    case = case_in(world, status)
    assert "order.not_allowed" in case.codes(step, signer_for(world, step))


def test_the_wrong_state_matrix_covers_every_step() -> None:
    assert {step for step, _ in WRONG} == set(STEPS)


# Roles ----------------------------------------------------------------------------------------


def test_a_role_that_cannot_take_the_step(world: World) -> None:
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", world.office.handler) == ["role.wrong_for_step"]
    assert case.codes("Reviewed", world.office.seal_service.as_role("seal_service")) == [
        "role.wrong_for_step"
    ]


def test_claiming_a_role_one_does_not_hold(world: World) -> None:
    case = case_in(world, "accepted")
    pretender = world.office.handler.as_role("reviewer")
    assert "role.missing" in case.codes("Reviewed", pretender)


def test_an_expired_grant(world: World) -> None:
    expired = world.enrol("staff:old.hand", "reviewer", valid_until=T1 - timedelta(days=1))
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", expired) == ["role.expired"]


def test_a_grant_not_yet_valid(world: World) -> None:
    future = world.enrol("staff:new.hand", "reviewer", valid_from=T1 + timedelta(days=30))
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", future) == ["role.expired"]


def test_a_revoked_grant(world: World) -> None:
    signer = world.enrol("staff:gone", "reviewer")
    grant_id = world.directory.grants_by_staff["staff:gone"][0]
    world.admin_does("RoleRevoked", {"grant": grant_id, "reason": "调离"})
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", signer) == ["role.revoked"]


def test_a_grant_revoked_after_the_step_still_covers_it(world: World) -> None:
    signer = world.enrol("staff:later.gone", "reviewer")
    grant_id = world.directory.grants_by_staff["staff:later.gone"][0]
    case = case_in(world, "accepted")
    env = case.envelope("Reviewed", signer)
    world.admin_does("RoleRevoked", {"grant": grant_id, "reason": "调离"}, at=env.at + MIN)
    assert codes(check(case.state, world.directory, env)) == []


def test_a_grant_for_other_matters_does_not_count(world: World) -> None:
    other = world.enrol("staff:other", "reviewer", matters=("XK-OTHER-001",))
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", other) == ["role.missing"]


def test_a_matter_that_needs_a_qualification(world: World) -> None:
    world.define_matter("ZF-001", qualification="执法证")
    plain = world.enrol("staff:plain", "reviewer")
    qualified = world.enrol("staff:qualified", "reviewer", qualification="执法证")
    handler = world.office.handler
    body = {**applied_body("某公司"), "matter": {"code": "ZF-001", "version": 1}}
    # The sample handler's grant carries no qualification either.
    case = Case(world)
    assert case.codes("Applied", handler, body) == ["role.qualification"]
    certified_handler = world.enrol("staff:cert.hand", "handler", qualification="执法证")
    case.do("Applied", certified_handler, body).do("Accepted", certified_handler)
    assert case.codes("Reviewed", plain) == ["role.qualification"]
    assert case.codes("Reviewed", qualified) == []


def test_a_grant_recorded_after_the_step_does_not_legitimise_it(world: World) -> None:
    late = world.enrol("staff:late", "handler")
    case = case_in(world, "accepted")
    env = case.envelope("Reviewed", late.as_role("reviewer"))
    # The admin later records a reviewer grant "valid from T0": still too late for env.
    world.grant("staff:late", "reviewer", at=env.at + MIN, valid_from=T0)
    assert codes(check(case.state, world.directory, env)) == ["role.missing"]


def test_staff_enrolled_after_the_step_are_not_staff_at_its_time(world: World) -> None:
    case = case_in(world, "accepted")
    key = PrivateKey.generate()
    signer = Signer("staff:future", "reviewer", key)
    env = case.envelope("Reviewed", signer)
    world.enrol("staff:future", "reviewer", key=key, at=env.at + MIN)
    assert codes(check(case.state, world.directory, env)) == [
        "key.not_yet_active",
        "role.missing",
    ]


# Keys and signatures ---------------------------------------------------------------------


def test_a_key_revoked_before_the_step(world: World) -> None:
    reviewer = world.office.reviewer
    world.admin_does(
        "KeyRevoked",
        {"key_id": reviewer.key.key_id, "reason": "丢失", "void_from": "2026-11-23T03:00:00Z"},
    )
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", reviewer) == ["key.revoked"]


def test_a_revocation_recorded_later_voids_earlier_signatures_from_its_void_from(
    world: World,
) -> None:
    reviewer = world.office.reviewer
    case = case_in(world, "accepted")
    env = case.envelope("Reviewed", reviewer)
    assert codes(check(case.state, world.directory, env)) == []
    world.admin_does(
        "KeyRevoked",
        {"key_id": reviewer.key.key_id, "reason": "泄露", "void_from": "2026-11-24T00:00:00Z"},
        at=env.at + timedelta(hours=2),
    )
    assert codes(check(case.state, world.directory, env)) == ["key.revoked"]


def test_a_key_revoked_from_a_later_time_still_signs_before_it(world: World) -> None:
    reviewer = world.office.reviewer
    world.admin_does(
        "KeyRevoked",
        {"key_id": reviewer.key.key_id, "reason": "到期", "void_from": "2027-01-01T00:00:00Z"},
    )
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", reviewer) == []


def test_someone_elses_key(world: World) -> None:
    o = world.office
    case = case_in(world, "applied")
    borrowed = Signer("staff:wang.li", "handler", o.keys["staff:li.na"])
    assert case.codes("Accepted", borrowed) == ["key.wrong_owner"]


def test_an_unknown_key(world: World) -> None:
    case = case_in(world, "applied")
    stranger = Signer("staff:wang.li", "handler", PrivateKey.generate())
    assert case.codes("Accepted", stranger) == ["sig.unknown_key"]


def test_a_forged_signature(world: World) -> None:
    o = world.office
    case = case_in(world, "applied")
    genuine = case.envelope("Accepted", o.handler)
    forger = PrivateKey.generate()
    # The forger signs the handler's exact draft: actor.key still names the handler's key.
    draft = {k: v for k, v in genuine.to_json().items() if k != "sig"}
    forged = seal_envelope(draft, forger)
    assert forged.actor.key == o.handler.key.key_id
    assert codes(check(case.state, world.directory, forged)) == ["sig.invalid"]


def test_a_key_added_after_the_step(world: World) -> None:
    key = PrivateKey.generate()
    case = case_in(world, "applied")
    env = case.envelope("Accepted", Signer("staff:wang.li", "handler", key))
    world.admin_does(
        "KeyAdded", {"staff": "staff:wang.li", "public_key": key.public_key_b64}, at=env.at + MIN
    )
    assert codes(check(case.state, world.directory, env)) == ["key.not_yet_active"]


# Separation of duties ----------------------------------------------------------------------


def test_the_handler_may_not_review(world: World) -> None:
    world.grant("staff:wang.li", "reviewer")
    case = case_in(world, "accepted")
    assert case.codes("Reviewed", world.office.handler.as_role("reviewer")) == ["duty.same_person"]


def test_the_reviewer_may_not_approve(world: World) -> None:
    world.grant("staff:li.na", "approver")
    case = case_in(world, "in_review")
    assert case.codes("Decided", world.office.reviewer.as_role("approver")) == ["duty.same_person"]


def test_the_approver_may_not_then_handle(world: World) -> None:
    world.grant("staff:zhang.wei", "handler")
    case = case_in(world, "result_issued")
    assert case.codes("Delivered", world.office.approver.as_role("handler")) == ["duty.same_person"]


def test_staff_may_not_act_on_their_own_application(world: World) -> None:
    o = world.office
    own = world.directory.staff["staff:li.na"].id_commitment
    body = applied_body("李娜")
    body["applicant"] = {"kind": "person", "name": "李娜", "id_commitment": own}
    case = Case(world).do("Applied", o.handler, body).do("Accepted", o.handler)
    assert case.codes("Reviewed", o.reviewer) == ["duty.own_case"]


def test_the_handler_may_not_record_their_own_application(world: World) -> None:
    o = world.office
    own = world.directory.staff["staff:wang.li"].id_commitment
    body = applied_body("王立")
    body["applicant"] = {"kind": "person", "name": "王立", "id_commitment": own}
    assert Case(world).codes("Applied", o.handler, body) == ["duty.own_case"]


def test_own_case_is_found_through_the_private_table_under_a_fresh_salt(world: World) -> None:
    # The applicant's commitment is salted anew, so only the office's table can tell that it
    # opens to the handler's own number; the rules ask it through ``same_person``.
    o = world.office
    mine = world.directory.staff["staff:wang.li"].id_commitment
    number = o.openings[mine].value
    fresh = commit(number)
    assert fresh.commitment != mine
    body = applied_body("王立")
    body["applicant"] = {"kind": "person", "name": "王立", "id_commitment": fresh.commitment}
    env = StreamWriter(f"case:{uuid.uuid4()}").sign("Applied", o.handler, T1, body)
    state = CaseState.empty(env.stream)
    openings = {**o.openings, fresh.commitment: fresh}

    def same_person(a: str, b: str) -> bool:
        return openings[a].value == openings[b].value

    assert codes(check(state, world.directory, env)) == []
    assert codes(check(state, world.directory, env, same_person=same_person)) == ["duty.own_case"]


@pytest.mark.parametrize(
    ("where", "value", "code"),
    [
        ("staff", {"id_number": "370102198502020027"}, "body.personal_data"),
        ("staff", {"id_commitment": "pc1:" + "0" * 63}, "body.commitment"),
        ("staff", {"id_commitment": "sha256:" + "0" * 64}, "body.commitment"),
        ("staff", {}, "body.commitment"),
        ("person", {"id_number": "X-1"}, "body.personal_data"),
        ("person", {"id_commitment": "PC1:" + "A" * 64}, "body.commitment"),
        ("comment", {"note": "身份证 11010519491231002X 已核"}, "body.personal_data"),
        ("comment", {"note": "联系电话 13912345678"}, "body.personal_data"),
    ],
)
def test_personal_data_in_clear_is_refused(
    world: World, where: str, value: dict[str, str], code: str
) -> None:
    o = world.office
    if where == "staff":
        body: dict[str, Any] = {"staff": "staff:x", "name": "x", "unit": "u", **value}
        env = world.sign_directory("StaffEnrolled", body)
        assert code in codes(check(None, world.directory, env))
        return
    body = applied_body("王小明")
    if where == "person":
        body["applicant"] = {"kind": "person", "name": "王小明", **value}
    else:
        body["materials"][0]["name"] = value["note"]
    env = StreamWriter(f"case:{uuid.uuid4()}").sign("Applied", o.handler, T1, body)
    assert code in codes(check(CaseState.empty(env.stream), world.directory, env))


def test_an_organisation_keeps_its_credit_code_in_clear(world: World) -> None:
    body = applied_body("济南泉城食品有限公司")
    env = StreamWriter(f"case:{uuid.uuid4()}").sign("Applied", world.office.handler, T1, body)
    assert codes(check(CaseState.empty(env.stream), world.directory, env)) == []


# The chain -------------------------------------------------------------------------------


def test_wrong_prev(world: World) -> None:
    case = case_in(world, "applied")
    assert case.codes("Accepted", world.office.handler, prev="00" * 32) == ["chain.prev_mismatch"]


def test_wrong_seq(world: World) -> None:
    case = case_in(world, "applied")
    assert case.codes("Accepted", world.office.handler, seq=3) == ["chain.seq_mismatch"]


def test_first_step_with_a_prev(world: World) -> None:
    assert Case(world).codes("Applied", world.office.handler, prev="11" * 32) == [
        "chain.prev_mismatch"
    ]


def test_envelope_of_another_stream(world: World) -> None:
    case = case_in(world, "applied")
    env = case.envelope("Accepted", world.office.handler)
    moved = replace(case.state, stream=f"case:{uuid.uuid4()}")
    assert codes(check(moved, world.directory, env)) == ["chain.stream_mismatch"]


def test_a_backdated_step(world: World) -> None:
    case = case_in(world, "applied")
    assert case.codes("Accepted", world.office.handler, at=case.clock - MIN) == [
        "chain.time_reversed"
    ]


def test_same_second_is_not_backdated(world: World) -> None:
    case = case_in(world, "applied")
    assert case.codes("Accepted", world.office.handler, at=case.clock) == []


# Bodies and matters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "status", "body"),
    [
        ("Accepted", "applied", {"opinion": ""}),
        ("Reviewed", "accepted", {"level": 1, "opinion": "maybe", "comments": "x"}),
        ("Reviewed", "accepted", {"level": True, "opinion": "agree", "comments": "x"}),
        ("Decided", "in_review", {"outcome": "approved", "decision": "x"}),
        ("SupplementRequested", "applied", {"items": [], "notice": "x"}),
        ("Delivered", "result_issued", {"channel": "pigeon", "recipient": "x"}),
    ],
)
def test_malformed_bodies(world: World, step: str, status: str, body: dict[str, Any]) -> None:
    case = case_in(world, status)
    assert case.codes(step, signer_for(world, step), body) == ["body.invalid"]


def test_an_unreadable_body_that_was_altered_after_signing_is_also_a_bad_signature(
    world: World,
) -> None:
    case = case_in(world, "accepted")
    genuine = case.envelope("Reviewed", world.office.reviewer)
    altered = genuine.to_json()
    altered["body"]["opinion"] = "agreE"
    env = Envelope.from_bytes(canonical(altered))
    assert codes(check(case.state, world.directory, env)) == ["body.invalid", "sig.invalid"]


def test_an_unknown_matter(world: World) -> None:
    body = {**applied_body("某公司"), "matter": {"code": "NO-SUCH", "version": 1}}
    assert "matter.unknown" in Case(world).codes("Applied", world.office.handler, body)


def test_a_matter_version_defined_after_the_application(world: World) -> None:
    body = {**applied_body("某公司"), "matter": {"code": SAMPLE_MATTER, "version": 2}}
    case = Case(world)
    env = case.envelope("Applied", world.office.handler, body)
    world.admin_does(
        "MatterRevised", matter_body(SAMPLE_MATTER, "修订", version=2), at=env.at + MIN
    )
    assert "matter.unknown" in codes(check(case.state, world.directory, env))


def test_two_review_levels_by_two_reviewers(world: World) -> None:
    world.define_matter("XK-TWO", review_levels=("reviewer", "reviewer"))
    second = world.enrol("staff:chen.jie", "reviewer")
    o = world.office
    body = {**applied_body("某公司"), "matter": {"code": "XK-TWO", "version": 1}}
    case = Case(world).do("Applied", o.handler, body).do("Accepted", o.handler)
    assert case.codes("Reviewed", o.reviewer, body_for("Reviewed", level=2)) == [
        "order.not_allowed"
    ]
    case.do("Reviewed", o.reviewer)
    assert case.codes("Decided", o.approver) == ["order.not_allowed"]
    assert case.codes("Reviewed", o.reviewer) == ["duty.same_person"]
    case.do("Reviewed", second)
    assert case.state.reviews_done == 2
    assert case.codes("Reviewed", world.enrol("staff:third", "reviewer")) == ["order.not_allowed"]
    case.do("Decided", o.approver)


def test_a_review_level_held_by_approvers(world: World) -> None:
    world.define_matter("XK-LEAD", review_levels=("reviewer", "approver"))
    lead = world.enrol("staff:lead", "approver")
    o = world.office
    body = {**applied_body("某公司"), "matter": {"code": "XK-LEAD", "version": 1}}
    case = Case(world).do("Applied", o.handler, body).do("Accepted", o.handler)
    case.do("Reviewed", o.reviewer)
    assert case.codes("Reviewed", world.enrol("staff:rev2", "reviewer")) == ["role.wrong_for_step"]
    case.do("Reviewed", lead.as_role("approver"))
    case.do("Decided", o.approver)


def test_a_matter_without_review_is_decided_straight_after_acceptance(world: World) -> None:
    world.define_matter("XK-NONE", review_levels=())
    o = world.office
    body = {**applied_body("某公司"), "matter": {"code": "XK-NONE", "version": 1}}
    case = Case(world).do("Applied", o.handler, body).do("Accepted", o.handler)
    assert case.codes("Reviewed", o.reviewer) == ["order.not_allowed"]
    case.do("Decided", o.approver)


def test_a_matter_that_issues_no_seal_delivers_the_approval_directly(world: World) -> None:
    world.define_matter("BA-001", seal_issued=False)
    o = world.office
    body = {**applied_body("某公司"), "matter": {"code": "BA-001", "version": 1}}
    case = Case(world).do("Applied", o.handler, body).do("Accepted", o.handler)
    case.do("Reviewed", o.reviewer).do("Decided", o.approver).do("Delivered", o.handler)
    assert case.state.status == "delivered"


# The applicant as actor --------------------------------------------------------------------


def test_an_applicant_applies_supplies_and_withdraws_with_their_own_key(world: World) -> None:
    o = world.office
    key = PrivateKey.generate()
    applicant = Signer("applicant:quancheng", "applicant", key)
    body = {**applied_body("济南泉城食品有限公司"), "applicant_key": key.public_key_b64}
    case = Case(world).do("Applied", applicant, body).do("SupplementRequested", o.handler)
    case.do("SupplementProvided", applicant)
    other = Signer("applicant:someone", "applicant", PrivateKey.generate())
    assert case.codes("Withdrawn", other) == ["role.missing"]
    case.do("Withdrawn", applicant)


def test_an_applicant_key_that_does_not_match_the_actor(world: World) -> None:
    key = PrivateKey.generate()
    applicant = Signer("applicant:x", "applicant", key)
    body = {**applied_body("某公司"), "applicant_key": PrivateKey.generate().public_key_b64}
    assert Case(world).codes("Applied", applicant, body) == ["sig.unknown_key"]


# The directory ---------------------------------------------------------------------------


def test_seq_1_must_be_signed_by_a_root_key(world: World) -> None:
    fresh = DirectoryState(org=world.office.org, root_keys=world.directory.root_keys)
    first = StreamWriter(fresh.stream).sign(
        "StaffEnrolled",
        world.office.admin,
        T0,
        {"staff": "staff:admin", "name": "x", "unit": "u", "id_commitment": SOME_ID},
    )
    assert codes(check(None, fresh, first)) == ["directory.root_required"]


def test_a_directory_change_by_a_non_admin(world: World) -> None:
    env = world.sign_directory(
        "StaffEnrolled",
        {"staff": "staff:x", "name": "x", "unit": "u", "id_commitment": SOME_ID},
        signer=world.office.handler,
    )
    assert codes(check(None, world.directory, env)) == ["directory.not_admin"]
    as_admin = world.sign_directory(
        "StaffEnrolled",
        {"staff": "staff:x", "name": "x", "unit": "u", "id_commitment": SOME_ID},
        signer=world.office.handler.as_role("admin"),
    )
    assert codes(check(None, world.directory, as_admin)) == ["directory.not_admin"]


def test_the_root_key_may_sign_later_changes_too(world: World) -> None:
    env = world.sign_directory(
        "StaffEnrolled",
        {"staff": "staff:x", "name": "x", "unit": "u", "id_commitment": SOME_ID},
        signer=world.office.root,
    )
    assert codes(check(None, world.directory, env)) == []


@pytest.mark.parametrize(
    ("step", "body"),
    [
        (
            "StaffEnrolled",
            {"staff": "staff:li.na", "name": "x", "unit": "u", "id_commitment": SOME_ID},
        ),
        ("KeyAdded", {"staff": "staff:nobody", "public_key": PrivateKey.generate().public_key_b64}),
        ("KeyRevoked", {"key_id": "0123456789abcdef", "reason": "x"}),
        ("RoleGranted", grant_body("g-li.na", "staff:li.na", "reviewer", valid_from=T0)),
        ("RoleGranted", grant_body("g-new", "staff:nobody", "reviewer", valid_from=T0)),
        ("RoleRevoked", {"grant": "g-none", "reason": "x"}),
        ("MatterDefined", matter_body(SAMPLE_MATTER, "again")),
        ("MatterRevised", matter_body(SAMPLE_MATTER, "skip", version=3)),
        ("MatterRevised", matter_body("NO-SUCH", "x", version=2)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_directory_changes_that_contradict_the_directory(
    world: World, step: str, body: dict[str, Any]
) -> None:
    assert codes(check(None, world.directory, world.sign_directory(step, body))) == [
        "directory.invalid"
    ]


def test_the_same_key_cannot_be_added_twice(world: World) -> None:
    key = world.office.keys["staff:li.na"]
    env = world.sign_directory(
        "KeyAdded", {"staff": "staff:li.na", "public_key": key.public_key_b64}
    )
    assert codes(check(None, world.directory, env)) == ["directory.invalid"]


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("StaffEnrolled", {"staff": "staff:x", "name": "", "unit": "u", "id_commitment": SOME_ID}),
        ("KeyAdded", {"staff": "staff:li.na", "public_key": "AAAA"}),
        ("RoleGranted", {**grant_body("g-z", "staff:li.na", "janitor", valid_from=T0)}),
        (
            "RoleGranted",
            {**grant_body("g-z", "staff:li.na", "reviewer", valid_from=T0), "matters": []},
        ),
        ("MatterDefined", {**matter_body("NEW-1", "x"), "seal_issued": "yes"}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_unreadable_directory_bodies(world: World, step: str, body: dict[str, Any]) -> None:
    assert codes(check(None, world.directory, world.sign_directory(step, body))) == ["body.invalid"]


def test_an_applicant_applied_without_their_key_is_refused_not_a_crash(world: World) -> None:
    # A staff member claiming the applicant role on an Applied that names no applicant_key.
    pretender = world.office.handler.as_role("applicant")
    assert Case(world).codes("Applied", pretender) == ["body.invalid"]


def test_revocations_in_the_same_second_as_a_step_do_not_condemn_it(world: World) -> None:
    # Append admits the step; the audit later sees revocations of the same second, which it
    # cannot order against the step. Ties go to the step, so both judge alike.
    reviewer = world.office.reviewer
    case = case_in(world, "accepted")
    env = case.envelope("Reviewed", reviewer)
    assert codes(check(case.state, world.directory, env)) == []
    world.admin_does("RoleRevoked", {"grant": "g-li.na", "reason": "调岗"}, at=env.at)
    world.admin_does("KeyRevoked", {"key_id": reviewer.key.key_id, "reason": "到期"}, at=env.at)
    assert codes(check(case.state, world.directory, env)) == []
    later = case.envelope("Reviewed", reviewer, at=env.at + timedelta(seconds=1))
    assert codes(check(case.state, world.directory, later)) == ["key.revoked", "role.revoked"]


def test_docs_rules_lists_every_violation_code() -> None:
    text = (Path(__file__).parents[2] / "docs" / "rules.md").read_text("utf-8")
    assert [code for code in CODES if f"`{code}`" not in text] == []
