"""Departments' webhooks: the feed pushed to a department's URL, each delivery signed.

A department registers its URL signed in with its own key from the directory
(``PUT /v1/feed/webhook``). Each delivery is a POST of one feed page — exactly what
``GET /v1/feed?after=POSITION`` would answer that department, wrapped with who it is for and
when it was sent — whose body bytes the office signs with its status key (named in trust.json):

    Caseledger-Signature: ed25519; key_id=<16 hex>; sig=<base64 of
        Ed25519(b"caseledger/feed-delivery/v1\\n" + body)>

A 2xx answer moves the hook's position to the page's ``next_after``; anything else (or no
answer) is retried with the outbox's backoff, from the same position, so the department gets
every entry once it answers, and the same entries again only if it did not. At delivery time
the registering key must still be active and the department still hold its role; otherwise
the hook waits, its ``last_error`` saying why.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from api.auth import Identity, active_key, roles_now
from api.deps import Services
from api.errors import ApiError
from api.feed import DEPARTMENT_ROLE, feed_page
from ledger.envelope import format_time
from ledger.signing import PrivateKey, b64decode_strict, b64encode, verify_signature
from ledger.store.outbox import Hook, Outbox

__all__ = [
    "DELIVERY_KIND",
    "DELIVERY_PREFIX",
    "SIGNATURE_HEADER",
    "check_hook_url",
    "deliver_hooks",
    "sign_delivery",
    "verify_delivery",
]

_log = logging.getLogger("caseledger.webhooks")
DELIVERY_KIND = "caseledger/feed-delivery/v1"
DELIVERY_PREFIX = b"caseledger/feed-delivery/v1\n"
SIGNATURE_HEADER = "Caseledger-Signature"
_PAGE = 100
_PAGES_PER_RUN = 20


def check_hook_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL; ApiError 422 ``webhook.url`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise ApiError(422, "webhook.url", "推送地址须为完整的 http(s) 地址 (an http(s) URL)")
    return url


def sign_delivery(body: bytes, key: PrivateKey) -> str:
    """The Caseledger-Signature header value for ``body``."""
    sig = b64encode(key.sign(DELIVERY_PREFIX + body))
    return f"ed25519; key_id={key.key_id}; sig={sig}"


def verify_delivery(body: bytes, header: str, keys: dict[str, bytes]) -> None:
    """Raise SignatureInvalid (or ValueError for a malformed header) unless one of ``keys``
    (key id → public key, e.g. trust.json's status keys) signed ``body``."""
    fields = dict(part.strip().split("=", 1) for part in header.split(";")[1:] if "=" in part)
    if not header.startswith("ed25519;") or fields.get("key_id") not in keys:
        raise ValueError("not a caseledger delivery signature from a known key")
    sig = b64decode_strict(fields["sig"], what="the delivery signature")
    verify_signature(keys[fields["key_id"]], DELIVERY_PREFIX + body, sig)


@dataclass(frozen=True, slots=True)
class Delivered:
    department: str
    entries: int
    position: int


def deliver_hooks(services: Services, outbox: Outbox, now: datetime) -> list[Delivered]:
    """Deliver what is due to every hook; return what went. Never raises for a department's
    failure: it is recorded on the hook and retried."""
    key = services.home.status_key() if services.home is not None else None
    if key is None or services.log is None:
        return []
    done = []
    for hook in outbox.due_hooks(now):
        try:
            done.extend(_deliver(services, outbox, hook, key, now))
        except Exception as exc:  # one department's trouble must not stop the others
            _log.warning("webhook of %s not delivered: %s", hook.department, exc)
            outbox.hook_failed(hook, now, f"{type(exc).__name__}: {exc}")
    return done


def _deliver(
    services: Services, outbox: Outbox, hook: Hook, key: PrivateKey, now: datetime
) -> list[Delivered]:
    identity = _department(services, hook, now)
    done: list[Delivered] = []
    for _ in range(_PAGES_PER_RUN):
        page = feed_page(services, identity, hook.position, _PAGE)
        if page.entries:
            body = _body(hook, page.to_json(), now)
            failure = _post(hook.url, body, sign_delivery(body, key))
            if failure is not None:
                outbox.hook_failed(hook, now, failure)
                return done
            done.append(Delivered(hook.department, len(page.entries), page.next_after))
        if page.next_after == hook.position:
            return done  # nothing new the latest checkpoint covers
        outbox.hook_delivered(hook, page.next_after, now, sent=bool(page.entries))
        hook = replace(hook, position=page.next_after, attempts=0)
        if not page.more:
            return done
    return done


def _department(services: Services, hook: Hook, now: datetime) -> Identity:
    directory = services.ledger.directory()
    active_key(directory, hook.department, hook.key_id, now)  # ApiError if void
    roles = roles_now(directory, hook.department, now)
    if DEPARTMENT_ROLE not in roles:
        raise ApiError(403, "feed.forbidden", f"{hook.department} holds no department role now")
    return Identity(hook.department, hook.key_id, roles, "")


def _body(hook: Hook, page: dict[str, Any], now: datetime) -> bytes:
    wrapped = {
        "kind": DELIVERY_KIND,
        "department": hook.department,
        "sent_at": format_time(now),
        "page": page,
    }
    return json.dumps(wrapped, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _post(url: str, body: bytes, signature: str) -> str | None:
    """None if the department took the delivery, else why not."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    try:
        reply = httpx.post(url, content=body, headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        return f"unreachable: {type(exc).__name__}"
    return None if 200 <= reply.status_code < 300 else f"answered {reply.status_code}"
