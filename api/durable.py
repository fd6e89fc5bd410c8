"""Files that survive a crash, and the named points where the crash tests stop a process.

A sealed document is written to a temporary file in its folder, flushed to the disk, renamed
over its name (atomic on POSIX) and the folder itself flushed, so after a power cut or a
``kill -9`` the name holds either nothing or the whole file — never a torn one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ledger.store import files

__all__ = ["CRASH_ENV", "crash_point", "write_durably"]

# The crash tests run the server or the library in a child process with this variable set to
# the name of one point; the process kills itself there as a power cut would.
CRASH_ENV = "CASELEDGER_CRASH_AT"


def crash_point(name: str) -> None:
    """Die at once (SIGKILL, no clean-up) if the crash tests named this point."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one whole
    (ledger.store.files), stopping at the ``document.before_rename`` crash point."""
    files.write_durably(path, data, before_rename=lambda: crash_point("document.before_rename"))
