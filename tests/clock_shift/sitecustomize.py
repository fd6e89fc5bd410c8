"""Loaded only by ``./dev test-clock`` (on ``PYTHONPATH``), in every Python process it starts.

The suite runs there under libfaketime with only the wall clock moved (``DONT_FAKE_MONOTONIC``:
a faked monotonic clock never wakes a thread waiting with a timeout). libfaketime 0.9.10 then
still rewrites ``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)``, which ``time.sleep`` uses,
into an invalid request (EINVAL); a relative ``select`` timeout sleeps the same time.

``FAKETIME="@…"`` starts each process's clock at that instant when the process starts, so a
server a test starts late in the run would be minutes behind the test that signs for it: a
child process started here is handed the parent's own (moved) time instead.
"""

import ctypes
import os
import select
import subprocess
import time

_monotonic = time.monotonic


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = _monotonic() + seconds
    while (left := deadline - _monotonic()) > 0:
        select.select([], [], [], left)


_popen_init = subprocess.Popen.__init__


def _popen_at_our_time(self, args, *rest, env=None, **options):  # type: ignore[no-untyped-def]
    env = dict(os.environ if env is None else env)
    if env.get("FAKETIME", "").startswith("@"):
        env["FAKETIME"] = "@" + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    _popen_init(self, args, *rest, env=env, **options)


# libfaketime 0.9.10 calls getenv("FAKETIME_WAIT_MS") inside every pthread_cond_timedwait, and
# CPython waits for the interpreter lock in one: threads read the C environment holding no lock.
# glibc's setenv reallocates (and frees) the array when a variable is added (CliRunner and typer
# set variables on every command), so a thread reading it then crashes the process. Here a change
# builds a new array and swaps the `environ` pointer: a reader sees the old array or the new one,
# and neither (nor any string) is ever freed. Children still inherit every change.
_libc = ctypes.CDLL(None)
_environ = ctypes.c_void_p.in_dll(_libc, "environ")
_never_freed: list[object] = []


def _entries_without(name: bytes) -> list[int]:
    if not _environ.value:
        return []  # an emptied environment (clearenv) has no array at all
    entries = ctypes.cast(_environ.value, ctypes.POINTER(ctypes.c_void_p))
    prefix = name + b"="
    kept, index = [], 0
    while (address := entries[index]) is not None:
        if not ctypes.string_at(address).startswith(prefix):
            kept.append(address)
        index += 1
    return kept


def _swap_environ(entries: list[int]) -> None:
    array = (ctypes.c_void_p * (len(entries) + 1))(*entries, None)
    _never_freed.append(array)
    _environ.value = ctypes.addressof(array)


def _checked_name(name: str | bytes) -> bytes:
    encoded = os.fsencode(name)
    if not encoded or b"=" in encoded or b"\0" in encoded:
        raise ValueError("illegal environment variable name")
    return encoded


def _putenv_without_free(name: str | bytes, value: str | bytes) -> None:
    encoded_name, encoded_value = _checked_name(name), os.fsencode(value)
    if b"\0" in encoded_value:
        raise ValueError("embedded null byte")
    entry = ctypes.create_string_buffer(encoded_name + b"=" + encoded_value)
    _never_freed.append(entry)
    _swap_environ([*_entries_without(encoded_name), ctypes.addressof(entry)])


def _unsetenv_without_free(name: str | bytes) -> None:
    _swap_environ(_entries_without(_checked_name(name)))


if os.environ.get("FAKETIME"):
    time.sleep = _sleep
    subprocess.Popen.__init__ = _popen_at_our_time  # type: ignore[method-assign]
    os.putenv = _putenv_without_free
    os.unsetenv = _unsetenv_without_free
