"""How long one sealed result takes: render + attach + seal, against pyHanko's bare signing.

The baseline is what pyHanko does out of the box on the same rendered file in the same run:
its stock ``SimpleSigner`` (which re-reads the private key for every signature) making a
plain signature, no timestamp, no revocation data. Ours renders the document, attaches the
receipt as PDF/A-3b (validated), and seals with the CRL checked and embedded (B-B + DSS), and
again with an in-process TSA (B-LT).

    .venv/bin/python bench/seal.py [--n 15]

Then each notice type (受理通知书 … 撤销行政许可决定书) is rendered from its shipped template
and sealed the same way (render + attach + seal), against the same baseline.

Prints a table, then one JSON line with the medians (ms) and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seals import ResultDocument, SealAuthority
    from seals.authority import KeyAlgorithm

# Scripts in bench/ may share a name with a standard module, and Python puts the
# script's folder first on the import path: take it off before importing pyHanko and seals
# (which is why those imports live inside the functions), as ``python -P`` would.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
RECEIPT = json.dumps({"v": 1, "envelopes": ["x" * 600] * 12}).encode()


def sample_document() -> ResultDocument:
    from seals import ResultDocument

    return ResultDocument(
        case_number="XH-2026-000123",
        applicant_name="杭州清河餐饮管理有限公司",
        applicant_id_number="91330106MA2B000123",
        matter_name="食品经营许可（新办）",
        matter_code="330106-XK-0012",
        decision_text="你单位提出的申请符合法定条件、标准，决定准予行政许可，核发《食品经营许可证》。",
        legal_basis="《中华人民共和国行政许可法》第三十八条第一款",
        organisation="杭州市西湖区行政审批局",
        issued_on=date(2026, 11, 23),
        verification_url="https://zwfw.example.gov.cn/v/3f6c2a1e-7b1d-4c55-9a0e-1234567890ab",
        valid_from=date(2026, 11, 23),
        valid_until=date(2031, 11, 22),
        applicant_kind="organisation",
        applied_on=date(2026, 11, 16),
        accepted_on=date(2026, 11, 17),
        document_number="西审批许准〔2026〕123号",
        licence_number="JY13301060012345",
        scope=("预包装食品（含冷藏冷冻食品）销售", "热食类食品制售"),
        review_body="杭州市西湖区人民政府",
        court="杭州市西湖区人民法院",
    )


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm caches (font registration, glyph outlines) outside the measurement
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bare_pyhanko(authority: SealAuthority, pdf: bytes) -> bytes:
    from asn1crypto import keys as asn1_keys
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from seals._pki import private_key_der
    from seals.signer import certificate_store, to_asn1

    seal = authority.seal
    signer = signers.SimpleSigner(
        signing_cert=to_asn1(seal.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(private_key_der(seal.private_key)),
        cert_registry=certificate_store(seal.chain),
    )
    meta = signers.PdfSignatureMetadata(field_name="baseline")
    out = signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=signer)
    return bytes(out.getvalue())


def measure(algorithm: KeyAlgorithm, n: int) -> dict[str, float]:
    from seals import (
        FileKeySigner,
        InProcessTimeStamper,
        SealAuthority,
        attach_receipt,
        render_result,
        seal_pdf,
    )

    doc = sample_document()
    authority = SealAuthority.create(
        doc.organisation, now=NOW, crl_url="http://seal.example/crl", algorithm=algorithm
    )
    signer = FileKeySigner.from_authority(authority)
    tsa = InProcessTimeStamper(authority.issue_tsa(now=NOW))
    crl = authority.crl(now=NOW, next_update=timedelta(days=3650))
    rendered = render_result(doc)
    attached = attach_receipt(rendered, RECEIPT, at=NOW)
    figures = {
        "baseline_ms": median_ms(lambda: bare_pyhanko(authority, rendered), n),
        "render_ms": median_ms(lambda: render_result(doc), n),
        "attach_ms": median_ms(lambda: attach_receipt(rendered, RECEIPT, at=NOW), n),
        "seal_ms": median_ms(lambda: seal_pdf(attached, signer, crl=crl), n),
        "seal_lt_ms": median_ms(lambda: seal_pdf(attached, signer, crl=crl, timestamper=tsa), n),
        "total_ms": median_ms(
            lambda: seal_pdf(attach_receipt(render_result(doc), RECEIPT, at=NOW), signer, crl=crl),
            n,
        ),
    }
    figures["ratio"] = figures["total_ms"] / figures["baseline_ms"]
    figures["total_lt_ms"] = figures["total_ms"] - figures["seal_ms"] + figures["seal_lt_ms"]
    figures["ratio_lt"] = figures["total_lt_ms"] / figures["baseline_ms"]
    return {k: round(v, 2) for k, v in figures.items()}


NOTICE_VALUES = {
    "applicant": "杭州清河餐饮管理有限公司",
    "matter": "食品经营许可（新办）",
    "case_number": "20261123-3F6C2A1E7B1D",
    "query_code": "12345678",
    "organisation": "杭州市西湖区行政审批局",
    "applied_date": "2026年11月20日",
    "accepted_date": "2026年11月23日",
    "decided_date": "2026年11月23日",
    "committed_date": "2026年12月7日",
    "statutory_date": "2026年12月21日",
    "supplement_deadline": "2026年12月23日",
    "review_body": "杭州市西湖区人民政府",
    "court": "杭州市西湖区人民法院",
    "contact": "0571-00000000",
    "reason": "申请材料不符合法定形式。",
    "legal_basis": "《中华人民共和国行政许可法》第三十二条",
    "decision": "申请人不符合法定条件。",
    "notice": "请按要求补正。",
    "items": "1. 营业执照副本；2. 食品安全管理制度",
}
NOTICES = {
    "acceptance": ("受理通知书", "予以受理"),
    "supplement": ("补正材料通知书", "需补正材料"),
    "not_accepted": ("不予受理通知书", "不予受理"),
    "denial": ("不予行政许可决定书", "不予行政许可"),
    "revocation": ("撤销行政许可决定书", "撤销行政许可"),
}


def measure_notices(algorithm: KeyAlgorithm, n: int) -> dict[str, dict[str, float]]:
    """render + attach + seal of each notice type, and its ratio to pyHanko's bare signing."""
    from seals import FileKeySigner, SealAuthority, attach_receipt, seal_pdf
    from seals.notices import NoticeDocument, default_template, fill_template, render_notice

    authority = SealAuthority.create(
        "杭州市西湖区行政审批局", now=NOW, crl_url="http://seal.example/crl", algorithm=algorithm
    )
    signer = FileKeySigner.from_authority(authority)
    crl = authority.crl(now=NOW, next_update=timedelta(days=3650))
    found = {}
    for doc_type, (title, outcome) in NOTICES.items():
        doc = NoticeDocument(
            title=title,
            outcome_text=outcome,
            organisation="杭州市西湖区行政审批局",
            document_number=f"西审批〔2026〕{len(found) + 1}号",
            case_number="20261123-3F6C2A1E7B1D",
            paragraphs=fill_template(default_template(doc_type), NOTICE_VALUES),
            issued_on=date(2026, 11, 23),
            verification_url="https://zwfw.example.gov.cn/verify?case=20261123-3F6C2A1E7B1D",
        )
        rendered = render_notice(doc)
        baseline = median_ms(lambda rendered=rendered: bare_pyhanko(authority, rendered), n)
        total = median_ms(
            lambda doc=doc: seal_pdf(
                attach_receipt(render_notice(doc), RECEIPT, at=NOW), signer, crl=crl, at=NOW
            ),
            n,
        )
        found[doc_type] = {
            "baseline_ms": round(baseline, 2),
            "total_ms": round(total, 2),
            "ratio": round(total / baseline, 2),
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=15, help="runs per figure (median)")
    args = parser.parse_args()
    results = {alg: measure(alg, args.n) for alg in ("ecdsa-p256", "rsa-3072")}
    columns = ["baseline_ms", "render_ms", "attach_ms", "seal_ms", "total_ms", "ratio"]
    columns += ["seal_lt_ms", "total_lt_ms", "ratio_lt"]
    print(f"{'algorithm':<11}" + "".join(f"{c:>13}" for c in columns))
    for alg, figures in results.items():
        print(f"{alg:<11}" + "".join(f"{figures[c]:>13.2f}" for c in columns))
    office = results["rsa-3072"]  # the key an office's seal gets (its PDF/A-3b claim holds)
    notices = measure_notices("rsa-3072", args.n)
    print(f"{'notice':<13}{'baseline_ms':>13}{'total_ms':>13}{'ratio':>13}")
    for doc_type, figures in notices.items():
        print(
            f"{doc_type:<13}{figures['baseline_ms']:>13.2f}"
            f"{figures['total_ms']:>13.2f}{figures['ratio']:>13.2f}"
        )
    print(
        json.dumps(
            {
                "bench": "seal",
                "ours_render_attach_seal_ms": office["total_ms"],
                "baseline_pyhanko_sign_ms": office["baseline_ms"],
                "ratio": office["ratio"],
                "goal_ratio": 2.0,
                "n": args.n,
                **results,
                "notices_rsa-3072": notices,
            }
        )
    )


if __name__ == "__main__":
    main()
