"""Issuing a sealed result as the office does: the China date of issue, the 文号, the archival
claim, and a timestamp from an RFC 3161 TSA reached over HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from api.org import OrgHome
from api.results import issue_result
from cli.jobs import _demo_office
from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from seals import SealingError, timestamper_for_url
from tests.seals.tsakit import local_tsa
from verify import Verdict, verify_pdf

# The case runs in the evening, China time, of 1 December; the result is sealed at 20:00 UTC,
# which in China is already 04:00 on 2 December.
START = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
SEALED_AT = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[OrgHome, CaseLedger, SampleOffice]]:
    home = OrgHome.init(
        tmp_path / "office",
        org="jinan-approval",
        org_name="济南市行政审批服务局",
        public_base_url="https://zwfw.jinan.example.gov.cn",
        now=START - timedelta(days=1),
        review_body="济南市人民政府",
        court="济南市市中区人民法院",
    )
    ledger = home.open_ledger()
    sample = _demo_office(home, "")
    try:
        for envelope in sample.directory_envelopes(START - timedelta(hours=1)):
            ledger.append(envelope, openings=sample.openings.values())
        yield home, ledger, sample
    finally:
        ledger.close()


def _decided_case(ledger: CaseLedger, sample: SampleOffice) -> str:
    case = sample.case_until_decided(START)
    for envelope in case:
        ledger.append(envelope)
    return case[0].stream


def _text(pdf: bytes, folder: Path) -> str:
    path = folder / "issued.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    return "".join(done.stdout.decode("utf-8").split())


def test_issued_at_20_utc_the_document_shows_the_next_china_day(
    office: tuple[OrgHome, CaseLedger, SampleOffice], tmp_path: Path
) -> None:
    home, ledger, sample = office
    stream = _decided_case(ledger, sample)
    issued = issue_result(home, ledger, stream, now=SEALED_AT)
    text = _text(issued.pdf, tmp_path)
    # 成文日期 is the China date of the seal (2 December), not the UTC date (1 December); the
    # application (19:00 in China on 1 December) keeps its own China date.
    assert text.count("2026年12月2日") == 1
    assert "于2026年12月1日提出的" in text and "于2026年12月1日依法受理" in text
    assert "有效期限：自2026年12月1日起至2031年11月30日止" in text
    assert issued.case_number.startswith("20261201-")
    # The 文号 is numbered in the China year of issue and printed as recorded.
    assert issued.document_number.endswith("〔2026〕1号")
    assert issued.document_number in text
    assert "统一社会信用代码：91370100MA3C000001" in text
    assert "向济南市人民政府申请行政复议" in text and "向济南市市中区人民法院提起行政诉讼" in text
    recorded = list(ledger.events(stream))[-1]
    assert recorded.type == "ResultIssued"
    assert recorded.body["document_number"] == issued.document_number
    assert _unchecked(verify_pdf(issued.pdf, home.trust(), at=SEALED_AT)) == {"result.status"}


def test_the_office_s_rsa_seal_keeps_the_pdf_a_3b_claim_true(
    office: tuple[OrgHome, CaseLedger, SampleOffice],
) -> None:
    home, ledger, sample = office
    issued = issue_result(home, ledger, _decided_case(ledger, sample), now=SEALED_AT)
    with pikepdf.open(BytesIO(issued.pdf)) as pdf:
        assert pdf.pdf_version == "1.7" and "/Version" not in pdf.Root
        assert str(pdf.open_metadata()["pdfaid:part"]) == "3"
    report = pikepdf.pdfa.validate_written(BytesIO(issued.pdf), "3b")
    assert [f for f in report.findings if f.kind == "violation"] == []


def test_a_configured_tsa_timestamps_the_seal(
    office: tuple[OrgHome, CaseLedger, SampleOffice],
) -> None:
    home, ledger, sample = office
    tsa = home.seal_authority().issue_tsa(now=START - timedelta(days=1))
    stream = _decided_case(ledger, sample)
    with local_tsa(tsa, fixed_time=SEALED_AT) as (url, served):
        issued = issue_result(
            home, ledger, stream, now=SEALED_AT, timestamper=timestamper_for_url(url)
        )
    # pyHanko asks once more with a dummy digest to size the token it will embed.
    assert served and set(served) == {"/tsa"}
    report = verify_pdf(issued.pdf, home.trust(), at=SEALED_AT + timedelta(minutes=1))
    assert _unchecked(report) == {"result.status"}
    assert _token_time(issued.pdf) == SEALED_AT


def _token_time(pdf: bytes) -> datetime:
    """The generation time in the seal's RFC 3161 signature timestamp token."""
    signature = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures[0]
    attributes = signature.signer_info["unsigned_attrs"]
    token = next(a for a in attributes if a["type"].native == "signature_time_stamp_token")
    content = token["values"][0]["content"]["encap_content_info"]["content"]
    when: datetime = content.parsed["gen_time"].native
    return when


def test_an_unreachable_tsa_fails_the_seal_and_records_nothing(
    office: tuple[OrgHome, CaseLedger, SampleOffice],
) -> None:
    home, ledger, sample = office
    tsa = home.seal_authority().issue_tsa(now=START - timedelta(days=1))
    stream = _decided_case(ledger, sample)
    with local_tsa(tsa) as (url, _):
        gone = url  # the server is shut when the block ends
    with pytest.raises(SealingError) as caught:
        issue_result(home, ledger, stream, now=SEALED_AT, timestamper=timestamper_for_url(gone))
    assert caught.value.code == "seal.sealing"
    assert list(ledger.events(stream))[-1].type == "Decided"


@pytest.mark.parametrize("url", ["ftp://tsa.example/", "tsa.example", "http://"])
def test_a_tsa_address_must_be_http(url: str) -> None:
    with pytest.raises(SealingError) as caught:
        timestamper_for_url(url)
    assert caught.value.code == "seal.tsa_url"


def _unchecked(report: Verdict) -> set[str]:
    """The checks that did not pass: offline, only the result's status (asked of the office)."""
    return {check.id for check in report.checks if check.status != "passed"}
