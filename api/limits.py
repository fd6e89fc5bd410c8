"""Limits on what anyone may do without signing in: the public rate, applicant self-service
envelopes (a size cap and a rate per address and overall), and query-code guessing (a cap per
case with a lockout, and one over all cases).

Every limit is a token bucket kept in the server process: ``capacity`` requests at once,
refilled at ``per_minute``. A refusal is an :class:`~api.errors.ApiError` 429 with
``Retry-After`` and a Chinese message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.errors import ApiError

__all__ = ["ApplicantGate", "QueryGuard", "RateLimiter", "too_many"]

Monotonic = Callable[[], float]


class RateLimiter:
    """A token bucket per key (a client address, a case): ``per_minute`` refilled
    continuously, up to ``burst`` at once (default: ``per_minute``)."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        max_clients: int = 100_000,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """0.0 if the request may go ahead (one token taken), else the seconds to wait."""
        now = self.clock() if now is None else now
        with self._lock:
            if len(self._buckets) >= self.max_clients:
                # A flood of keys: start afresh rather than grow (the overall limits still hold).
                self._buckets.clear()
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0, now)
            return 0.0

    def peek(self, client: str, now: float | None = None) -> float:
        """Like :meth:`take`, but takes nothing: 0.0 if a token is there, else the wait."""
        now = self.clock() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


def too_many(code: str, what: str, wait: float) -> ApiError:
    """The 429 for ``code``: ``what`` (Chinese) happened too often; retry in ``wait`` s."""
    seconds = max(1, round(wait + 0.5))
    return ApiError(
        429, code, f"{what}过于频繁，请 {seconds} 秒后再试", headers={"Retry-After": str(seconds)}
    )


class ApplicantGate:
    """Envelopes signed by applicants' own keys (self-service, no sign-in): each at most
    ``max_bytes``, ``per_minute`` from one address (``burst`` at once), and ``total_per_minute``
    from all addresses together (``total_burst`` at once)."""

    def __init__(
        self,
        *,
        max_bytes: int,
        per_minute: float,
        burst: int,
        total_per_minute: float,
        total_burst: int,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.per_address = RateLimiter(per_minute, burst=burst, clock=clock)
        self.overall = RateLimiter(total_per_minute, burst=total_burst, clock=clock)

    def admit(self, address: str, size: int) -> None:
        """Raise ApiError 413 or 429 unless one more applicant envelope may be judged."""
        if size > self.max_bytes:
            raise ApiError(
                413,
                "applicant.too_large",
                f"申请人自行提交的内容不得超过 {self.max_bytes} 字节",
            )
        wait = self.per_address.take(address)
        if wait > 0:
            raise too_many("rate.applicants", "提交申请", wait)
        wait = self.overall.take("*")
        if wait > 0:
            raise too_many("rate.applicants_overall", "全站申请提交", wait)


class QueryGuard:
    """Query codes (查询密码) cannot be guessed: ``per_case`` wrong codes for one case number
    lock that number's lookup for ``lockout_seconds`` (even with the right code); wrong codes
    over all cases beyond ``total_per_minute`` (``total_burst`` at once) hold every lookup
    back until the bucket refills."""

    def __init__(
        self,
        *,
        per_case: int,
        lockout_seconds: float,
        total_per_minute: float,
        total_burst: int,
        max_cases: int = 100_000,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.per_case, self.lockout, self.max_cases = per_case, lockout_seconds, max_cases
        self.clock = clock
        self.overall = RateLimiter(total_per_minute, burst=total_burst, clock=clock)
        # number → (wrong codes since the last lockout or success, locked until)
        self._cases: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def check(self, number: str) -> None:
        """Raise ApiError 429 if lookups of ``number`` (or all lookups) are held back now."""
        wait = self.overall.peek("*")
        if wait > 0:
            raise too_many("query.throttled", "查询密码错误次数", wait)
        with self._lock:
            _, until = self._cases.get(number.upper(), (0, 0.0))
        wait = until - self.clock()
        if wait > 0:
            raise too_many("query.locked", "该受理号的查询密码错误次数", wait)

    def missed(self, number: str) -> None:
        """Count one wrong code (or unknown number) against ``number`` and overall."""
        self.overall.take("*")
        key = number.upper()
        with self._lock:
            if len(self._cases) >= self.max_cases:
                now = self.clock()
                self._cases = {k: v for k, v in self._cases.items() if v[1] > now}
            misses, until = self._cases.get(key, (0, 0.0))
            misses += 1
            if misses >= self.per_case:
                misses, until = 0, self.clock() + self.lockout
            self._cases[key] = (misses, until)

    def found(self, number: str) -> None:
        """The right code: the count of wrong ones for ``number`` starts again."""
        with self._lock:
            self._cases.pop(number.upper(), None)
