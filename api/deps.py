"""What routes depend on: the services of one organisation, the caller, the clock.

:func:`open_services` is the one place that turns settings into a ledger, read models, a
trust file and secrets; everything else asks for them through the ``Annotated`` aliases.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from api.auth import Identity, TokenService
from api.errors import ApiError
from api.limits import ApplicantGate, QueryGuard, RateLimiter, too_many
from api.settings import Settings
from ledger.clock import Clock, system_clock
from ledger.errors import CaseLedgerError
from ledger.store.application import CaseLedger
from ledger.store.log_store import LogStore
from ledger.store.read_models import ReadModels
from ledger.store.sessions import RevokedTokens
from ledger.trust import TrustFile

__all__ = [
    "AddressDep",
    "Clock",
    "IdentityDep",
    "LedgerDep",
    "NowDep",
    "RateLimiter",
    "ReadModelsDep",
    "Services",
    "ServicesDep",
    "SettingsDep",
    "open_services",
    "public_rate",
]


log = logging.getLogger("caseledger.api")


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; the log stores UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass
class Services:
    """Everything one organisation's service needs, opened once per app."""

    settings: Settings
    ledger: CaseLedger
    read_models: ReadModels
    trust: TrustFile
    tokens: TokenService
    secret: bytes
    home: Any = None
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(60))
    applicants: ApplicantGate = field(default_factory=lambda: applicant_gate(Settings()))
    queries: QueryGuard = field(default_factory=lambda: query_guard(Settings()))
    clock: Clock = system_clock
    _crl: tuple[float, bytes] | None = None
    # The material store (api.materials), opened on first use.
    materials: Any = None
    _log_key: Any = None
    recovery: Any = None
    # The sender worker (api.notify.Notifier): applicant notices and department webhooks.
    notifier: Any = None
    # What follows the ledger off the request path (ledger.store.followers.Follower).
    followers: list[Any] = field(default_factory=list)
    # Where the followers draw and seal documents (api.sealing.SealProcess).
    sealer: Any = None

    @property
    def log(self) -> LogStore | None:
        """The ledger's Merkle log, or None (a server that holds only the trust file)."""
        return self.ledger.log

    def crl(self) -> bytes:
        """The seal CA's current CRL (DER), re-signed at most once an hour."""
        if self.home is None:
            raise ApiError(503, "crl.unavailable", "this server has no seal authority")
        if self._crl is None or time.monotonic() - self._crl[0] > 3600:
            authority = self.home.seal_authority()
            if authority.ca_key is None:
                # The CA key stays locked on a server: serve the CRL it last signed.
                stored: bytes | None = self.home.stored_crl()
                if stored is None:
                    raise ApiError(503, "crl.unavailable", "no CRL has been signed yet")
                return stored
            self._crl = (
                time.monotonic(),
                authority.crl(now=self.clock(), next_update=timedelta(days=7)),
            )
        return self._crl[1]

    def checkpoint(self) -> Any:
        """The latest signed checkpoint (ledger.store.log_store.StoredCheckpoint) or None.

        When this server holds the log key and the tree has grown, a new checkpoint is
        signed first — at most once per ``checkpoint_seconds`` — so that what is served
        covers recent envelopes.
        """
        log = self.kept_log()
        latest = log.latest_checkpoint()
        now = self.clock()
        if latest is not None and (
            latest.size == log.size()
            or now - _aware(latest.signed_at) < timedelta(seconds=self.settings.checkpoint_seconds)
        ):
            return latest
        return self.sign_checkpoint()

    def sign_checkpoint(self) -> Any:
        """Sign a checkpoint of the whole log now if it grew (and this server holds the log
        key); return the latest. Raises LogError if the log does not extend what was signed."""
        key = self._signing_key()
        if key is None:
            return self.kept_log().latest_checkpoint()
        return self.kept_log().sign_checkpoint(key, self.clock())

    def kept_log(self) -> LogStore:
        """The Merkle log; ApiError 503 on a server that keeps none."""
        if self.log is None:
            raise ApiError(503, "log.unavailable", "this server keeps no transparency log")
        return self.log

    def log_signing_key(self) -> Any:
        """The log key (ledger.signing.PrivateKey) when this server holds it and keeps a log."""
        return None if self.log is None else self._signing_key()

    def _signing_key(self) -> Any:
        if self._log_key is None and self.home is not None:
            try:
                self._log_key = self.home.key("log")
            except CaseLedgerError:
                log.warning("the log key cannot be read; serving the last checkpoint")
        return self._log_key

    def settle(self, timeout: float) -> int:
        """Wait (at most ``timeout`` seconds) for the followers to reach what is stored now;
        return how far the slowest still trails (store positions, 0 when caught up)."""
        if not self.followers:
            return 0
        target = self.ledger.last_position()
        deadline = time.monotonic() + timeout
        for follower in self.followers:
            follower.wait_for(target, max(0.0, deadline - time.monotonic()))
        return max(0, target - min(int(f.position) for f in self.followers))

    def close(self) -> None:
        for follower in self.followers:
            follower.stop()
        if self.notifier is not None:
            self.notifier.stop()
        if self.recovery is not None:
            self.recovery.stop()
        if self.sealer is not None:  # after all that seal with it
            self.sealer.close()
        self.read_models.close()
        self.ledger.close()
        self.read_models.engine.dispose()


