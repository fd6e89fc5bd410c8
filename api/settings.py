"""Service settings, read from the environment (``CASELEDGER_*``) by pydantic-settings.

Nothing is read at import time: :func:`get_settings` builds (and caches) the settings when
first asked, and ``create_app(settings)`` accepts any other instance, which is what tests do.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Where the organisation lives, and the service's limits."""

    model_config = SettingsConfigDict(env_prefix="CASELEDGER_", frozen=True, extra="ignore")

    home: Path = Field(default=Path("caseledger-data"), description="The organisation folder.")
    db: str | None = Field(
        default=None, description="Database URL; default: the home's SQLite file."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Cap on JSON request bodies."
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Cap on uploaded request bodies (POST /v1/verify, /v1/materials).",
    )
    verify_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Wall-clock (and CPU) limit of one PDF check."
    )
    verify_memory_mb: int = Field(
        default=1024, ge=64, description="Memory one PDF check may take (MiB, RLIMIT_AS)."
    )
    verify_concurrency: int = Field(
        default=2, ge=1, le=64, description="PDF checks that may run at once; more get 503."
    )
    verify_max_inflated_mb: int = Field(
        default=64, ge=1, description="Refuse PDFs whose streams inflate to more (MiB)."
    )
    verify_max_cmap_entries: int = Field(
        default=50_000, ge=1, description="Refuse PDFs whose CMaps hold more entries."
    )
    public_rate_per_minute: int = Field(
        default=60, ge=1, description="Requests per minute per client address on public endpoints."
    )
    applicant_max_bytes: int = Field(
        default=16 * 1024, ge=1024, description="Cap on one envelope signed by an applicant."
    )
    applicant_rate_per_minute: float = Field(
        default=2, gt=0, description="Applicant envelopes per minute from one client address."
    )
    applicant_burst: int = Field(
        default=10, ge=1, description="Applicant envelopes from one address at once."
    )
    applicant_total_per_minute: float = Field(
        default=120, gt=0, description="Applicant envelopes per minute from all addresses."
    )
    applicant_total_burst: int = Field(
        default=300, ge=1, description="Applicant envelopes from all addresses at once."
    )
    query_misses_per_case: int = Field(
        default=5, ge=1, description="Wrong query codes that lock one case number's lookup."
    )
    query_lockout_minutes: float = Field(
        default=15, gt=0, description="How long a case number's lookup stays locked."
    )
    query_misses_per_minute: int = Field(
        default=60, ge=1, description="Wrong query codes per minute over all cases."
    )
    token_minutes: int = Field(default=15, ge=1, le=60, description="Lifetime of a sign-in token.")
    challenge_seconds: int = Field(
        default=120, ge=10, le=600, description="Lifetime of a challenge."
    )
    near_due_days: int = Field(
        default=3, ge=0, description="Working days left that count as near due."
    )
    checkpoint_seconds: int = Field(
        default=10, ge=0, description="Sign a new log checkpoint on request at most this often."
    )
    tsa_url: str | None = Field(
        default=None,
        description="RFC 3161 time-stamping authority for sealed results (PAdES-B-LT); "
        "without one, seals are B-B and the receipt's signed checkpoint dates them.",
    )
    recovery_seconds: int = Field(
        default=300,
        ge=0,
        description=(
            "Seal what a crash left unsealed at start and then this often (0: at start only)."
        ),
    )
    read_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        description=(
            "A read waits at most this long for sealed results and notices to follow what "
            "was stored when it arrived; its Caseledger-Lag header says what still trails."
        ),
    )
    checkpoint_interval_seconds: int = Field(
        default=60,
        ge=0,
        description="Sign a checkpoint on this schedule when the log has grown (0: never).",
    )
    page_limit: int = Field(
        default=200, ge=1, le=1000, description="Most items in one list response."
    )
    materials: str = Field(
        default="folder",
        description="Where application files are kept: folder (HOME/materials), folder:PATH, "
        "database, or s3://bucket[/prefix]?endpoint=URL.",
    )
    max_material_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Cap on one uploaded material file."
    )
    material_scan_command: str | None = Field(
        default=None,
        description="A virus scanner run with each uploaded file on its standard input "
        "(exit 0 clean, 1 infected), e.g. `clamdscan --no-summary -`.",
    )
    notify_sms: str = Field(
        default="file",
        description="How SMS notices to applicants go: file (HOME/notifications/sent.jsonl), "
        "file:PATH, console, none, or the http(s) URL of an SMS gateway.",
    )
    notify_email: str = Field(
        default="file",
        description="How e-mail notices go: file, file:PATH, console, none, or "
        "smtp[s]://[user:password@]host[:port]?from=ADDRESS[&starttls=1].",
    )
    notify_seconds: float = Field(
        default=5,
        ge=0,
        description="Send notices and deliver webhooks this often, and soon after each step "
        "(0: no background sender).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, built once."""
    return Settings()
