"""Files that survive a crash, and the named points where the crash tests stop a process.

A sealed document is written to a temporary file in its folder, flushed to the disk, renamed
over its name (atomic on POSIX) and the folder itself flushed, so after a power cut or a
``kill -9`` the name holds either nothing or the whole file — never a torn one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

__all__ = ["CRASH_ENV", "crash_point", "write_durably"]

# The crash tests run the server or the library in a child process with this variable set to
# the name of one point; the process kills itself there as a power cut would.
CRASH_ENV = "CASELEDGER_CRASH_AT"


def crash_point(name: str) -> None:
    """Die at once (SIGKILL, no clean-up) if the crash tests named this point."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    crash_point("document.before_rename")
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on the disk.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
