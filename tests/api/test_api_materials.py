"""Application files over HTTP: a handler uploads at the window, the case's signed step names
the hash, and only staff whose roles cover the case read it back — on the folder store and,
over a real HTTP server, on an S3-compatible one."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import T1, Api, open_api

from ledger.client import StreamWriter
from ledger.sample import SampleOffice, applied_body

SCAN = "%PDF-1.7\n% 营业执照 scan\n".encode()


@pytest.fixture(params=["folder", "s3"])
def materials_api(
    request: pytest.FixtureRequest, api_home: Path, office: SampleOffice
) -> Iterator[Api]:
    where = "folder"
    if request.param == "s3":
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "caseledger-test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "caseledger-test")
        import boto3

        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket="materials"
        )
        where = f"s3://materials?endpoint={endpoint}"
        request.addfinalizer(server.stop)
    yield from open_api(api_home, None, office, materials=where)


def _upload(api: Api, data: bytes, headers: dict[str, str], name: str = "scan.pdf") -> object:
    return api.client.post("/v1/materials", files={"file": (name, data)}, headers=headers)


def test_a_window_upload_is_named_by_the_case_and_read_by_its_staff(materials_api: Api) -> None:
    api = materials_api
    handler = api.sign_in(api.office.handler)
    kept = _upload(api, SCAN, handler)
    assert kept.status_code == 201, kept.text  # type: ignore[attr-defined]
    sha = kept.json()["sha256"]  # type: ignore[attr-defined]
    assert sha == hashlib.sha256(SCAN).hexdigest()
    body = applied_body("济南泉城食品有限公司")
    body["materials"] = [{"name": "营业执照.pdf", "sha256": sha}]
    writer = StreamWriter("case:3f6c2a9b-1d04-4c55-9a0e-00000000aa01")
    applied = writer.sign("Applied", api.office.handler, T1, body)
    assert api.post(applied).status_code == 201
    path = f"/v1/cases/{applied.stream[5:]}/materials/{sha}"
    reviewer = api.sign_in(api.office.reviewer)
    read = api.client.get(path, headers=reviewer)
    assert (read.status_code, read.content) == (200, SCAN)
    assert read.headers["content-type"] == "application/pdf"
    unnamed = hashlib.sha256(b"another file").hexdigest()
    other = api.client.get(f"/v1/cases/{applied.stream[5:]}/materials/{unnamed}", headers=reviewer)
    assert (other.status_code, other.json()["code"]) == (404, "material.not_named")
    supervisor = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    assert api.client.get(path, headers=supervisor).json()["code"] == "role.missing"
    assert api.client.get(path).json()["code"] == "auth.required"
    assert api.client.get(path.replace(sha, "x" * 64), headers=reviewer).status_code == 422


def test_uploads_that_may_not_be_kept_are_refused_plainly(api: Api) -> None:
    handler = api.sign_in(api.office.handler)
    for data, status, code in (
        (b"", 422, "material.empty"),
        (b"MZ\x90\x00 not a document", 422, "material.type"),
    ):
        reply = _upload(api, data, handler)
        assert (reply.status_code, reply.json()["code"]) == (status, code)  # type: ignore[attr-defined]
    reviewer = api.sign_in(api.office.reviewer)
    assert _upload(api, SCAN, reviewer).json()["code"] == "role.missing"  # type: ignore[attr-defined]
    assert _upload(api, SCAN, {}).json()["code"] == "auth.required"  # type: ignore[attr-defined]


def test_a_material_over_the_cap_is_413(api_home: Path, office: SampleOffice) -> None:
    for api in open_api(api_home, None, office, max_material_bytes=1024):
        handler = api.sign_in(api.office.handler)
        reply = _upload(api, SCAN + b"0" * 4096, handler)
        assert (reply.status_code, reply.json()["code"]) == (413, "material.too_large")  # type: ignore[attr-defined]
