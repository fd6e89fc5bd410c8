"""The tamper matrix: a database admin drops the append-only guard and edits stored events by
hand; the audit replays the raw rows and names every change by stream, seq and code.

Runs against a real SQLite file and a real PostgreSQL schema. Each case is named after the
attack; the expected findings are exact, so a change in what the audit reports shows here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ledger.client import Signer, StreamWriter
from ledger.envelope import Envelope, seal_envelope
from ledger.errors import RulesRefused
from ledger.jcs import canonical
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.store.application import CaseLedger, stream_uuid
from ledger.store.storage import Store

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
T1 = datetime.fromisoformat("2026-11-24T01:00:00+00:00")

# Sample directory positions (see ledger.sample): li.na is enrolled at 7, her key added at 8 and
# her reviewer grant at 9.
LI_NA_KEY_ADDED = 8
LI_NA_GRANT = 9


class Admin:
    """What someone with the database password can do to the events table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine()
        self.table = store.events_table

    def close(self) -> None:
        self.engine.dispose()

    def drop_guard(self) -> None:
        with self.engine.begin() as conn:
            if self.store.kind == "sqlite":
                for name in ("caseledger_events_no_update", "caseledger_events_no_delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {name}")
            else:
                for name in ("caseledger_events_no_change", "caseledger_events_no_truncate"):
                    conn.exec_driver_sql(f"DROP TRIGGER {name} ON {self.table}")

    def _key(self, stream: str) -> str:
        key = stream_uuid(stream)
        return key.hex if self.store.kind == "sqlite" else str(key)

    def state(self, stream: str, version: int) -> dict[str, Any]:
        with self.engine.begin() as conn:
            raw = conn.execute(
                sa.text(
                    f"SELECT state FROM {self.table} "  # noqa: S608 - our own table name
                    "WHERE originator_id = :id AND originator_version = :v"
                ),
                {"id": self._key(stream), "v": version},
            ).scalar_one()
        value: dict[str, Any] = json.loads(bytes(raw))
        return value

    def set_state(self, stream: str, version: int, state: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"UPDATE {self.table} SET state = :s "  # noqa: S608 - our own table name
                    "WHERE originator_id = :id AND originator_version = :v"
                ),
                {"s": json.dumps(state).encode(), "id": self._key(stream), "v": version},
            )

    def delete(self, stream: str, version: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"DELETE FROM {self.table} "  # noqa: S608 - our own table name
                    "WHERE originator_id = :id AND originator_version = :v"
                ),
                {"id": self._key(stream), "v": version},
            )

    def insert(self, envelope: Envelope) -> None:
        state = {"envelope": envelope.text, "hash": envelope.hash}
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"INSERT INTO {self.table} "  # noqa: S608 - our own table name
                    "(originator_id, originator_version, topic, state) VALUES (:id, :v, :t, :s)"
                ),
                {
                    "id": self._key(envelope.stream),
                    "v": envelope.seq,
                    "t": "ledger.store.application:EnvelopeRecorded",
                    "s": json.dumps(state).encode(),
                },
            )

    def rewrite(
        self,
        stream: str,
        version: int,
        edit: Callable[[dict[str, Any]], None],
        *,
        fix_hash: bool = True,
    ) -> None:
        """Decode the stored envelope, let ``edit`` change it, store it canonical again."""
        state = self.state(stream, version)
        obj = json.loads(state["envelope"])
        edit(obj)
        state["envelope"] = canonical(obj).decode()
        if fix_hash:
            state["hash"] = Envelope.from_bytes(state["envelope"]).hash
        self.set_state(stream, version, state)


@dataclass
class Scene:
    ledger: CaseLedger
    admin: Admin
    office: SampleOffice
    case: list[Envelope]
    directory: list[Envelope]

    @property
    def case_stream(self) -> str:
        return self.case[0].stream

    @property
    def directory_stream(self) -> str:
        return self.directory[0].stream


@pytest.fixture
def scene(
    ledger_store: Store, make_ledger: Callable[[Store], CaseLedger], office: SampleOffice
) -> Iterator[Scene]:
    ledger = make_ledger(ledger_store)
    directory = office.directory_envelopes(T0)
    case = office.case_until_decided(T1)
    for env in directory + case:
        ledger.append(env)
    assert ledger.audit().ok
    admin = Admin(ledger_store)
    admin.drop_guard()
    yield Scene(ledger, admin, office, case, directory)
    admin.close()


# The attacks ---------------------------------------------------------------------------------


