"""Verification in a child process, bounded in CPU time, memory and wall-clock time.

The parsers a check relies on (pikepdf's C++, pyHanko's) cannot be interrupted from Python, so a
crafted file is checked where it can be stopped: in a child process with ``RLIMIT_CPU`` and
``RLIMIT_AS`` set, its own alarm as a last resort, and a parent that kills it at the deadline
or as soon as the answer is no longer wanted (the client left). A check that is stopped gives an
INDETERMINATE verdict with the one check ``verify.limits`` saying which limit stopped it; input
refused by the caps (:mod:`verify._prescan`) stays :class:`InputUnreadable`, as in the process.

Children are started by multiprocessing's *forkserver* (a small clean process that forks them,
so a server's threads and memory are never copied); a single-threaded program such as the
command line may use *fork*, which costs less.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import resource
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, Literal

from ledger.language import pick
from ledger.trust import TrustFile
from verify.bundle import verify_bundle
from verify.limits import MIB, VerifyLimits
from verify.pdf import verify_pdf
from verify.status import StatusEvidence
from verify.texts import detail
from verify.trust import load_trust
from verify.verdict import InputUnreadable, Verdict, indeterminate

__all__ = ["CheckAbandoned", "Sandbox", "SandboxedCheck", "stopped_verdict"]

Kind = Literal["pdf", "bundle"]
StartMethod = Literal["forkserver", "fork", "auto"]
_POLL_SECONDS = 0.25
_log = logging.getLogger(__name__)
# What the fork server imports once, so that children start warm: the verifier, and what
# pyHanko and cryptography import only at their first use.
_PRELOAD = (
    "__main__",
    "verify.sandbox",
    "pyhanko.pdf_utils.filters",
    "cryptography.hazmat.backends.openssl",
    "lxml.etree",
    "encodings.utf_16_be",
)


class CheckAbandoned(Exception):
    """The check was stopped because nobody waits for its answer any more."""


@dataclass(frozen=True, slots=True)
class _Job:
    kind: Kind
    data: bytes
    trust_json: str
    at: datetime | None
    limits: VerifyLimits
    status: StatusEvidence | None = None


def _confine(limits: VerifyLimits) -> None:
    """Limit this (child) process: CPU seconds, address space, no core file, and an alarm
    whose default action ends the process even inside C++ code if the parent is gone."""
    cpu = limits.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # The limit is on what the check adds: a forked child starts with its parent's mappings.
    space = _address_space() + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (space, space))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(limits.wall_seconds) + 2)
    # pyHanko logs every validation problem with a traceback; the verdict already says what
    # is wrong, in words.
    for name in ("pyhanko", "pyhanko_certvalidator", "pikepdf"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _address_space() -> int:
    """This process's current address space in bytes (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(conn: Connection, job: _Job) -> None:
    """The child's whole life: confine itself, check, send one outcome, end."""
    _confine(job.limits)
    outcome: tuple[Any, ...]
    try:
        trust = load_trust(job.trust_json)
        if job.kind == "pdf":
            verdict = verify_pdf(job.data, trust, at=job.at, status=job.status, limits=job.limits)
            outcome = ("verdict", verdict)
        else:
            outcome = ("verdict", verify_bundle(job.data, trust))
    except InputUnreadable as exc:
        outcome = ("unreadable", exc.code, exc.message)
    except MemoryError:
        outcome = ("stopped", "memory")
    # The child's contract is the parent's: a verdict or unreadable input, never a traceback.
    except BaseException as exc:
        outcome = ("unreadable", InputUnreadable.code, f"the input could not be processed: {exc}")
    with contextlib.suppress(OSError, MemoryError, ValueError):
        conn.send(outcome)
    conn.close()


def _nothing() -> None:
    """A child that does nothing: it only proves the fork server is ready."""


def stopped_verdict(reason: str, limits: VerifyLimits) -> Verdict:
    """The INDETERMINATE verdict of a check that a limit stopped, saying which, in Chinese
    and English."""
    texts = {
        "wall": (
            f"核验超过 {limits.wall_seconds:g} 秒未完成，已被终止",
            f"the check did not finish within {limits.wall_seconds:g} s and was stopped",
        ),
        "cpu": (
            f"核验用尽 {limits.cpu_seconds} 秒处理器时间，已被终止",
            f"the check used up its {limits.cpu_seconds} s of CPU time and was stopped",
        ),
        "memory": (
            f"核验所需内存超过 {limits.memory_bytes // MIB} MiB，已被终止",
            f"the check needed more than {limits.memory_bytes // MIB} MiB of memory "
            "and was stopped",
        ),
    }
    chinese, english = texts.get(
        reason, ("核验进程意外终止", "the checking process ended abruptly")
    )
    stopped = detail("limits.stopped", reason=pick((chinese, english)))
    return Verdict((indeterminate("verify.limits", stopped),))


