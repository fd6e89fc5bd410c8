"""Files that survive a crash: the one way caseledger replaces a file on disk.

The data goes to a temporary file in the same folder, is flushed to the disk, renamed over the
name (atomic on POSIX), and the folder itself is flushed, so that after a power cut or a
``kill -9`` the name holds the old file or the whole new one — never a torn one. Kept
checkpoints, application materials, sealed documents and a department's feed state all use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_durably"]


def write_durably(
    path: Path, data: bytes, *, before_rename: Callable[[], None] | None = None
) -> None:
    """Replace ``path`` with ``data`` durably. ``before_rename`` runs once the data is on the
    disk and before the rename (the crash tests stop a process there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if before_rename is not None:
            before_rename()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    # The rename is durable only once the folder's entry is on the disk.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
