"""The log anchored outside the database: every checkpoint kept in the organisation folder,
signed on a schedule; a server that refuses to start or sign on a log that does not extend
the kept checkpoint (rewritten history, an older copy restored, newest leaves deleted); the
audit recomputing every stored node and checking checkpoints held outside the database."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apikit import T1, Api, open_api
from typer.testing import CliRunner

from api.app import create_app
from api.org import OrgHome
from api.settings import Settings
from cli.jobs import audit_with_log
from cli.main import _mount_subcommands, app
from ledger.checkpoint import verify_checkpoint
from ledger.errors import CaseLedgerError
from ledger.sample import SampleOffice
from ledger.store.log_store import LogError


def _post_case(api: Api, start: object = T1, steps: int = 4) -> None:
    for envelope in api.office.case_until_decided(start)[:steps]:  # type: ignore[arg-type]
        api.clock.now = envelope.at
        reply = api.post(envelope)
        assert reply.status_code == 201, reply.text


def _checkpoint(api: Api) -> str:
    reply = api.client.get("/v1/log/checkpoint")
    assert reply.status_code == 200, reply.text
    return reply.text


def _engine(home: Path, db: Path | None = None) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{db or home / 'caseledger.db'}")


def _rewrite_history_and_empty_the_log(home: Path) -> None:
    """What a database administrator can do: drop the guard, delete a step, empty the log."""
    engine = _engine(home)
    with engine.begin() as conn:
        for name in ("caseledger_events_no_update", "caseledger_events_no_delete"):
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        table = "stored_events"
        last = conn.exec_driver_sql(f"SELECT max(rowid) FROM {table}").scalar()  # noqa: S608
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE rowid = {int(last) - 1}")  # noqa: S608
        for log_table in ("log_leaves", "log_nodes", "log_checkpoints"):
            conn.exec_driver_sql(f"DELETE FROM {log_table}")  # noqa: S608
    engine.dispose()


@pytest.fixture
def quiet_api(api_home: Path, office: SampleOffice) -> object:
    yield from open_api(api_home, None, office, checkpoint_seconds=0)


def test_every_checkpoint_signed_is_kept_in_the_organisation_folder(quiet_api: Api) -> None:
    api = quiet_api
    _post_case(api, steps=2)
    first = _checkpoint(api)
    _post_case(api, T1 + timedelta(hours=1), steps=1)
    second = _checkpoint(api)
    folder = api.home / "checkpoints"
    assert (folder / "latest.note").read_text() == second
    trust = OrgHome.load(api.home).trust()
    for text in (first, second):
        size = verify_checkpoint(text, [trust.log_verifier_key]).size
        assert (folder / f"{size}.note").read_text() == text


def test_a_log_rebuilt_from_rewritten_history_is_refused(quiet_api: Api) -> None:
    api = quiet_api
    _post_case(api)
    _checkpoint(api)
    _rewrite_history_and_empty_the_log(api.home)
    with pytest.raises(LogError) as refused:
        create_app(Settings(home=api.home))
    assert refused.value.code == "log.inconsistent"
    home = OrgHome.load(api.home)
    ledger = home.open_ledger()  # the log is rebuilt from the rewritten events here
    try:
        with pytest.raises(LogError) as signing:
            ledger.log.sign_checkpoint(home.key("log"), api.clock.now)
        assert signing.value.code == "log.inconsistent"
        report = audit_with_log(ledger, home.trust().log_verifier_key)
    finally:
        ledger.close()
    codes = {f.code for f in report.findings}
    assert "log.fork" in codes or "log.rollback" in codes


def _copy_database(home: Path, target: Path) -> None:
    source = sqlite3.connect(home / "caseledger.db")
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()


def test_an_older_copy_of_the_database_is_refused_and_the_held_checkpoint_names_it(
    quiet_api: Api, tmp_path: Path
) -> None:
    api = quiet_api
    _post_case(api, steps=2)
    _checkpoint(api)
    old = tmp_path / "old.db"
    _copy_database(api.home, old)
    _post_case(api, T1 + timedelta(hours=1))
    held = tmp_path / "held.note"
    held.write_text(_checkpoint(api))
    with pytest.raises(LogError) as refused:
        create_app(Settings(home=api.home, db=str(old)))
    assert refused.value.code == "log.inconsistent"

    _mount_subcommands()
    runner = CliRunner()
    audit = ["audit", "--home", str(api.home), "--db", str(old), "--json"]
    kept = runner.invoke(app, audit)
    assert kept.exit_code == 1 and '"log.rollback"' in kept.stdout
    # Without the folder's kept checkpoint, the auditor's own checkpoint still names it.
    for path in (api.home / "checkpoints").iterdir():
        path.unlink()
    assert runner.invoke(app, audit).exit_code == 0
    result = runner.invoke(app, [*audit, "--checkpoint", str(held)])
    assert result.exit_code == 1 and '"log.rollback"' in result.stdout


def test_deleting_the_newest_steps_and_their_leaves_is_refused(quiet_api: Api) -> None:
    api = quiet_api
    _post_case(api)
    api.client.app.state.checkpoints.sign_once()  # type: ignore[attr-defined]
    engine = _engine(api.home)
    with engine.begin() as conn:
        for name in ("caseledger_events_no_update", "caseledger_events_no_delete"):
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        top = conn.exec_driver_sql("SELECT max(rowid) FROM stored_events").scalar()
        conn.exec_driver_sql(f"DELETE FROM stored_events WHERE rowid >= {top - 1}")  # noqa: S608
        for log_table in ("log_leaves", "log_nodes", "log_checkpoints"):
            conn.exec_driver_sql(f"DELETE FROM {log_table}")  # noqa: S608
    engine.dispose()
    with pytest.raises(LogError) as refused:
        create_app(Settings(home=api.home))
    assert refused.value.code == "log.inconsistent"


def test_the_server_signs_checkpoints_on_a_schedule(api_home: Path, office: SampleOffice) -> None:
    for api in open_api(api_home, None, office, checkpoint_interval_seconds=1):
        _post_case(api, steps=1)
        size = api.services().log.size()
        latest = api_home / "checkpoints" / "latest.note"
        trust = OrgHome.load(api_home).trust()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (
                latest.exists()
                and verify_checkpoint(latest.read_text(), [trust.log_verifier_key]).size == size
            ):
                break
            time.sleep(0.1)
        assert verify_checkpoint(latest.read_text(), [trust.log_verifier_key]).size == size


def test_a_corrupted_interior_node_is_named_by_the_audit(quiet_api: Api) -> None:
    api = quiet_api
    _post_case(api)
    _post_case(api, T1 + timedelta(hours=1))
    engine = _engine(api.home)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 1")
    engine.dispose()
    home = OrgHome.load(api.home)
    ledger = home.open_ledger()
    try:
        report = audit_with_log(ledger, home.trust().log_verifier_key)
    finally:
        ledger.close()
    mismatched = [f for f in report.findings if f.code == "log.node_mismatch"]
    assert [f.seq for f in mismatched] == [4]  # level 2, index 1 covers leaves 4..7
    assert report.log["nodes_recomputed"] > 0


def test_an_untouched_log_audits_clean_with_its_kept_and_held_checkpoints(
    quiet_api: Api, tmp_path: Path
) -> None:
    api = quiet_api
    _post_case(api)
    held = tmp_path / "held.note"
    held.write_text(_checkpoint(api))
    _post_case(api, T1 + timedelta(hours=1))
    _checkpoint(api)
    home = OrgHome.load(api.home)
    ledger = home.open_ledger()
    try:
        report = audit_with_log(ledger, home.trust().log_verifier_key, held=[held])
    finally:
        ledger.close()
    assert report.findings == ()
    assert len(report.log["anchors"]) == 2


def test_a_forged_kept_checkpoint_stops_the_server(quiet_api: Api) -> None:
    api = quiet_api
    _post_case(api, steps=1)
    _checkpoint(api)
    (api.home / "checkpoints" / "latest.note").write_text("not a checkpoint\n")
    with pytest.raises(CaseLedgerError) as refused:
        create_app(Settings(home=api.home))
    assert refused.value.code == "log.kept_invalid"
