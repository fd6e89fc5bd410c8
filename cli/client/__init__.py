"""The signing client of ``caseledger``: keys, the directory and case steps.

``register(app)`` adds to the root Typer app:

- ``keygen`` — a new passphrase-protected key file for a staff member;
- ``staff add | add-key | grant | revoke | revoke-key | list`` and ``matter add FILE`` —
  directory changes signed with an admin key;
- ``case apply | accept | refuse | supplement | supplemented | review | decide | deliver |
  received | returned | suspend | resume | extend | supervise | withdraw | revoke | show |
  history`` — case steps signed with the staff member's own key, sent to ``--server`` or
  appended to the local database;
- ``promise bar | clear`` — an applicant barred from 告知承诺 (and the bar lifted), signed with
  an admin key;
- ``calendar publish YEAR --from FILE | show`` — the working-day calendar, signed by the admin;
- ``case issue`` — the seal service's step on the organisation's host: the sealed result PDF
  and ResultIssued; ``case notice`` the same for a notice (DocumentIssued).

Signing happens here, where the key is; a server only ever sees signed envelopes.
"""

from __future__ import annotations

import typer

# isort: off
# Importing a module registers its case commands, and `caseledger case --help` lists them in
# the order they were registered: the order a case takes them, so these imports keep that order.
from cli.client import _intake, _review, _delivery, _reasoned  # noqa: F401
from cli.client import _clock, _issue, _notice, _read  # noqa: F401

# isort: on
from cli.client._case import case_app
from cli.client._common import ClientError
from cli.client._directory import keygen, staff_app
from cli.client._matter import matter_app
from cli.client._promise import promise_app

__all__ = ["ClientError", "register"]

_REGISTERED = "_caseledger_client_registered"


def register(app: typer.Typer) -> None:
    """Add the signing client's commands to ``app`` (once; a second call changes nothing)."""
    if getattr(app, _REGISTERED, False):
        return
    from cli.calendar import calendar_app  # here: cli.calendar imports this package

    app.command("keygen")(keygen)
    app.add_typer(staff_app, name="staff")
    app.add_typer(matter_app, name="matter")
    app.add_typer(case_app, name="case")
    app.add_typer(promise_app, name="promise")
    app.add_typer(calendar_app, name="calendar")
    setattr(app, _REGISTERED, True)
