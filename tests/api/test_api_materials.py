"""Application files over HTTP: a handler uploads at the window, the case's signed step names
the hash, and only staff whose roles cover the case read it back — under its signed name, and
never once the kept bytes differ from the signed hash — on the folder store and, over a real
HTTP server, on an S3-compatible one."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from apikit import T1, Api, open_api

from ledger.client import StreamWriter
from ledger.sample import SampleOffice, applied_body
from ledger.store.materials import FolderMaterials, S3Materials

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


# A PNG's first bytes: what the gate reads the kind by (the rest need not draw anything here).
PHOTO = b"\x89PNG\r\n\x1a\n" + "现场照片".encode()


def _tamper(api: Api, sha: str, data: bytes) -> None:
    """Change the kept bytes under ``sha`` behind the store's back, as a disk fault or an
    intruder with access to the store would."""
    store = api.services().materials
    if isinstance(store, FolderMaterials):
        (store.root / sha[:2] / sha).write_bytes(data)
    else:
        assert isinstance(store, S3Materials)
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + sha, Body=data)


def test_staff_read_a_cases_files_before_signing_and_no_one_else_does(
    materials_api: Api,
) -> None:
    api = materials_api
    handler = api.sign_in(api.office.handler)
    scan = _upload(api, SCAN, handler).json()["sha256"]  # type: ignore[attr-defined]
    photo = _upload(api, PHOTO, handler, "photo.png").json()["sha256"]  # type: ignore[attr-defined]
    body = applied_body("济南泉城食品有限公司")  # names 食品经营许可申请书.pdf, never uploaded
    body["materials"] += [{"name": "营业执照.pdf", "sha256": scan},
                          {"name": "经营场所/现场照片", "sha256": photo}]  # fmt: skip
    applied = StreamWriter("case:3f6c2a9b-1d04-4c55-9a0e-00000000aa02").sign(
        "Applied", api.office.handler, T1, body
    )
    assert api.post(applied).status_code == 201
    case_id = applied.stream[5:]
    path = f"/v1/cases/{case_id}/materials/"
    reviewer = api.sign_in(api.office.reviewer)

    # The case as the reviewer reads it: which files are kept, and where to read them.
    view = api.client.get(f"/v1/cases/{case_id}/view", headers=reviewer).json()
    assert [(m["name"], m["stored"], m["url"]) for m in view["materials"]] == [
        ("食品经营许可申请书.pdf", False, None),
        ("营业执照.pdf", True, path + scan),
        ("经营场所/现场照片", True, path + photo),
    ]
    read = api.client.get(path + scan, headers=reviewer)
    assert (read.status_code, read.content) == (200, SCAN)
    assert read.headers["content-type"] == "application/pdf"
    assert read.headers["content-disposition"] == (
        "inline; filename=\"____.pdf\"; filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
    )
    assert read.headers["repr-digest"] == (
        f"sha-256=:{base64.b64encode(hashlib.sha256(SCAN).digest()).decode()}:"
    )
    assert read.headers["cache-control"] == "private, no-store"
    # The signed name made a file name: no folder in it, and the ending its kind has.
    shown = api.client.get(path + photo, headers=reviewer)
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].endswith("UTF-8''" + quote("经营场所_现场照片.png"))
    # Listed in the signed step but never uploaded: said so, in Chinese.
    unkept = view["materials"][0]["sha256"]
    missing = api.client.get(path + unkept, headers=reviewer)
    assert (missing.status_code, missing.json()["code"]) == (404, "material.not_found")
    assert missing.json()["zh"] == "该材料未上传存档"

    # The public hold a case number and a query code, never a staff token: refused.
    handler_view = api.client.get(f"/v1/cases/{case_id}/view", headers=handler).json()
    number, code = handler_view["case"]["case_number"], handler_view["query_code"]
    public = api.client.get(f"/v1/public/cases/{number}", params={"code": code})
    assert public.status_code == 200 and scan not in public.text
    for headers, params in (({}, {}), ({}, {"code": code}),
                            ({"authorization": f"Bearer {code}"}, {})):  # fmt: skip
        refused = api.client.get(path + scan, headers=headers, params=params)
        assert refused.status_code == 401, refused.text
        assert SCAN not in refused.content
    supervisor = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    assert api.client.get(path + scan, headers=supervisor).status_code == 403
    assert api.client.post("/v1/auth/signout", headers=reviewer).status_code == 204
    assert api.client.get(path + scan, headers=reviewer).status_code == 401

    # A kept file changed in the store is refused, and says why; it is never served.
    _tamper(api, scan, b"%PDF-1.7\n% a different licence\n")
    approver = api.sign_in(api.office.approver)
    refused = api.client.get(path + scan, headers=approver)
    assert (refused.status_code, refused.json()["code"]) == (409, "material.corrupt")
    assert refused.json()["zh"] == "存档的材料文件与签名记录的 SHA-256 不符，不予提供"
    assert b"different licence" not in refused.content
    assert api.client.get(path + photo, headers=approver).status_code == 200
