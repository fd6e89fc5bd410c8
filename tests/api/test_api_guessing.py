"""Query codes cannot be guessed (a cap and lockout per case number, and one over all
cases), and a token is refused on the server once its holder has signed out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from apikit import T1, Api, Clock, open_api
from fastapi.testclient import TestClient
from test_api_hostile_applicants import self_applied

from api.app import create_app
from api.limits import QueryGuard
from api.settings import Settings
from ledger.sample import SampleOffice


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_case(api: Api) -> tuple[str, str]:
    """(case number, query code) of a fresh self-applied case."""
    envelope = self_applied()
    assert api.post(envelope).status_code == 201
    handler = api.sign_in(api.office.handler)
    case_id = envelope.stream.removeprefix("case:")
    detail = api.client.get(f"/v1/cases/{case_id}", headers=handler).json()
    return detail["case"]["case_number"], detail["query_code"]


def lookup(api: Api, number: str, code: str) -> tuple[int, str]:
    reply = api.client.get(f"/v1/public/cases/{number}", params={"code": code})
    return reply.status_code, reply.json().get("code", "")


def wrong(code: str, n: int) -> str:
    return f"{(int(code) + 1 + n) % 10**8:08d}"


def test_wrong_codes_lock_the_case_number_even_for_the_right_code(any_api: Api) -> None:
    ticks = Ticks()
    guard = QueryGuard(per_case=5, lockout_seconds=900, total_per_minute=1000, total_burst=1000)
    guard.clock = ticks
    any_api.services().queries = guard
    number, code = a_case(any_api)
    assert [lookup(any_api, number, wrong(code, n))[0] for n in range(5)] == [404] * 5
    assert lookup(any_api, number, code) == (429, "query.locked")
    other_number, other_code = a_case(any_api)
    assert lookup(any_api, other_number, other_code)[0] == 200  # only that number is locked
    ticks.now += 901
    assert lookup(any_api, number, code)[0] == 200


def test_wrong_codes_over_all_cases_hold_every_lookup_back(
    api_home: Path, office: SampleOffice
) -> None:
    for api in open_api(api_home, None, office, query_misses_per_minute=20):
        number, code = a_case(api)
        services = api.services()
        # The allowance refills with time: stop its clock, so a slow machine cannot refill it.
        settings = services.settings
        services.queries = QueryGuard(
            per_case=settings.query_misses_per_case,
            lockout_seconds=settings.query_lockout_minutes * 60,
            total_per_minute=20,
            total_burst=20,
            clock=lambda: 1000.0,
        )
        misses = [lookup(api, f"20261124-{n:032X}", "12345678")[0] for n in range(25)]
        assert misses[:20] == [404] * 20 and set(misses[20:]) == {429}
        assert lookup(api, number, code) == (429, "query.throttled")


def test_a_signed_out_token_is_refused_by_this_server_and_after_a_restart(any_api: Api) -> None:
    headers = any_api.sign_in(any_api.office.handler)
    assert any_api.client.get("/v1/queues/handler", headers=headers).status_code == 200
    assert any_api.client.post("/v1/auth/signout", headers=headers).status_code == 204
    reply = any_api.client.get("/v1/queues/handler", headers=headers)
    assert reply.status_code == 401 and reply.json()["code"] == "auth.signed_out"
    again = any_api.client.post("/v1/auth/signout", headers=headers)
    assert again.status_code == 401
    fresh = any_api.sign_in(any_api.office.handler)  # signing in again works
    assert any_api.client.get("/v1/queues/handler", headers=fresh).status_code == 200

    settings = Settings(home=any_api.home, db=any_api.services().settings.db)
    with TestClient(create_app(settings, clock=Clock(T1 + timedelta(minutes=1)))) as other:
        reply = other.get("/v1/queues/handler", headers=headers)
        assert reply.status_code == 401 and reply.json()["code"] == "auth.signed_out"
        assert other.get("/v1/queues/handler", headers=fresh).status_code == 200
