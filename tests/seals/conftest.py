"""Session-wide seal PKI (ECDSA and RSA), a test TSA, CRLs, and sealed sample results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sealkit import ALGORITHMS, RECEIPT, Pki, make_nss_db, make_pki, sample_document

from seals import (
    FileKeySigner,
    InProcessTimeStamper,
    SealedPdf,
    attach_receipt,
    render_result,
    seal_pdf,
)


@pytest.fixture(scope="session")
def pkis() -> dict[str, Pki]:
    return {algorithm: make_pki(algorithm) for algorithm in ALGORITHMS}


@pytest.fixture(scope="session")
def ecdsa_pki(pkis: dict[str, Pki]) -> Pki:
    return pkis["ecdsa-p256"]


@pytest.fixture(scope="session")
def rendered() -> bytes:
    return render_result(sample_document())


@pytest.fixture(scope="session")
def attached(rendered: bytes) -> bytes:
    return attach_receipt(rendered, RECEIPT, at=datetime(2026, 11, 23, 6, 40, tzinfo=UTC))


@pytest.fixture(scope="session")
def sealed(pkis: dict[str, Pki], attached: bytes) -> dict[str, SealedPdf]:
    """The sample result sealed B-LT (timestamp and CRL) under each algorithm."""
    out: dict[str, SealedPdf] = {}
    for algorithm, pki in pkis.items():
        signer = FileKeySigner.from_authority(pki.authority)
        out[algorithm] = seal_pdf(
            attached, signer, crl=pki.crl, timestamper=InProcessTimeStamper(pki.tsa)
        )
    return out


@pytest.fixture(scope="session")
def nss_db(pkis: dict[str, Pki], tmp_path_factory: pytest.TempPathFactory) -> str:
    folder: Path = tmp_path_factory.mktemp("nss")
    return make_nss_db(folder, *(p.authority.ca_certificate for p in pkis.values()))