def flip_one_byte(s: Scene) -> None:
    state = s.admin.state(s.case_stream, 3)
    text = state["envelope"]
    assert '"at":"2026-11-24T01:14:00Z"' in text
    state["envelope"] = text.replace('"at":"2026-11-24T01:14:00Z"', '"at":"2026-11-24T01:14:01Z"')
    s.admin.set_state(s.case_stream, 3, state)


def flip_one_byte_of_the_body(s: Scene) -> None:
    state = s.admin.state(s.case_stream, 3)
    state["envelope"] = state["envelope"].replace('"opinion":"agree"', '"opinion":"agreE"')
    s.admin.set_state(s.case_stream, 3, state)


def flip_one_byte_and_fix_the_hash(s: Scene) -> None:
    s.admin.rewrite(s.case_stream, 3, lambda e: e["body"].update(opinion="disagree"))


def change_only_the_stored_hash(s: Scene) -> None:
    state = s.admin.state(s.case_stream, 2)
    state["hash"] = "0" * 64
    s.admin.set_state(s.case_stream, 2, state)


def delete_an_event(s: Scene) -> None:
    s.admin.delete(s.case_stream, 2)


def swap_two_events(s: Scene) -> None:
    two, three = s.admin.state(s.case_stream, 2), s.admin.state(s.case_stream, 3)
    s.admin.set_state(s.case_stream, 2, three)
    s.admin.set_state(s.case_stream, 3, two)


def replace_a_key_in_the_directory(s: Scene) -> None:
    thief = PrivateKey.generate()
    s.admin.rewrite(
        s.directory_stream,
        LI_NA_KEY_ADDED,
        lambda e: e["body"].update(public_key=thief.public_key_b64),
    )


def backdate_a_grant(s: Scene) -> None:
    def edit(e: dict[str, Any]) -> None:
        e["body"]["valid_from"] = "2025-01-01T00:00:00Z"
        e["at"] = "2026-11-23T01:00:07Z"  # one second earlier than recorded

    s.admin.rewrite(s.directory_stream, LI_NA_GRANT, edit)


def insert_a_forged_step(s: Scene) -> None:
    last = s.case[-1]
    seal = s.office.seal_service
    draft = {
        k: v
        for k, v in StreamWriter(last.stream, last.seq, last.hash)
        .sign(
            "ResultIssued",
            seal,
            last.at + timedelta(hours=1),
            {"pdf_sha256": "ab" * 32, "seal_serial": "FAKE"},
        )
        .to_json()
        .items()
        if k != "sig"
    }
    s.admin.insert(seal_envelope(draft, PrivateKey.generate()))  # same actor, forged key


def insert_a_step_by_an_outsider(s: Scene) -> None:
    last = s.case[-1]
    outsider = Signer("staff:mallory", "handler", PrivateKey.generate())
    s.admin.insert(
        StreamWriter(last.stream, last.seq, last.hash).sign(
            "Delivered",
            outsider,
            last.at + timedelta(hours=1),
            {"channel": "window", "recipient": "x"},
        )
    )


def overwrite_with_garbage(s: Scene) -> None:
    state = s.admin.state(s.case_stream, 4)
    state["envelope"] = state["envelope"].replace(",", ", ")
    s.admin.set_state(s.case_stream, 4, state)


Expected = set[tuple[str, int, str]]  # ("case" | "directory", seq, code)

