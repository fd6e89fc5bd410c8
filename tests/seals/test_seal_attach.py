"""The receipt inside the result: a PDF/A-3 associated file that a verifier can find."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pikepdf
import pikepdf.pdfa
import pytest
from sealkit import RECEIPT

from seals import RECEIPT_NAME, AttachError, attach_receipt

AT = datetime(2026, 11, 23, 6, 40, tzinfo=UTC)


def test_receipt_is_an_associated_json_file(attached: bytes) -> None:
    with pikepdf.open(BytesIO(attached)) as pdf:
        spec = pdf.attachments[RECEIPT_NAME]
        assert spec.get_file().read_bytes() == RECEIPT
        assert spec.obj.AFRelationship == pikepdf.Name.Data
        assert spec.get_file().mime_type == "application/json"
        assert spec.obj.UF == RECEIPT_NAME
        assert [item.objgen for item in pdf.Root.AF] == [spec.obj.objgen]
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert pdf.Root.OutputIntents[0].S == pikepdf.Name.GTS_PDFA1


def test_attached_file_passes_pdfa_3b_validation(attached: bytes) -> None:
    report = pikepdf.pdfa.validate_written(BytesIO(attached), "3b")
    assert report.verdict == "pass", report.findings


def test_visible_content_is_unchanged(rendered: bytes, attached: bytes) -> None:
    with pikepdf.open(BytesIO(rendered)) as before, pikepdf.open(BytesIO(attached)) as after:
        assert before.pages[0].Contents.read_bytes() == after.pages[0].Contents.read_bytes()


def test_a_second_receipt_is_refused(attached: bytes) -> None:
    with pytest.raises(AttachError):
        attach_receipt(attached, RECEIPT, at=AT)


@pytest.mark.parametrize(
    ("pdf", "receipt"),
    [(b"%PDF-1.4 nonsense", RECEIPT), (b"", RECEIPT)],
)
def test_unreadable_pdf_is_an_attach_error(pdf: bytes, receipt: bytes) -> None:
    with pytest.raises(AttachError) as caught:
        attach_receipt(pdf, receipt, at=AT)
    assert caught.value.code == "seal.attach"


def test_empty_receipt_and_naive_time_are_refused(rendered: bytes) -> None:
    with pytest.raises(AttachError):
        attach_receipt(rendered, b"", at=AT)
    with pytest.raises(AttachError):
        attach_receipt(rendered, RECEIPT, at=datetime(2026, 11, 23))


def test_validated_save_gives_a_passing_file(rendered: bytes) -> None:
    pdf = attach_receipt(rendered, RECEIPT, at=AT, validate=True)
    assert pikepdf.pdfa.validate_written(BytesIO(pdf), "3b").verdict == "pass"
    with pikepdf.open(BytesIO(pdf)) as doc:
        assert doc.attachments[RECEIPT_NAME].get_file().read_bytes() == RECEIPT
