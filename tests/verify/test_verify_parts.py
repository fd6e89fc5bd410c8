"""The verifier's own readers, each against an independent implementation or a crafted input:
page text (against pypdf and poppler's pdftotext), ToUnicode maps, the byte range, later
revisions, the CMS framing, and the input bounds."""

from __future__ import annotations

import shutil
import socket
import subprocess
import zlib
from io import BytesIO
from pathlib import Path

import pdf_attacks as attacks
import pikepdf
import pypdf
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from verifykit import CASE_ID, CHECK_AT, T1, Org, seal, status_statement

from ledger.state import case_id_of_number, legacy_case_number
from ledger.trust import TrustFile
from verify import InputUnreadable, StatusEvidence, verify_bundle, verify_pdf
from verify._cms import _der_framing
from verify._pdfstruct import (
    byte_range_problem,
    later_revision_problems,
    trailing_bytes_problem,
)
from verify._text import _CMap, case_number, match_problems, page_text
from verify.limits import MAX_PDF_BYTES, VerifyLimits, check_pdf_bytes


def _squash(text: str) -> str:
    return "".join(text.split())


def test_page_text_agrees_with_pypdf(genuine: bytes) -> None:
    ours = page_text(genuine, 10).text
    theirs = "".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(genuine)).pages)
    assert _squash(ours) == _squash(theirs)
    assert "案件编号：20261124-3F6C2A9B1D04" in _squash(ours)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_page_text_agrees_with_pdftotext(genuine: bytes, tmp_path: Path) -> None:
    (tmp_path / "r.pdf").write_bytes(genuine)
    done = subprocess.run(
        ["pdftotext", "-raw", "r.pdf", "-"], cwd=tmp_path, capture_output=True, check=True
    )
    poppler = _squash(done.stdout.decode("utf-8"))
    for line in page_text(genuine, 10).text.splitlines():
        assert _squash(line) in poppler


def test_text_only_in_metadata_does_not_count(genuine: bytes) -> None:
    # The renderer also writes the case number into the PDF's Subject and Keywords; a page
    # without the drawn line must not match on them.
    text = page_text(genuine, 10).text.replace("案件编号", "编号")
    problems = match_problems(text, "20261124-3F6C2A9B1D04", str(CASE_ID), "approved")
    assert problems == ["the page shows no case number (案件编号)"]


def test_case_number_is_the_china_date_and_the_whole_id() -> None:
    number = case_number(f"case:{CASE_ID}", T1)
    assert number == "20261124-" + CASE_ID.hex.upper()
    assert case_id_of_number(number) == str(CASE_ID)
    assert case_id_of_number("20261124-3F6C2A9B1D04") is None


def test_a_page_with_the_first_release_short_number_still_matches() -> None:
    number = case_number(f"case:{CASE_ID}", T1)
    legacy = legacy_case_number(f"case:{CASE_ID}", T1)
    page = f"案件编号：{legacy}\n办理结果：准予行政许可"
    assert match_problems(page, number, str(CASE_ID), "approved") == []
    other = f"案件编号：20261124-{'0' * 12}\n办理结果：准予行政许可"
    assert match_problems(other, number, str(CASE_ID), "approved") != []


def test_tounicode_maps_read_bfchar_bfrange_and_two_byte_codes() -> None:
    cmap = _CMap.parse(
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        "2 beginbfchar <0001> <6848> <0002> <4EF6> endbfchar\n"
        "2 beginbfrange <0010> <0012> <0041> <0020> <0021> [<7F16> <53F7>] endbfrange\n"
    )
    assert cmap.width == 2
    assert cmap.decode(bytes.fromhex("0001000200100011001200200021")) == "案件ABC编号"
    assert cmap.decode(b"\x00\x99") == ""


def test_the_genuine_structure_is_sound(genuine: bytes) -> None:
    reader = PdfFileReader(BytesIO(genuine), strict=False)
    seal = reader.embedded_signatures[0]
    assert byte_range_problem(genuine, reader, seal) is None
    assert later_revision_problems(reader, seal.signed_revision) == []
    assert trailing_bytes_problem(genuine, reader) is None


@pytest.mark.parametrize(
    ("attack", "expected"),
    [
        (attacks.swa_wrap_injected_bytes, "not only its signature value"),
        (attacks.signature_padding_used, "holds bytes after the signature"),
        (attacks.byte_range_short_tail, "end of a revision"),
        (attacks.usf_byte_range_nulled, "outside the file"),
    ],
)
def test_byte_range_faults_are_named(attack: object, expected: str, genuine: bytes) -> None:
    data = attack(genuine)  # type: ignore[operator]
    reader = PdfFileReader(BytesIO(data), strict=False)
    seal = reader.embedded_signatures[0]
    problem = byte_range_problem(data, reader, seal)
    assert problem is not None and expected in problem


