"""Tampered case records: genuine keys used wrongly, or forged ones, one fault at a time."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from verifykit import CASE_ID, ORIGIN, T0, T1, LogView, Org, make_log

from ledger.checkpoint import format_tlog_proof, sign_checkpoint
from ledger.client import Signer, StreamWriter, grant_body
from ledger.envelope import Envelope, format_time, seal_envelope
from ledger.sample import applied_body, decided_body
from ledger.signing import PrivateKey

_REVIEW = {
    "level": 1,
    "opinion": "agree",
    "comments": "经审查，申请人符合许可条件。",
    "basis": "《食品经营许可和备案管理办法》",
}


def case_with(
    org: Org,
    *,
    reviewer: Signer | None = None,
    approver: Signer | None = None,
    skip_review: bool = False,
    decided_after: timedelta | None = None,
) -> list[Envelope]:
    """The sample case, with other signers for the review or the decision if given."""
    office = org.office
    writer = StreamWriter(f"case:{CASE_ID}")
    at = T1
    step = timedelta(minutes=7)
    out = [writer.sign("Applied", office.handler, at, applied_body("济南泉城食品有限公司"))]
    out.append(writer.sign("Accepted", office.handler, at + step, {"opinion": "予以受理。"}))
    if not skip_review:
        out.append(writer.sign("Reviewed", reviewer or office.reviewer, at + 2 * step, _REVIEW))
    decided_at = at + (decided_after or 3 * step)
    out.append(writer.sign("Decided", approver or office.approver, decided_at, decided_body(T1)))
    return out


def decided_late(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """A genuine record of a case decided eight weeks after its acceptance: past the
    statutory limit of 20 working days."""
    return case_with(org, decided_after=timedelta(weeks=8)), org.directory()


def directory_plus(org: Org, step_type: str, body: dict[str, object]) -> list[Envelope]:
    """The sample directory with one more entry signed by the admin."""
    directory = org.directory()
    last = directory[-1]
    writer = StreamWriter(last.stream, seq=last.seq, prev=last.hash)
    return [*directory, writer.sign(step_type, org.office.admin, T0 + timedelta(hours=2), body)]


def forged_signature(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """The review re-signed by a key that is not the reviewer's (actor unchanged), chained."""
    case = org.case()
    draft = {k: v for k, v in case[2].to_json().items() if k != "sig"}
    forged = seal_envelope(draft, PrivateKey.generate())
    decided = {k: v for k, v in case[3].to_json().items() if k != "sig"}
    decided["prev"] = forged.hash
    return [*case[:2], forged, seal_envelope(decided, org.office.approver.key)], org.directory()


def wrong_role(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """The handler reviews, claiming the reviewer role they were never granted."""
    handler_as_reviewer = org.office.signer("staff:wang.li", "reviewer")
    return case_with(org, reviewer=handler_as_reviewer), org.directory()


def same_person_two_roles(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """The reviewer also holds an approver grant and decides the case she reviewed."""
    directory = directory_plus(
        org, "RoleGranted", grant_body("g-li.na-approver", "staff:li.na", "approver", valid_from=T0)
    )
    approver = org.office.signer("staff:li.na", "approver")
    return case_with(org, approver=approver), directory


def key_revoked_before_use(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """The approver's key is void from the day before the decision is signed with it."""
    body = {
        "key_id": org.office.approver.key.key_id,
        "reason": "钥匙遗失",
        "void_from": format_time(T1 - timedelta(days=1)),
    }
    return org.case(), directory_plus(org, "KeyRevoked", body)


def broken_prev_chain(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """The review signed by the reviewer, but chained to a hash that is not the acceptance."""
    case = org.case()
    draft = {k: v for k, v in case[2].to_json().items() if k != "sig"}
    draft["prev"] = hashlib.sha256(b"some other step").hexdigest()
    review = seal_envelope(draft, org.office.reviewer.key)
    decided = {k: v for k, v in case[3].to_json().items() if k != "sig"}
    decided["prev"] = review.hash
    return [*case[:2], review, seal_envelope(decided, org.office.approver.key)], org.directory()


def missing_step(org: Org) -> tuple[list[Envelope], list[Envelope]]:
    """The review left out of the record (the decision still chains to it)."""
    case = org.case()
    return [case[0], case[1], case[3]], org.directory()


def proof_for_smaller_tree(org: Org, log: LogView) -> object:
    """Proofs made for the tree one leaf smaller, with that tree's own signed checkpoint."""
    size = log.tree.size - 1
    note = sign_checkpoint(ORIGIN, size, log.tree.root(size), org.log_key)
    return lambda view, env: format_tlog_proof(
        view.index[env.hash], view.tree.inclusion_proof(view.index[env.hash], size), note
    )


def proof_hashes_for_other_size(log: LogView) -> object:
    """Proof hashes computed for a smaller tree, presented with the receipt's checkpoint."""
    size = log.tree.size - 2
    return lambda view, env: view.proof(env.hash, size=size)


def wrong_log_key_log(org: Org) -> LogView:
    return make_log(org, [*org.directory(), *org.case()], log_key=PrivateKey.generate())


def unwitnessed_log(org: Org) -> LogView:
    return make_log(org, [*org.directory(), *org.case()], witness=False)
