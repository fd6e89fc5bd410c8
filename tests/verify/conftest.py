"""Session-wide organisations, genuine sealed results and bundles for the verifier's tests."""

from __future__ import annotations

from io import BytesIO

import pikepdf
import pytest
from verifykit import Org, make_bundle, make_receipt, seal, sealed_pdf, unsealed_pdf

from ledger.trust import TrustFile


@pytest.fixture(scope="session")
def org() -> Org:
    return Org.create()


@pytest.fixture(scope="session")
def other_org() -> Org:
    """Another organisation whose seal CA has the same name (a look-alike)."""
    return Org.create(org="qingdao-approval", name="济南市行政审批服务局")


@pytest.fixture(scope="session")
def trust(org: Org) -> TrustFile:
    return org.trust()


@pytest.fixture(scope="session")
def receipt_bytes(org: Org) -> bytes:
    return make_receipt(org).dumps()


@pytest.fixture(scope="session")
def unsealed(org: Org, receipt_bytes: bytes) -> bytes:
    return unsealed_pdf(org, receipt_bytes)


@pytest.fixture(scope="session")
def genuine(org: Org, unsealed: bytes) -> bytes:
    """The sample case's result, sealed B-LT: timestamp, CRL in the DSS."""
    return seal(org, unsealed)


@pytest.fixture(scope="session")
def bundle(org: Org) -> bytes:
    return make_bundle(org)


@pytest.fixture(scope="session")
def with_overlay(org: Org, unsealed: bytes) -> bytes:
    """A sealed result whose page draws a white box over part of its text (shadow 'hide')."""
    with pikepdf.open(BytesIO(unsealed)) as pdf:
        page = pdf.pages[0]
        cover = pdf.make_stream(b"q 1 1 1 rg 60 600 480 80 re f Q")
        page.obj.Contents = pikepdf.Array([page.obj.Contents, cover])
        out = BytesIO()
        pdf.save(out)
    return seal(org, out.getvalue())


@pytest.fixture(scope="session")
def with_shadow(org: Org, unsealed: bytes) -> tuple[bytes, int]:
    """A sealed result holding an unused content stream with other text (shadow 'replace'
    material), and that stream's object number."""
    with pikepdf.open(BytesIO(unsealed)) as pdf:
        shadow = pdf.make_indirect(pdf.make_stream(b"BT /F1+0 28 Tf 80 500 Td (\x12\x13) Tj ET"))
        pdf.Root.PieceInfo = pikepdf.Dictionary(Shadow=shadow)
        out = BytesIO()
        pdf.save(out)
    with pikepdf.open(BytesIO(out.getvalue())) as reread:
        idnum = reread.Root.PieceInfo.Shadow.objgen[0]
    return seal(org, out.getvalue()), idnum


@pytest.fixture(scope="session")
def genuine_other_org(other_org: Org) -> bytes:
    return sealed_pdf(other_org)
