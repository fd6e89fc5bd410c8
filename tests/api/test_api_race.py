"""Two approvers decide the same case at the same moment over real HTTP: one wins, one 409.

Each race runs twice: both requests to one server, and one request to each of two servers
on the same database (two ledgers, two caches: only the store's key can settle it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from apikit import T1, Clock, directory_envelopes, openings_header, served

from api.app import create_app
from api.settings import Settings
from ledger.client import Signer, StreamWriter
from ledger.envelope import Envelope
from ledger.personal import Opening
from ledger.sample import SampleOffice
from ledger.store.personal_store import commitments_in

ROUNDS = 3


def _post(base: str, envelope: Envelope, openings: Iterable[Opening] = ()) -> int:
    wanted = set(commitments_in(envelope))
    headers = openings_header([o for o in openings if o.commitment in wanted]) if wanted else {}
    reply = httpx.post(f"{base}/v1/envelopes", content=envelope.raw, headers=headers, timeout=30)
    return reply.status_code


def _race(bases: tuple[str, str], office: SampleOffice, clock: Clock) -> list[int]:
    case = office.case_until_decided(T1)
    for envelope in case[:3]:
        clock.now = envelope.at
        assert _post(bases[0], envelope) == 201
    clock.now = case[3].at
    second = Signer("staff:zhao.lei", "approver", office.keys["staff:zhao.lei"])
    rival = StreamWriter(case[0].stream, 3, case[2].hash).sign(
        "Decided", second, case[3].at, case[3].body
    )
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def go(base: str, envelope: Envelope) -> None:
        barrier.wait()
        statuses.append(_post(base, envelope))

    threads = [
        threading.Thread(target=go, args=(bases[0], case[3])),
        threading.Thread(target=go, args=(bases[1], rival)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_exactly_one_of_two_racing_decisions_wins(
    backend: str, api_home: Path, office: SampleOffice, request: pytest.FixtureRequest
) -> None:
    home = api_home
    db = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    clock = Clock(T1)
    first = create_app(Settings(home=home, db=db), clock=clock)
    with served(first) as base_a:
        for envelope in directory_envelopes(office):
            clock.now = envelope.at
            assert _post(base_a, envelope, office.openings.values()) == 201
        second = create_app(Settings(home=home, db=db), clock=clock)
        with served(second) as base_b:
            outcomes = [_race((base_a, base_a), office, clock) for i in range(ROUNDS)]
            outcomes += [_race((base_a, base_b), office, clock) for i in range(ROUNDS)]
            ledger = second.state.services.ledger
            decided = [s for s in ledger.stream_ids() if s.int and ledger.head(f"case:{s}")[0] == 4]
    assert outcomes == [[201, 409]] * (2 * ROUNDS)
    assert len(decided) == 2 * ROUNDS