def test_a_changed_hex_case_in_the_signature_is_a_fault(genuine: bytes) -> None:
    _, b, _, _, _ = attacks.byte_range(genuine)
    at = genuine.index(b"A", b)  # an upper-case hex digit of the signature value
    data = genuine[:at] + b"a" + genuine[at + 1 :]
    reader = PdfFileReader(BytesIO(data), strict=False)
    seal = reader.embedded_signatures[0]
    assert byte_range_problem(data, reader, seal)


def test_later_revision_faults_name_the_rewritten_object(genuine: bytes) -> None:
    data = attacks.isa_rewrite_content(genuine)
    reader = PdfFileReader(BytesIO(data), strict=False)
    problems = later_revision_problems(reader, reader.embedded_signatures[0].signed_revision)
    assert len(problems) == 1 and "rewrites sealed object" in problems[0]


def test_der_framing_refuses_ber_freedoms() -> None:
    assert _der_framing(bytes.fromhex("3003020101"), 0, 5, 0)
    assert not _der_framing(bytes.fromhex("308103020101"), 0, 6, 0)  # long form for 3
    assert not _der_framing(bytes.fromhex("3080020101 0000".replace(" ", "")), 0, 7, 0)
    assert not _der_framing(bytes.fromhex("3004020101"), 0, 5, 0)  # runs past the end
    assert not _der_framing(bytes.fromhex("300302010100"), 0, 6, 0)  # trailing byte


def test_input_bounds() -> None:
    for data in (b"", b"hello", b"x" * 2000 + b"%PDF-1.7"):
        with pytest.raises(InputUnreadable):
            check_pdf_bytes(data)
    with pytest.raises(InputUnreadable):
        check_pdf_bytes(b"%PDF-1.7\n" + b"1 0 obj endobj\n" * 300_000)
    with pytest.raises(InputUnreadable):
        check_pdf_bytes(b"%PDF-1.7\n" + b"\0" * MAX_PDF_BYTES)


def test_verification_needs_no_network(
    org: Org, genuine: bytes, bundle: bytes, trust: TrustFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Offline by construction: with every way to open a connection made to fail, the
    # genuine result and bundle still pass.
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the verifier tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    statement = StatusEvidence(statement=status_statement(org, genuine).dumps())
    assert verify_pdf(genuine, trust, at=CHECK_AT, status=statement).verdict == "PASSED"
    assert verify_bundle(bundle, trust).verdict == "PASSED"


def test_a_deflate_bomb_as_receipt_is_refused_without_inflating_it(
    org: Org, unsealed: bytes, trust: TrustFile
) -> None:
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB of zeros in about 64 KiB
    with pikepdf.open(BytesIO(unsealed)) as pdf:
        spec = pdf.Root.Names.EmbeddedFiles.Names[1]
        stream = pikepdf.Stream(pdf, bomb)
        stream.Filter = pikepdf.Name.FlateDecode
        stream.Type = pikepdf.Name.EmbeddedFile
        spec.EF.F = spec.EF.UF = pdf.make_indirect(stream)
        out = BytesIO()
        pdf.save(out)
    sealed = seal(org, out.getvalue())
    # The cap on inflated bytes refuses it before any parser runs; lifted, the attachment
    # reader's own bound still stops reading at 16 MiB.
    with pytest.raises(InputUnreadable) as caught:
        verify_pdf(sealed, trust, at=CHECK_AT)
    assert caught.value.code == "input.too_complex"
    lifted = VerifyLimits(max_inflated_bytes=1 << 30)
    verdict = verify_pdf(sealed, trust, at=CHECK_AT, limits=lifted)
    check = verdict.check("receipt.present")
    assert check is not None and check.status == "failed"
    assert "larger than 16 MiB" in check.detail


@pytest.mark.parametrize(
    "body",
    [b"[" * 200_000, b"<<" * 100_000, b"1 0 obj\n" * 1000, b"(" * 100_000],
    ids=["arrays", "dictionaries", "objects", "strings"],
)
def test_deeply_nested_input_is_unreadable_not_a_crash(body: bytes, trust: TrustFile) -> None:
    data = b"%PDF-1.7\n1 0 obj\n" + body + b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    try:
        verdict = verify_pdf(data, trust, at=CHECK_AT)
    except InputUnreadable:
        return
    assert verdict.verdict == "FAILED"