TAMPERS: list[tuple[str, Callable[[Scene], None], Expected]] = [
    (
        "one byte of a stored text",
        flip_one_byte,
        {
            ("case", 3, "store.hash_mismatch"),
            ("case", 3, "sig.invalid"),
            ("case", 4, "chain.prev_mismatch"),
        },
    ),
    (
        "one byte of a stored body, now unreadable",
        flip_one_byte_of_the_body,
        {
            ("case", 3, "store.hash_mismatch"),
            ("case", 3, "body.invalid"),
            ("case", 3, "sig.invalid"),
            ("case", 4, "chain.prev_mismatch"),
        },
    ),
    (
        "one byte of a stored text, stored hash fixed",
        flip_one_byte_and_fix_the_hash,
        # The review now says 不同意, so the approval after it stands over a 不同意 (退回 rule).
        {
            ("case", 3, "sig.invalid"),
            ("case", 4, "chain.prev_mismatch"),
            ("case", 4, "order.not_allowed"),
        },
    ),
    ("the stored hash only", change_only_the_stored_hash, {("case", 2, "store.hash_mismatch")}),
    (
        "an event deleted",
        delete_an_event,
        {
            ("case", 3, "chain.seq_mismatch"),
            ("case", 3, "chain.prev_mismatch"),
            ("case", 3, "order.not_allowed"),
        },
    ),
    (
        "two events swapped",
        swap_two_events,
        {
            ("case", 3, "chain.seq_mismatch"),
            ("case", 2, "chain.seq_mismatch"),
            ("case", 3, "chain.prev_mismatch"),
            ("case", 3, "order.not_allowed"),
            ("case", 2, "chain.prev_mismatch"),
            ("case", 2, "chain.time_reversed"),
            ("case", 2, "order.not_allowed"),
            ("case", 4, "chain.seq_mismatch"),
            ("case", 4, "chain.prev_mismatch"),
        },
    ),
    (
        "a key replaced in the directory",
        replace_a_key_in_the_directory,
        {
            ("directory", LI_NA_KEY_ADDED, "sig.invalid"),
            ("directory", LI_NA_KEY_ADDED + 1, "chain.prev_mismatch"),
            ("case", 3, "sig.unknown_key"),
        },
    ),
    (
        "a grant backdated",
        backdate_a_grant,
        {
            ("directory", LI_NA_GRANT, "sig.invalid"),
            ("directory", LI_NA_GRANT + 1, "chain.prev_mismatch"),
        },
    ),
    ("a step signed by a forged key inserted", insert_a_forged_step, {("case", 5, "sig.invalid")}),
    (
        "a step by an outsider inserted",
        insert_a_step_by_an_outsider,
        {("case", 5, "sig.unknown_key"), ("case", 5, "order.not_allowed")},
    ),
    (
        "a stored text that is no envelope",
        overwrite_with_garbage,
        {("case*", 4, "envelope.malformed")},
    ),
]


def found(scene: Scene) -> Expected:
    names = {scene.case_stream: "case", scene.directory_stream: "directory"}
    report = scene.ledger.audit()
    assert not report.ok
    return {(names.get(f.stream, "case*"), f.seq, f.code) for f in report.findings}


@pytest.mark.parametrize(("name", "mutate", "expected"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_the_audit_names_each_tampering(
    scene: Scene, name: str, mutate: Callable[[Scene], None], expected: Expected
) -> None:
    mutate(scene)
    assert found(scene) == expected


def test_the_matrix_covers_every_attack_we_promise_to_catch() -> None:
    required = {"one byte", "deleted", "swapped", "key replaced", "grant backdated", "forged key"}
    names = " | ".join(t[0] for t in TAMPERS)
    assert all(word in names for word in required)


def test_an_untouched_ledger_audits_clean(scene: Scene) -> None:
    report = scene.ledger.audit()
    assert report.ok
    assert report.envelopes == len(scene.directory) + len(scene.case)
    assert report.streams == 2


# Nothing of the kind gets in through the front door -----------------------------------------


def refused_codes(scene: Scene, env: Envelope) -> set[str]:
    with pytest.raises(RulesRefused) as caught:
        scene.ledger.append(env)
    return {v.code for v in caught.value.violations}  # type: ignore[attr-defined]


def next_step(scene: Scene, step: str, signer: Signer, body: dict[str, Any]) -> Envelope:
    last = scene.case[-1]
    return StreamWriter(last.stream, last.seq, last.hash).sign(
        step, signer, last.at + timedelta(hours=1), body
    )


def test_append_refuses_a_forged_signature(scene: Scene) -> None:
    genuine = next_step(
        scene,
        "ResultIssued",
        scene.office.seal_service,
        {"pdf_sha256": "ab" * 32, "seal_serial": "01"},
    )
    draft = {k: v for k, v in genuine.to_json().items() if k != "sig"}
    assert refused_codes(scene, seal_envelope(draft, PrivateKey.generate())) == {"sig.invalid"}


def test_append_refuses_an_out_of_role_step(scene: Scene) -> None:
    handler_as_seal = scene.office.handler.as_role("seal_service")
    env = next_step(
        scene, "ResultIssued", handler_as_seal, {"pdf_sha256": "ab" * 32, "seal_serial": "01"}
    )
    assert refused_codes(scene, env) == {"role.missing"}
    env = next_step(
        scene, "ResultIssued", scene.office.handler, {"pdf_sha256": "ab" * 32, "seal_serial": "01"}
    )
    assert refused_codes(scene, env) == {"role.wrong_for_step"}


def test_append_refuses_an_outsider(scene: Scene) -> None:
    outsider = Signer("staff:mallory", "handler", PrivateKey.generate())
    env = next_step(scene, "Delivered", outsider, {"channel": "window", "recipient": "x"})
    assert refused_codes(scene, env) == {"sig.unknown_key", "order.not_allowed"}
