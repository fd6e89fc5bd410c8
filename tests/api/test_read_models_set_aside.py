"""One case whose summary cannot be stored is set aside: every other read keeps answering,
the server starts again, the admin sees the case over the API and in ``caseledger audit``,
and once the cause is gone a retry (or the next start) takes the case back."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from apikit import T1, Api, Clock
from fastapi.testclient import TestClient
from test_api_hostile_applicants import reads_answer, self_applied
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from cli.main import app as cli_app
from ledger.state import case_number
from ledger.store.read_models import rm_cases

SQUATTER = "case:00000000-0000-4000-8000-000000000000"


def squat(api: Api, number: str) -> None:
    """A summary row that already holds ``number`` (as rows of an older formula might)."""
    assert api.post(self_applied(at=T1 - timedelta(minutes=1))).status_code == 201
    models = api.services().read_models
    models.catch_up(api.services().ledger)
    with models.engine.begin() as conn:
        row = conn.execute(sa.select(rm_cases).limit(1)).mappings().one()
        conn.execute(rm_cases.insert().values({**row, "stream": SQUATTER, "case_number": number}))


def unsquat(api: Api) -> None:
    with api.services().read_models.engine.begin() as conn:
        conn.execute(rm_cases.delete().where(rm_cases.c.stream == SQUATTER))


def test_a_case_whose_summary_collides_is_set_aside_and_the_rest_reads_on(any_api: Api) -> None:
    api = any_api
    first = self_applied()
    assert api.post(first).status_code == 201
    victim = self_applied(at=T1 + timedelta(minutes=1))
    squat(api, case_number(victim.stream, victim.at))
    assert api.post(victim).status_code == 201
    after = self_applied(at=T1 + timedelta(minutes=2))
    assert api.post(after).status_code == 201

    reads_answer(api, first.stream.removeprefix("case:"))
    reads_answer(api, after.stream.removeprefix("case:"))
    handler = api.sign_in(api.office.handler)
    detail = api.client.get(f"/v1/cases/{victim.stream.removeprefix('case:')}", headers=handler)
    assert detail.status_code == 503 and detail.json()["code"] == "case.set_aside"

    admin = api.sign_in(api.office.admin)
    listed = api.client.get("/v1/read-models/set-aside", headers=admin).json()["cases"]
    assert [(c["stream"], c["seq"], c["code"]) for c in listed] == [
        (victim.stream, 1, "projection.conflict")
    ]
    assert api.client.get("/v1/read-models/set-aside", headers=handler).status_code == 403

    unsquat(api)
    retried = api.client.post("/v1/read-models/set-aside/retry", headers=admin).json()
    assert retried == {"cases": [], "taken_back": [victim.stream]}
    reads_answer(api, victim.stream.removeprefix("case:"))


def test_the_server_starts_with_a_case_set_aside_and_takes_it_back_on_start(
    any_api: Api,
) -> None:
    api = any_api
    victim = self_applied()
    squat(api, case_number(victim.stream, victim.at))
    assert api.post(victim).status_code == 201
    services = api.services()
    db = services.settings.db
    restart = Settings(home=api.home, db=db)
    clock = Clock(T1 + timedelta(minutes=5))
    with TestClient(create_app(restart, clock=clock)) as client:
        reply = client.get("/v1/trust.json")
        assert reply.status_code == 200
        aside = client.app.state.services.read_models.set_aside()  # type: ignore[attr-defined]
        assert [e.stream for e in aside] == [victim.stream]

    runner = CliRunner()
    args = ["audit", "--home", str(api.home), "--json", *(["--db", db] if db else [])]
    result = runner.invoke(cli_app, args)
    report = json.loads(result.stdout)
    assert [e["stream"] for e in report["set_aside"]] == [victim.stream]
    assert report["ok"] and result.exit_code == 0  # the ledger itself is intact
    text = runner.invoke(cli_app, [a for a in args if a != "--json"]).stdout
    assert "1 case(s) set aside" in text and victim.stream in text

    unsquat(api)
    with TestClient(create_app(restart, clock=clock)) as client:
        models = client.app.state.services.read_models  # type: ignore[attr-defined]
        assert models.set_aside() == []
        assert models.case(victim.stream) is not None
    assert uuid.UUID(victim.stream.removeprefix("case:"))
