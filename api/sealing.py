"""Drawing and sealing one document, in the calling thread or in a process of its own.

Rendering (reportlab), attaching the receipt (pikepdf) and the PAdES seal (pyHanko) are
Python that holds the interpreter for about a tenth of a second per document. In a server's
follower thread that time is taken from the event loop and the ledger's writer, and every
201 meanwhile waits for it (p99 above 200 ms while results were sealed). The server therefore
seals in a :class:`SealProcess`: it hands over the document's content and its receipt, and
gets the sealed bytes back (the child reads the seal key and makes the CRL). What touches
the database — the 文号 claim, the kept file, the recording step — stays in the server's
thread (api.issuing), so SQLite keeps one writing process. The server's recovery seals
through the same process; the command line and the library seal in the calling thread
(:func:`seal_document`), with the same code.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pyhanko.sign.timestamps import TimeStamper

from seals import FileKeySigner, SealedPdf, attach_receipt, keeps_pdf_version, seal_pdf
from seals.errors import SealError

__all__ = ["Drawing", "SealJob", "SealProcess", "Sealer", "seal_document"]


@dataclass(frozen=True)
class Drawing:
    """A document to draw: a module-level drawing function and the typed content it draws,
    so that another process can draw it."""

    draw: Callable[[Any], bytes]
    document: Any

    def pdf(self) -> bytes:
        return self.draw(self.document)


@dataclass(frozen=True)
class SealJob:
    """Everything sealing one document needs beside the organisation folder's seal key."""

    home: Path
    drawing: Drawing
    receipt_json: bytes
    at: datetime
    timestamper: TimeStamper | None = None


Sealer = Callable[[SealJob], SealedPdf]


def seal_document(job: SealJob) -> SealedPdf:
    """Draw the document, attach its receipt and seal it with the folder's seal key and a
    CRL. The seal authority is read again for each document (parsing its RSA key is most of
    a server's own share of the work, so it is done here), and a renewed seal certificate is
    used at once."""
    from api.org import OrgHome

    home = OrgHome.load(job.home)
    authority = home.seal_authority()
    # With the seal CA's key locked (as init leaves it), the CRL it last signed is used.
    crl = authority.crl(now=job.at) if authority.ca_key is not None else home.stored_crl()
    signer = FileKeySigner.from_authority(authority)
    # Only a seal that keeps the file's PDF version lets the file claim PDF/A (docs/seals.md).
    archival = keeps_pdf_version(signer)
    attached = attach_receipt(job.drawing.pdf(), job.receipt_json, at=job.at, archival=archival)
    return seal_pdf(attached, signer, crl=crl, timestamper=job.timestamper, at=job.at)


def _started_child() -> None:
    """In the sealing process, at its start: end it when the server's process ends, however
    that ends (a pool's worker otherwise waits for work for ever), and import what sealing
    uses now rather than at the first document."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        sentinel = parent.sentinel

        def watch() -> None:
            multiprocessing.connection.wait([sentinel])
            os._exit(0)

        threading.Thread(target=watch, name="caseledger-seal-parent", daemon=True).start()
    import pyhanko.sign.signers  # noqa: F401
    import reportlab.pdfgen.canvas  # noqa: F401

    import api.org  # noqa: F401
    import seals.notices
    import seals.render  # noqa: F401


class SealProcess:
    """:func:`seal_document` in one process of its own, started at the first document and
    kept; one that dies is replaced at the next. Call it as a :data:`Sealer`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def __call__(self, job: SealJob) -> SealedPdf:
        pool = self._started()
        try:
            return pool.submit(seal_document, job).result()
        except CancelledError:  # closed while the document waited its turn
            raise SealError(
                "the server is stopping; the document is sealed after its restart",
                code="seal.closed",
            ) from None
        except BrokenProcessPool:
            self._drop(pool)
            raise SealError(
                "the sealing process stopped before it finished; the document is sealed again "
                "later (the recovery)",
                code="seal.process",
            ) from None

    def close(self) -> None:
        """Stop the process; a document asked for after this fails (``seal.closed``) and is
        left to the recovery."""
        with self._lock:
            self._closed = True
            pool = self._pool
        if pool is not None:
            self._drop(pool)

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise SealError(
                    "the server is stopping; the document is sealed after its restart",
                    code="seal.closed",
                )
            if self._pool is None:
                # spawn: a server has threads, which a forked child must not inherit.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_started_child)
            return self._pool

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        """Shut ``pool`` down, and forget it unless another thread has replaced it already."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=True, cancel_futures=True)