def _open_organisation(settings: Settings) -> tuple[CaseLedger, TrustFile, bytes, Any]:
    """The ledger (with its log), trust file, server secret and organisation folder."""
    from api.org import OrgHome, resolve_db_url

    home_path = Path(settings.home)
    if (home_path / "org.json").exists():
        home = OrgHome.load(home_path)
        return home.open_ledger(settings.db), home.trust(), home.server_secret(), home
    # A folder with only trust.json and server.secret (no keys, no seal authority): enough
    # for a read-and-append server that holds no organisation keys at all.
    from ledger.store.compose import open_ledger

    try:
        trust = TrustFile.from_json((home_path / "trust.json").read_bytes())
        secret = bytes.fromhex((home_path / "server.secret").read_text().strip())
    except (OSError, ValueError) as exc:
        raise ApiError(
            503, "org.missing", f"{home_path} is not an organisation folder: {exc}"
        ) from None
    ledger = open_ledger(
        resolve_db_url(home_path, settings.db), org=trust.org, root_keys=trust.root_keys
    )
    return ledger, trust, secret, None


def _check_anchored(ledger: CaseLedger, trust: TrustFile) -> None:
    """Refuse to start on a database whose log does not extend the newest checkpoint kept
    outside it (a restored old copy, a rebuilt or truncated log)."""
    if ledger.log is not None:
        ledger.log.check_kept()
    if trust.witness_quorum == 0:
        log.warning(
            "witness quorum 0 (见证法定数为 0): verifiers require no witness cosignature, so a "
            "rewritten log is caught only by checkpoints already held outside this server"
        )


def open_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """Open the organisation named by ``settings``; raise a CaseLedgerError if it cannot be."""
    ledger, trust, secret, home = _open_organisation(settings)
    try:
        _check_anchored(ledger, trust)
    except BaseException:
        ledger.close()
        raise
    # On PostgreSQL the summaries share the ledger's connection pool (several server processes
    # each hold one); on SQLite they keep their own, which commits without waiting for the disk.
    shared = ledger.store.kind == "postgres"
    read_models = ReadModels(ledger.engine if shared else ledger.store.engine())
    # Reads catch up before they answer, so appends need not wait for the summaries.
    read_models.attach(ledger, background=True)
    tokens = TokenService(
        secret,
        token_minutes=settings.token_minutes,
        challenge_seconds=settings.challenge_seconds,
        revocations=RevokedTokens(read_models.engine),
    )
    services = Services(
        settings=settings,
        ledger=ledger,
        read_models=read_models,
        trust=trust,
        tokens=tokens,
        secret=secret,
        home=home,
        limiter=RateLimiter(settings.public_rate_per_minute),
        applicants=applicant_gate(settings),
        queries=query_guard(settings),
        clock=clock or system_clock,
    )
    if home is not None:
        from api.sealing import SealProcess

        services.sealer = SealProcess()
        services.recovery = _start_recovery(services)
        # After the recovery's first round: it issues what a crash left; they what comes.
        services.followers = _followers(
            settings, home, ledger, clock or system_clock, services.sealer
        )
    services.notifier = _notifier(services)
    return services


