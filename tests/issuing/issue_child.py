"""A child process for the crash tests: the library appending steps or recovering.

Reads one JSON job on stdin (see issuekit.run_child). With CASELEDGER_CRASH_AT set it kills
itself at that point, as a power cut would.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from api.notices import auto_notices
from api.office_documents import OfficeDocuments
from api.org import OrgHome
from api.recovery import recover
from api.results import auto_issue
from ledger.clock import FixedClock
from ledger.envelope import Envelope
from ledger.store.followers import follow


def main() -> None:
    job = json.loads(sys.stdin.read())
    home = OrgHome.load(Path(job["home"]))
    now = datetime.fromisoformat(job["now"])
    ledger = home.open_ledger(job["db"])
    try:
        if job["mode"] == "recover":
            report = recover(home, ledger, now=now)
            print(json.dumps({"issued": report.issued, "finished": report.finished}))
            return
        follow(ledger, auto_issue(home, FixedClock(now)))
        if OfficeDocuments.load(home.path, home.org_name).auto_notices:
            follow(ledger, auto_notices(home, FixedClock(now)))
        for text in job["envelopes"]:
            result = ledger.append(Envelope.from_bytes(text.encode()))
            print(json.dumps({"seq": result.seq, "replayed": result.replayed}))
    finally:
        ledger.close()


if __name__ == "__main__":
    main()