class SandboxedCheck:
    """One check running in its child process; ask for its outcome, or stop it."""

    def __init__(self, process: Any, conn: Connection, limits: VerifyLimits) -> None:
        self.process, self.conn, self.limits = process, conn, limits
        self.deadline = time.monotonic() + limits.wall_seconds

    def poll(self, timeout: float = 0.0) -> Verdict | None:
        """The verdict if the check has ended (waiting at most ``timeout`` s), else None.

        Raises InputUnreadable for input refused by the caps or unreadable; a check stopped by
        a limit, or past its deadline (it is killed then), gives the INDETERMINATE verdict.
        """
        wait = max(0.0, min(timeout, self.deadline - time.monotonic()))
        if self.conn.poll(wait):
            try:
                return self._outcome(self.conn.recv())
            except EOFError:
                return self._died()
            finally:
                self.stop()
        if not self.process.is_alive():
            return self._died()
        if time.monotonic() >= self.deadline:
            self.stop()
            return stopped_verdict("wall", self.limits)
        return None

    def wait(self, cancelled: Callable[[], bool] | None = None) -> Verdict:
        """Block until the verdict; raise CheckAbandoned (the child killed) once ``cancelled``
        says so."""
        try:
            while (verdict := self.poll(_POLL_SECONDS)) is None:
                if cancelled is not None and cancelled():
                    raise CheckAbandoned
            return verdict
        finally:
            self.stop()

    async def wait_async(self, gone: Callable[[], Awaitable[bool]] | None = None) -> Verdict:
        """Await the verdict without holding a thread; raise CheckAbandoned (the child killed)
        once ``gone`` says the answer is no longer wanted."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        handles = (self.conn.fileno(), self.process.sentinel)
        for handle in handles:
            loop.add_reader(handle, ready.set)
        try:
            while (verdict := self.poll()) is None:
                ready.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ready.wait(), _POLL_SECONDS)
                if gone is not None and await gone():
                    raise CheckAbandoned
            return verdict
        finally:
            for handle in handles:
                loop.remove_reader(handle)
            self.stop()

    def stop(self) -> None:
        """Kill the child if it still runs, and reap it."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def _outcome(self, outcome: tuple[Any, ...]) -> Verdict:
        match outcome:
            case ("verdict", Verdict() as verdict):
                return verdict
            case ("unreadable", str(code), str(message)):
                raise InputUnreadable(message, code=code)
            case ("stopped", str(reason)):
                return stopped_verdict(reason, self.limits)
        return stopped_verdict("crashed", self.limits)

    def _died(self) -> Verdict:
        """The verdict of a child that ended without an answer: its signal says which limit
        ended it (SIGXCPU: RLIMIT_CPU; SIGALRM: its own alarm)."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        reasons = {-signal.SIGXCPU: "cpu", -signal.SIGALRM: "wall"}
        if code not in reasons:
            # Neither limit: the operator needs the signal or status to tell what did it.
            ended = (
                f"signal {signal.Signals(-code).name}" if code and code < 0 else f"status {code}"
            )
            _log.warning("a checking process ended without an answer (%s)", ended)
        return stopped_verdict(reasons.get(code, "crashed"), self.limits)


class Sandbox:
    """Starts checks in child processes under ``limits``, by ``start_method``: *forkserver*
    (a server), *fork* (a single-threaded program), or *auto* (fork while this process has one
    thread). A program that uses it needs the ``if __name__ == "__main__":`` guard that
    multiprocessing asks for."""

    def __init__(
        self, limits: VerifyLimits | None = None, *, start_method: StartMethod = "forkserver"
    ) -> None:
        self.limits = limits or VerifyLimits()
        if start_method == "auto":
            # fork is cheaper, but copying a process is safe only while it has one thread.
            start_method = "fork" if threading.active_count() == 1 else "forkserver"
        self.context: Any = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # The fork server imports the verifier once; each child then starts warm.
            self.context.set_forkserver_preload(list(_PRELOAD))

    def warm(self) -> None:
        """Start the fork server and have it fork one child now (a server calls this at
        start-up), so that the first check does not wait for the fork server's imports."""
        if self.context.get_start_method() == "forkserver":
            process = self.context.Process(target=_nothing, daemon=True)
            process.start()
            process.join()

    def start(
        self,
        kind: Kind,
        data: bytes,
        trust: TrustFile,
        *,
        at: datetime | None = None,
        status: StatusEvidence | None = None,
    ) -> SandboxedCheck:
        """Start checking ``data`` (a PDF, with the evidence ``status`` of whether it still
        holds, or a bundle) against ``trust`` in a new child."""
        job = _Job(kind, bytes(data), trust.dumps(), at, self.limits, status)
        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_child, args=(sender, job), daemon=True)
        process.start()
        sender.close()
        return SandboxedCheck(process, receiver, self.limits)

    def verify_pdf(
        self,
        data: bytes,
        trust: TrustFile,
        *,
        at: datetime | None = None,
        status: StatusEvidence | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Verdict:
        """:func:`verify.pdf.verify_pdf` in a child under this sandbox's limits."""
        return self.start("pdf", data, trust, at=at, status=status).wait(cancelled)

    def verify_bundle(self, data: bytes, trust: TrustFile) -> Verdict:
        """:func:`verify.bundle.verify_bundle` in a child under this sandbox's limits."""
        return self.start("bundle", data, trust).wait()