def _followers(
    settings: Settings, home: Any, ledger: CaseLedger, clock: Clock, sealer: Any
) -> list[Any]:
    """Work that follows the ledger in threads of its own, so no 201 waits for it: the sealed
    result of an approved decision (signed by the seal service) and, when the office asks for
    them, the notices its steps call for, drawn and sealed by ``sealer`` out of the server's
    interpreter (api.sealing). Reads wait for them (see :func:`settle_reads`)."""
    from api.issuer_lock import issuer_turns
    from api.notices import auto_notices
    from api.office_documents import OfficeDocuments
    from api.results import auto_issue
    from ledger.store.followers import Follower
    from seals import timestamper_for_url

    timestamper = timestamper_for_url(settings.tsa_url) if settings.tsa_url else None
    turns = issuer_turns(ledger)
    handlers = [("issuing", auto_issue(home, clock, timestamper, turns=turns, sealer=sealer))]
    if OfficeDocuments.load(home.path, home.org_name).auto_notices:
        handlers.append(("notices", auto_notices(home, clock, turns=turns, sealer=sealer)))
    return [
        Follower(ledger, handler, name=name, background=True).attach() for name, handler in handlers
    ]


def _notifier(services: Services) -> Any:
    """The sender worker, woken by every append (it only sets a flag: a step never waits on
    it or fails by it); its thread starts with the app."""
    from api.notify import Notifier

    notifier = Notifier.for_services(services)
    services.ledger.listen(notifier)
    return notifier


def _start_recovery(services: Services) -> Any:
    """Seal, before the first request, what a crash left unsealed; then keep at it."""
    from api.recovery import RecoveryRunner, awaiting_from_read_models, recover

    def run() -> Any:
        services.read_models.catch_up(services.ledger)
        awaiting = awaiting_from_read_models(services.read_models.engine)
        return recover(
            services.home,
            services.ledger,
            now=services.clock(),
            awaiting=awaiting,
            sealer=services.sealer,
        )

    runner = RecoveryRunner(run, services.settings.recovery_seconds)
    runner.start()
    return runner


def applicant_gate(settings: Settings) -> ApplicantGate:
    """The limits on applicants' self-service envelopes that ``settings`` set."""
    return ApplicantGate(
        max_bytes=settings.applicant_max_bytes,
        per_minute=settings.applicant_rate_per_minute,
        burst=settings.applicant_burst,
        total_per_minute=settings.applicant_total_per_minute,
        total_burst=settings.applicant_total_burst,
    )


def query_guard(settings: Settings) -> QueryGuard:
    """The limits on wrong query codes that ``settings`` set."""
    return QueryGuard(
        per_case=settings.query_misses_per_case,
        lockout_seconds=settings.query_lockout_minutes * 60,
        total_per_minute=settings.query_misses_per_minute,
        total_burst=settings.query_misses_per_minute,
    )


# The dependencies that only look something up are coroutines: FastAPI would run a plain
# function in its thread pool, one thread hop per dependency per request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


async def get_ledger(services: ServicesDep) -> CaseLedger:
    return services.ledger


def get_read_models(services: ServicesDep) -> ReadModels:
    # Another process may have appended: bring the summaries up to date before reading.
    services.read_models.catch_up(services.ledger)
    return services.read_models


async def get_now(services: ServicesDep) -> datetime:
    return services.clock()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LedgerDep = Annotated[CaseLedger, Depends(get_ledger)]
ReadModelsDep = Annotated[ReadModels, Depends(get_read_models)]
NowDep = Annotated[datetime, Depends(get_now)]


def get_identity(request: Request, services: ServicesDep, now: NowDep) -> Identity:
    """The signed-in caller (``Authorization: Bearer <token>``); ApiError 401 if none."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "auth.required",
            "sign in first: POST /v1/auth/challenge, then /v1/auth/token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return services.tokens.identity(token.strip(), services.ledger.directory(), now)


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def client_address(request: Request) -> str:
    """The caller's address as the connection shows it (no proxy header is trusted)."""
    return request.client.host if request.client else "unknown"


AddressDep = Annotated[str, Depends(client_address)]


async def public_rate(address: AddressDep, services: ServicesDep) -> None:
    """Refuse (429) a client address that exceeds the public rate."""
    wait = services.limiter.take(address)
    if wait > 0:
        raise too_many("rate.limited", "请求", wait)
