"""Genuine sealed results and bundles, built from the real pieces, for the verifier's tests.

SampleOffice envelopes → an in-memory Merkle tree (ledger.merkle) → a checkpoint signed by the
log key and cosigned by a witness (ledger.checkpoint) → tlog-proofs → Receipt → the seal
service's renderer → attach_receipt → seal_pdf with a real seal CA, CRL and TSA. Every piece can
be swapped for a tampered one, so a tamper case changes exactly what it names.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.serialization import Encoding

from ledger.checkpoint import cosign, format_tlog_proof, sign_checkpoint, verifier_key_string
from ledger.client import StreamWriter
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.merkle import MemoryTree
from ledger.receipt import BUNDLE_KIND, RECEIPT_KIND, Receipt
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.status import StatusStatement, derive_status
from ledger.trust import TrustFile
from seals import FileKeySigner, InProcessTimeStamper, SealAuthority, seal_pdf
from seals.attach import attach_receipt
from seals.authority import SealCredentials
from seals.render import ResultDocument, render_result
from verify._text import case_number

COSIGNATURE_TYPE = 0x04
T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)  # directory set up
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)  # case applied
SEALED_AT = datetime(2026, 11, 24, 2, 0, 0, tzinfo=UTC)
CHECK_AT = datetime(2026, 11, 25, 8, 0, 0, tzinfo=UTC)  # when the tests verify
PKI_START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
ORIGIN = "log.jinan-approval.example.gov.cn/v1"
WITNESS = "witness.supervision.example.gov.cn"
CASE_ID = uuid.UUID("3f6c2a9b-1d04-4c55-9a0e-1234567890ab")


@dataclass
class Org:
    """One organisation: its office (staff keys), seal PKI, log key and witness key."""

    office: SampleOffice
    authority: SealAuthority
    tsa: SealCredentials
    log_key: PrivateKey = field(default_factory=PrivateKey.generate)
    witness_key: PrivateKey = field(default_factory=PrivateKey.generate)
    status_key: PrivateKey = field(default_factory=PrivateKey.generate)

    @classmethod
    def create(cls, org: str = "jinan-approval", name: str = "济南市行政审批服务局") -> Org:
        authority = SealAuthority.create(
            name, now=PKI_START, crl_url="http://seal.example.gov.cn/crl", ca_days=7300
        )
        return cls(
            SampleOffice(org=org, org_name=name), authority, authority.issue_tsa(now=PKI_START)
        )

    def trust(self, **changes: object) -> TrustFile:
        pem = self.authority.ca_certificate.public_bytes(Encoding.PEM).decode("ascii")
        trust = TrustFile(
            org=self.office.org,
            org_name=self.office.org_name,
            root_keys={self.office.root_key.key_id: self.office.root_key.public_key},
            log_origin=ORIGIN,
            log_verifier_key=verifier_key_string(ORIGIN, self.log_key.public_key),
            seal_ca_pems=(pem,),
            witness_keys=(
                verifier_key_string(WITNESS, self.witness_key.public_key, COSIGNATURE_TYPE),
            ),
            witness_quorum=1,
            public_base_url="https://zwfw.example.gov.cn",
            status_keys={self.status_key.key_id: self.status_key.public_key},
        )
        return replace(trust, **changes)  # type: ignore[arg-type]

    def directory(self) -> list[Envelope]:
        return self.office.directory_envelopes(T0)

    def case(self) -> list[Envelope]:
        return self.office.case_until_decided(T1, case_id=CASE_ID)


@dataclass(frozen=True)
class LogView:
    """A log holding some envelopes: its tree, its signed (and cosigned) checkpoint note."""

    tree: MemoryTree
    checkpoint: str
    index: dict[str, int]

    def proof(self, envelope_hash: str, size: int | None = None, note: str | None = None) -> str:
        index = self.index[envelope_hash]
        hashes = self.tree.inclusion_proof(index, size)
        return format_tlog_proof(index, hashes, note or self.checkpoint)


def make_log(
    org: Org,
    envelopes: list[Envelope],
    *,
    log_key: PrivateKey | None = None,
    witness: bool = True,
    extra_leaves: int = 3,
) -> LogView:
    """A log holding ``envelopes`` (and a few other leaves after them, as a real log would)."""
    tree = MemoryTree()
    index = {}
    for env in envelopes:
        index[env.hash] = tree.append(bytes.fromhex(env.hash))
    for n in range(extra_leaves):
        tree.append(bytes([n]) * 32)
    note = sign_checkpoint(ORIGIN, tree.size, tree.root(), log_key or org.log_key)
    if witness:
        note = cosign(note, org.witness_key, WITNESS, SEALED_AT)
    return LogView(tree, note, index)


def make_receipt(
    org: Org,
    case: list[Envelope] | None = None,
    directory: list[Envelope] | None = None,
    *,
    kind: str = RECEIPT_KIND,
    log: LogView | None = None,
    proofs: Callable[[LogView, Envelope], str] | None = None,
) -> Receipt:
    """A receipt of ``case`` with ``directory``, proofs and checkpoint from ``log``."""
    case = org.case() if case is None else case
    directory = org.directory() if directory is None else directory
    log = log or make_log(org, [*directory, *case])
    make_proof = proofs or (lambda view, env: view.proof(env.hash))
    return Receipt(
        kind=kind,
        org=org.office.org,
        case=case[0].stream if case else f"case:{CASE_ID}",
        envelopes=tuple(case),
        directory=tuple(directory),
        proofs={env.hash: make_proof(log, env) for env in [*directory, *case]},
        checkpoint=log.checkpoint,
    )


def make_bundle(org: Org, **kwargs: object) -> bytes:
    return make_receipt(org, kind=BUNDLE_KIND, **kwargs).dumps()  # type: ignore[arg-type]


def document(org: Org, **changes: object) -> ResultDocument:
    values: dict[str, object] = {
        "case_number": case_number(f"case:{CASE_ID}", T1),
        "applicant_name": "济南泉城食品有限公司",
        "applicant_id_number": "91370100MA3C000001",
        "matter_name": "食品经营许可证核发",
        "matter_code": "XK-370100-001",
        "decision_text": "准予行政许可，核发《食品经营许可证》。",
        "legal_basis": "《中华人民共和国行政许可法》第三十八条第一款",
        "organisation": org.office.org_name,
        "issued_on": date(2026, 11, 24),
        "verification_url": f"https://zwfw.example.gov.cn/v/{CASE_ID}",
        "valid_from": date(2026, 11, 24),
        "valid_until": date(2031, 11, 23),
    }
    values.update(changes)
    return ResultDocument(**values)  # type: ignore[arg-type]


def unsealed_pdf(org: Org, receipt: bytes | None = None, **doc_changes: object) -> bytes:
    """The result document with the receipt attached, not yet sealed."""
    receipt = make_receipt(org).dumps() if receipt is None else receipt
    rendered = render_result(document(org, **doc_changes))
    return attach_receipt(rendered, receipt, at=SEALED_AT)


def seal(
    org: Org,
    pdf: bytes,
    *,
    authority: SealAuthority | None = None,
    crl_at: datetime = SEALED_AT - timedelta(minutes=5),
    timestamp: bool = True,
    crl: bool = True,
) -> bytes:
    """``pdf`` sealed by ``authority`` (default: the organisation's) with a CRL and timestamp."""
    authority = authority or org.authority
    signer = FileKeySigner.from_authority(authority)
    stamper = InProcessTimeStamper(org.tsa, fixed_time=SEALED_AT) if timestamp else None
    sealed = seal_pdf(
        pdf,
        signer,
        crl=authority.crl(now=crl_at, next_update=timedelta(days=30)) if crl else None,
        timestamper=stamper,
        at=SEALED_AT,
    )
    return sealed.pdf


def sealed_pdf(org: Org, receipt: bytes | None = None, **doc_changes: object) -> bytes:
    """A genuine sealed result of the sample case."""
    return seal(org, unsealed_pdf(org, receipt, **doc_changes))


STATED_AT = CHECK_AT - timedelta(hours=1)
REVOKED_AT = SEALED_AT + timedelta(days=1)


def after_issue(org: Org, pdf: bytes, ending: str = "valid") -> list[Envelope]:
    """The case of ``pdf`` after Decided: ResultIssued, then (for ``ending``) Delivered and
    ResultRevoked, or a superseding ResultIssued."""
    case = org.case()
    writer = StreamWriter(case[-1].stream, case[-1].seq, case[-1].hash)
    office = org.office
    sha = hashlib.sha256(pdf).hexdigest()
    number = case_number(f"case:{CASE_ID}", T1)
    body = {"pdf_sha256": sha, "seal_serial": "01", "case_number": number}
    steps = [writer.sign("ResultIssued", office.seal_service, SEALED_AT, body)]
    if ending == "revoked":
        delivered = {"channel": "window", "recipient": "申请人"}
        steps.append(
            writer.sign("Delivered", office.handler, SEALED_AT + timedelta(hours=1), delivered)
        )
        revoked = {
            "reason": "以欺骗手段取得行政许可",
            "legal_basis": "行政许可法第六十九条",
            "result": sha,
        }
        steps.append(writer.sign("ResultRevoked", office.approver, REVOKED_AT, revoked))
    elif ending == "superseded":
        newer = {**body, "pdf_sha256": "ab" * 32, "supersedes": sha}
        steps.append(writer.sign("ResultIssued", office.seal_service, REVOKED_AT, newer))
    return [*case, *steps]


def status_statement(
    org: Org,
    pdf: bytes,
    ending: str = "valid",
    *,
    stated_at: datetime = STATED_AT,
    key: PrivateKey | None = None,
    log_key: PrivateKey | None = None,
) -> StatusStatement:
    """The office's signed status statement of ``pdf``, as the server would answer it."""
    directory_envelopes = org.directory()
    directory = DirectoryState(
        org.office.org, {org.office.root_key.key_id: org.office.root_key.public_key}
    )
    for env in directory_envelopes:
        directory.apply(env)
    case = after_issue(org, pdf, ending)
    facts = derive_status(case, hashlib.sha256(pdf).hexdigest(), directory)
    assert facts is not None
    log = make_log(org, [*directory_envelopes, *case], log_key=log_key)
    statement = StatusStatement.of(
        org.office.org, facts, stated_at=stated_at, tlog_proof=log.proof(facts.deciding.hash)
    )
    return statement.signed(key or org.status_key)
