"""``caseledger db …``: bring the database's own tables up to date, show their revision.

The event tables are eventsourcing's and need no migration; ``db upgrade`` covers the log
and read-model tables (see ledger/migrate.py). Every command that opens the organisation
runs the same upgrade, so this is for operators who want to migrate before starting the
server, or to check what a database is at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.org import resolve_db_url, resolve_home
from cli.texts import say
from ledger.errors import CaseLedgerError
from ledger.store import migrate
from ledger.store.storage import open_store

__all__ = ["register"]

db_app = typer.Typer(
    help="The database's log and read-model tables: migrate, show the revision.",
    no_args_is_help=True,
)

Home = Annotated[Path | None, typer.Option("--home", help="Organisation folder.")]
Db = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default HOME/caseledger.db)."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _url(home: Path | None, db: str | None) -> str:
    # Only the database is needed: no organisation keys are read.
    return resolve_db_url(resolve_home(home), db)


@db_app.command("upgrade")
def upgrade(home: Home = None, db: Db = None) -> None:
    """Migrate the log and read-model tables to the newest revision (safe to repeat)."""
    done = migrate.upgrade(open_store(_url(home, db)))
    start = migrate.BASELINE if done.stamped else done.before
    if done.stamped:
        typer.echo(say("db.stamped", revision=migrate.BASELINE))
    if done.after != start:
        typer.echo(say("db.upgraded", start=start or say("db.empty"), after=done.after))
    elif not done.stamped:
        typer.echo(say("db.at_head", after=done.after))


@db_app.command("current")
def current(home: Home = None, db: Db = None) -> None:
    """Print the database's revision, and whether it is the newest one.

    Exits 0 at the newest revision, 1 if the database needs ``caseledger db upgrade``.
    """
    store = open_store(_url(home, db))
    if store.sqlite_path is not None and not store.sqlite_path.exists():
        raise CaseLedgerError(f"no database at {store.sqlite_path}", code="db.missing")
    revision = migrate.current(store)
    newest = migrate.head()
    if revision == newest:
        typer.echo(say("db.head", revision=revision))
        return
    typer.echo(say("db.behind", revision=revision or say("db.none"), newest=newest))
    raise typer.Exit(1)
