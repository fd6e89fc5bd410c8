"""How a message reaches the applicant: one small interface, one adapter per way of sending.

:class:`Sender` takes an address (a mobile number or an e-mail address, read from the private
table just before), a subject and a text, and raises :class:`SendFailed` when the message did
not go. The adapters, chosen by ``CASELEDGER_NOTIFY_SMS`` / ``CASELEDGER_NOTIFY_EMAIL``
(:func:`sender_for`):

- ``file`` (the default) or ``file:PATH``: one JSON line per message appended to
  ``HOME/notifications/sent.jsonl`` (or PATH) — for a test office and the tests. The file
  holds the addresses as a gateway would receive them: keep it as private as the database.
- ``console``: the message logged (``caseledger.notify``), its address masked.
- ``https://…`` (SMS): a JSON POST ``{"to", "text", "subject"}`` to the gateway, with
  ``Authorization: Bearer $CASELEDGER_NOTIFY_SMS_TOKEN`` when set; any 2xx is sent.
- ``smtp://[user:password@]host[:port]?from=ADDRESS[&starttls=1]`` (or ``smtps://``): e-mail.
- ``none``: nothing is sent on that channel (the message is recorded as failed, not retried).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from ledger.errors import CaseLedgerError

__all__ = [
    "ConsoleSender",
    "FileSender",
    "NoSender",
    "SendFailed",
    "Sender",
    "SmsGateway",
    "SmtpSender",
    "sender_for",
]

_log = logging.getLogger("caseledger.notify")
_TIMEOUT = 15.0


class SendFailed(CaseLedgerError):
    """A message did not go (code ``notify.failed``; ``final`` when retrying cannot help)."""

    code = "notify.failed"

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class Sender(Protocol):
    """One way of sending: ``send`` returns once the message went, else raises SendFailed."""

    def send(self, address: str, subject: str, text: str) -> None: ...


@dataclass
class FileSender:
    path: Path
    channel: str
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, address: str, subject: str, text: str) -> None:
        line = json.dumps(
            {"channel": self.channel, "to": address, "subject": subject, "text": text},
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise SendFailed(f"cannot write {self.path}: {exc}") from None


@dataclass(frozen=True)
class ConsoleSender:
    channel: str

    def send(self, address: str, subject: str, text: str) -> None:
        shown = address[:3] + "****" + address[-2:] if len(address) > 6 else "****"
        _log.info("%s to %s: %s", self.channel, shown, text)


@dataclass(frozen=True)
class NoSender:
    channel: str

    def send(self, address: str, subject: str, text: str) -> None:
        raise SendFailed(f"no {self.channel} sender is configured", final=True)


@dataclass(frozen=True)
class SmsGateway:
    url: str
    token: str | None = None

    def send(self, address: str, subject: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            reply = httpx.post(
                self.url,
                json={"to": address, "text": text, "subject": subject},
                headers=headers,
                timeout=_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise SendFailed(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if not 200 <= reply.status_code < 300:
            raise SendFailed(f"SMS gateway answered {reply.status_code}")


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    ssl: bool = False
    starttls: bool = False

    def send(self, address: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, subject
        message.set_content(text)
        smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=_TIMEOUT) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise SendFailed("the mail server refused the address", final=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"mail server: {type(exc).__name__}: {exc}") from None


def sender_for(spec: str, channel: str, home: Path) -> Sender:
    """The adapter ``spec`` names for ``channel`` (``sms`` or ``email``); CaseLedgerError
    ``notify.config`` if it names none."""
    if spec == "file" or spec.startswith("file:"):
        path = Path(spec[5:]) if spec.startswith("file:") else home / "notifications" / "sent.jsonl"
        return FileSender(path, channel)
    if spec == "console":
        return ConsoleSender(channel)
    if spec == "none":
        return NoSender(channel)
    parts = urlsplit(spec)
    if channel == "sms" and parts.scheme in ("http", "https") and parts.hostname:
        return SmsGateway(spec, os.environ.get("CASELEDGER_NOTIFY_SMS_TOKEN") or None)
    if channel == "email" and parts.scheme in ("smtp", "smtps") and parts.hostname:
        query = parse_qs(parts.query)
        sender = (query.get("from") or [""])[0]
        if not sender:
            raise CaseLedgerError("an smtp:// sender needs ?from=ADDRESS", code="notify.config")
        return SmtpSender(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            sender=sender,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=parts.scheme == "smtps",
            starttls=(query.get("starttls") or ["0"])[0] in ("1", "true", "yes"),
        )
    raise CaseLedgerError(
        f"{channel} sender {spec!r}: use file, file:PATH, console, none, or "
        + ("an http(s) SMS gateway URL" if channel == "sms" else "smtp://host?from=ADDRESS"),
        code="notify.config",
    )
