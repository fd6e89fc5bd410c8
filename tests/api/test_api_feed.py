"""The department feed over HTTP: only a department sees it, only the cases of its matters,
every entry proven against the page's checkpoint; and ``caseledger follow`` keeps what it
received through a restart (and a kill between its two writes) without missing or repeating."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from apikit import T0, T1, Api, open_api, served
from typer.testing import CliRunner

from cli.main import _mount_subcommands, app
from ledger.client import StreamWriter, grant_body
from ledger.envelope import Envelope
from ledger.feed import FeedFollower, FeedPage
from ledger.keyfile import KeyFile
from ledger.sample import SAMPLE_MATTER
from ledger.signing import PrivateKey
from ledger.trust import TrustFile

DEPARTMENTS = {
    "dept:market": ("济南市市场监督管理局", SAMPLE_MATTER),
    "dept:water": ("济南市水务局", "XK-370100-999"),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def feed_api(request: pytest.FixtureRequest, api_home: Path, office: object) -> Iterator[Api]:
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    for api in open_api(api_home, db, office, checkpoint_seconds=0):  # type: ignore[arg-type]
        _enrol_departments(api)
        yield api


def _enrol_departments(api: Api) -> None:
    head = api.client.get("/v1/directory", headers=api.sign_in(api.office.admin)).json()
    writer = StreamWriter(f"directory:{api.office.org}", head["seq"], head["head_hash"])
    at = T0 + timedelta(minutes=30)
    api.clock.now = at
    for principal, (name, matter) in DEPARTMENTS.items():
        api.office.keys[principal] = PrivateKey.generate()
        enrol = {"staff": principal, "name": name, "unit": name, "id_number": "—"}
        key = {"staff": principal, "public_key": api.office.keys[principal].public_key_b64}
        grant = grant_body(f"g-{principal[5:]}", principal, "department", valid_from=T0)
        grant["matters"] = [matter]
        for kind, body in (("StaffEnrolled", enrol), ("KeyAdded", key), ("RoleGranted", grant)):
            reply = api.post(writer.sign(kind, api.office.admin, at, body))
            assert reply.status_code == 201, reply.text
    api.clock.now = T1


def _post_case(api: Api, start: object, steps: slice = slice(None)) -> list[object]:
    envelopes = api.office.case_until_decided(start)[steps]  # type: ignore[arg-type]
    for env in envelopes:
        api.clock.now = env.at
        assert api.post(env).status_code == 201
    return envelopes


def test_a_department_sees_its_matters_cases_each_proven(feed_api: Api) -> None:
    case = _post_case(feed_api, T1)
    trust = TrustFile.from_json(feed_api.client.get("/v1/trust.json").content)
    market = feed_api.sign_in(feed_api.signer("dept:market", "department"))
    page = FeedPage.from_json(feed_api.client.get("/v1/feed", headers=market).json())
    follower = FeedFollower(trust)
    accepted = follower.accept(page, None)
    assert [e.hash for e in accepted if e.stream.startswith("case:")] == [
        e.hash  # type: ignore[attr-defined]
        for e in case
    ]
    water = feed_api.sign_in(feed_api.signer("dept:water", "department"))
    other = FeedPage.from_json(feed_api.client.get("/v1/feed", headers=water).json())
    assert other.entries and all(e.envelope.stream.startswith("directory:") for e in other.entries)


def test_only_a_signed_in_department_may_read_the_feed(feed_api: Api) -> None:
    assert feed_api.client.get("/v1/feed").json()["code"] == "auth.required"
    handler = feed_api.sign_in(feed_api.office.handler)
    refused = feed_api.client.get("/v1/feed", headers=handler)
    assert (refused.status_code, refused.json()["code"]) == (403, "feed.forbidden")
    market = feed_api.sign_in(feed_api.signer("dept:market", "department"))
    for query in ("after=-1", "limit=0", "limit=100000", "after=x"):
        assert feed_api.client.get(f"/v1/feed?{query}", headers=market).status_code == 422


def test_caseledger_follow_resumes_after_a_restart_without_missing_or_repeating(
    feed_api: Api, tmp_path: Path
) -> None:
    api = feed_api
    key_path = tmp_path / "market.key"
    KeyFile(principal="dept:market", key=api.office.keys["dept:market"]).save(
        key_path, passphrase="dept-pass"
    )
    trust_path = tmp_path / "trust.json"
    trust_path.write_bytes(api.client.get("/v1/trust.json").content)
    state = tmp_path / "received"
    _mount_subcommands()
    runner = CliRunner()
    env = {"DEPT_PASS": "dept-pass"}

    def follow(url: str) -> None:
        result = runner.invoke(
            app,
            ["follow", "--server", url, "--trust", str(trust_path), "--key", str(key_path),
             "--state", str(state), "--limit", "3", "--passphrase-env", "DEPT_PASS"],
            env=env,
        )  # fmt: skip
        assert result.exit_code == 0, result.output

    first = _post_case(api, T1, slice(0, 2))
    with served(api.client.app) as url:
        follow(url)
        second = _post_case(api, T1 + timedelta(hours=1))
        # A kill after the envelopes were written but before the state was: a torn line.
        with (state / "envelopes.jsonl").open("a", encoding="utf-8") as out:
            out.write('{"position": 999, "envelope": "torn')
        third = _post_case(api, T1 + timedelta(hours=2), slice(0, 1))
        follow(url)
    lines = [json.loads(x) for x in (state / "envelopes.jsonl").read_text("utf-8").splitlines()]
    positions = [x["position"] for x in lines]
    assert positions == sorted(set(positions))
    received = [Envelope.from_bytes(x["envelope"].encode()) for x in lines]
    cases = [e.hash for e in received if e.stream.startswith("case:")]
    assert cases == [e.hash for e in [*first, *second, *third]]  # type: ignore[attr-defined]
