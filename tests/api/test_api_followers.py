"""The sealed result follows a decision off the request path: the 201 does not wait for it,
reads wait for it (within CASELEDGER_READ_WAIT_SECONDS) and say how far it lags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apikit import T1, Api, open_api
from storykit import sealing_office

from api.lag import LAG_HEADER
from api.org import OrgHome


@pytest.fixture
def quick_api(org: OrgHome) -> Iterator[Api]:
    """The API whose seal service seals results; reads wait 0.3 s at most."""
    yield from open_api(org.path, None, sealing_office(org), read_wait_seconds=0.3)


def issuing(api: Api) -> object:
    services = api.client.app.state.services  # type: ignore[attr-defined]
    (follower,) = [f for f in services.followers if f.name == "issuing"]
    return follower


def kinds(api: Api, stream: str) -> list[str]:
    services = api.client.app.state.services  # type: ignore[attr-defined]
    return [e.type for e in services.ledger.events(stream)]


def test_a_decision_is_answered_before_its_result_is_sealed(quick_api: Api) -> None:
    api = quick_api
    case = api.office.case_until_decided(T1)
    follower = issuing(api)
    for envelope in case[:-1]:
        api.clock.now = envelope.at
        assert api.post(envelope).status_code == 201
    api.clock.now = case[-1].at
    # The issuing follower is held: were the 201 to wait for the seal, it would not come.
    with follower._lock:  # type: ignore[attr-defined]
        decided = api.post(case[-1])
        assert decided.status_code == 201, decided.text
        assert decided.json()["leaf_index"] is not None
        assert "ResultIssued" not in kinds(api, case[0].stream)
        # A read waits its 0.3 s, then answers with what still trails.
        lagging = api.client.get("/v1/trust.json")
        assert lagging.status_code == 200
        assert int(lagging.headers[LAG_HEADER]) > 0
    api.services()  # waits (30 s at most) for the seal, and then for what it appended
    api.services()
    caught_up = api.client.get("/v1/trust.json")
    assert caught_up.headers[LAG_HEADER] == "0"
    assert kinds(api, case[0].stream)[-1] == "ResultIssued"
