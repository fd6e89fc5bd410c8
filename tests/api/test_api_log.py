"""The transparency log over HTTP: checkpoints signed by the log key of the trust file, and
inclusion, consistency and leaf answers that verify independently; the CRL; a server
without a log says so."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from apikit import T1, Api, open_api
from cryptography import x509

from ledger import merkle
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.sample import SampleOffice
from ledger.trust import TrustFile


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log_api(request: pytest.FixtureRequest, api_home: Path, office: SampleOffice) -> Iterator[Api]:
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from open_api(api_home, db, office, checkpoint_seconds=0)


def _checkpoint(api: Api) -> Checkpoint:
    reply = api.client.get("/v1/log/checkpoint")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    trust = TrustFile.from_json(api.client.get("/v1/trust.json").content)
    return verify_checkpoint(reply.text, [trust.log_verifier_key], origin=trust.log_origin)


def _hashes(reply: object) -> list[bytes]:
    return [base64.b64decode(h) for h in reply.json()["hashes"]]  # type: ignore[attr-defined]


def test_every_posted_envelope_is_provably_in_the_signed_tree(log_api: Api) -> None:
    posted = []
    for envelope in log_api.office.case_until_decided(T1)[:2]:
        log_api.clock.now = envelope.at
        reply = log_api.post(envelope)
        posted.append((envelope, reply.json()["leaf_index"]))
    first = _checkpoint(log_api)
    assert first.size == posted[-1][1] + 1
    for envelope, index in posted:
        proof = log_api.client.get(f"/v1/log/inclusion?index={index}&size={first.size}")
        leaf = merkle.leaf_hash(bytes.fromhex(envelope.hash))
        merkle.verify_inclusion(index, first.size, leaf, _hashes(proof), first.root)
    for envelope in log_api.office.case_until_decided(T1 + timedelta(hours=1))[:3]:
        log_api.clock.now = envelope.at
        assert log_api.post(envelope).status_code == 201
    second = _checkpoint(log_api)
    assert second.size == first.size + 3
    proof = log_api.client.get(f"/v1/log/consistency?old={first.size}&new={second.size}")
    merkle.verify_consistency(first.size, second.size, first.root, second.root, _hashes(proof))
    leaves = log_api.client.get(f"/v1/log/leaves?start=0&end={second.size}").json()["leaves"]
    assert [base64.b64decode(x).hex() for x in leaves][posted[0][1]] == posted[0][0].hash
    assert len(leaves) == second.size


def test_log_requests_outside_the_tree_are_422(log_api: Api) -> None:
    size = _checkpoint(log_api).size
    for path in (
        f"/v1/log/inclusion?index={size}&size={size}",
        f"/v1/log/inclusion?index=0&size={size + 1}",
        f"/v1/log/consistency?old={size}&new={size - 1}",
        f"/v1/log/consistency?old=0&new={size}",
        f"/v1/log/leaves?start=0&end={size + 1}",
        "/v1/log/leaves?start=5&end=2",
        "/v1/log/inclusion?index=-1&size=2",
    ):
        reply = log_api.client.get(path)
        assert reply.status_code == 422, (path, reply.text)
        assert set(reply.json()) >= {"code", "message"}


def test_crl_is_der_from_the_seal_ca(api: Api) -> None:
    reply = api.client.get("/v1/crl")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(reply.content)
    trust = TrustFile.from_json(api.client.get("/v1/trust.json").content)
    ca = x509.load_pem_x509_certificate(trust.seal_ca_pems[0].encode())
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())


def test_a_server_without_log_or_seal_authority_answers_503(
    bare_home: Path, office: SampleOffice
) -> None:
    for api in open_api(bare_home, None, office):
        for path in ("/v1/log/checkpoint", "/v1/log/inclusion?index=0&size=1", "/v1/crl"):
            reply = api.client.get(path)
            assert reply.status_code == 503
            assert reply.json()["code"] in ("log.unavailable", "crl.unavailable")
