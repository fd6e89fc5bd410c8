"""Sign-in without passwords, bearer tokens, and public query codes.

A staff member asks for a challenge for their principal and key id, signs
``b"caseledger/signin/v1\\n" + challenge`` with that key (the key never leaves them), and
trades the signature for a bearer token. The key must be an active directory key of that
principal, and the principal must hold at least one role now.

Challenges and tokens are stateless: ``payload.mac``, both base64url, the MAC an
HMAC-SHA256 under a key derived from the organisation's server secret, so any server
process of the organisation can check them. A challenge is taken once per process (a used
set remembers it until it expires). Tokens live ``token_minutes`` (15 by default); every
request re-checks the key and the roles against the directory, so a revoked key or role
stops working at once. Each token names a random id; signing out records it as revoked in
the database (``ledger.store.sessions``), so the token is refused from then on by every
process of the organisation, before and after a restart.

Query codes (查询密码) for the public case lookup are derived, not stored:
``HMAC-SHA256(secret, "caseledger/query-code/v1\\n" + case id)`` read as a number,
modulo 10^8, written with 8 digits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from api.errors import ApiError
from ledger.directory import DirectoryState
from ledger.errors import CaseLedgerError
from ledger.signing import b64decode_strict, verify_signature

__all__ = [
    "SIGNIN_PREFIX",
    "Identity",
    "Revocations",
    "TokenService",
    "query_code",
    "roles_now",
]

SIGNIN_PREFIX = b"caseledger/signin/v1\n"


class Revocations(Protocol):
    """Where revoked token ids are kept (``ledger.store.sessions.RevokedTokens``)."""

    def revoke(self, token_id: str, expires_at: datetime, now: datetime) -> None: ...

    def is_revoked(self, token_id: str) -> bool: ...


class _InMemory:
    """Revocations kept by this process only (a service without a database of its own)."""

    def __init__(self) -> None:
        self._ids: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def revoke(self, token_id: str, expires_at: datetime, now: datetime) -> None:
        with self._lock:
            self._ids = {t: exp for t, exp in self._ids.items() if exp >= now}
            self._ids[token_id] = expires_at

    def is_revoked(self, token_id: str) -> bool:
        with self._lock:
            return token_id in self._ids


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is signed in, with which key, holding which roles now (role → matter codes;
    ``*`` means every matter), and which token they hold (its id and expiry)."""

    principal: str
    key_id: str
    roles: dict[str, frozenset[str]]
    unit: str
    token_id: str = ""
    expires_at: datetime | None = None

    def may(self, role: str, matter: str | None = None) -> bool:
        matters = self.roles.get(role)
        if matters is None:
            return False
        return matter is None or "*" in matters or matter in matters


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"caseledger/{purpose}/v1".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ApiError(401, "auth.malformed", "the token or challenge is malformed") from None


def query_code(secret: bytes, case_id: str) -> str:
    """The 8-digit query code of a case (see the module docstring)."""
    mac = hmac.new(
        _derive(secret, "query-code"),
        b"caseledger/query-code/v1\n" + case_id.encode(),
        hashlib.sha256,
    )
    return f"{int.from_bytes(mac.digest()[:8], 'big') % 10**8:08d}"


def roles_now(directory: DirectoryState, principal: str, at: datetime) -> dict[str, frozenset[str]]:
    """The roles ``principal`` holds at ``at``: granted, in their window, not revoked."""
    held: dict[str, set[str]] = {}
    for grant_id in directory.grants_by_staff.get(principal, ()):
        grant = directory.grants[grant_id]
        if grant.recorded_at > at or grant.valid_from > at:
            continue
        if grant.valid_until is not None and at >= grant.valid_until:
            continue
        if grant.revoked_at is not None and grant.revoked_at <= at:
            continue
        held.setdefault(grant.role, set()).update(grant.matters)
    return {role: frozenset(matters) for role, matters in held.items()}


def active_key(directory: DirectoryState, principal: str, key_id: str, at: datetime) -> bytes:
    """The public key if it is ``principal``'s and active at ``at``; else ApiError 401."""
    record = directory.key(key_id)
    if record is None or record.owner != principal or record.recorded_at > at:
        raise ApiError(401, "auth.unknown_key", f"{key_id} is not an active key of {principal}")
    if record.void_from is not None and record.void_from <= at:
        raise ApiError(401, "auth.key_revoked", f"key {key_id} has been revoked")
    return record.public_key


class TokenService:
    """Issues and checks challenges and tokens under the organisation's server secret."""

    def __init__(
        self,
        secret: bytes,
        *,
        token_minutes: int,
        challenge_seconds: int,
        revocations: Revocations | None = None,
    ) -> None:
        self._key = _derive(secret, "token")
        self.revocations: Revocations = revocations or _InMemory()
        self.token_life = timedelta(minutes=token_minutes)
        self.challenge_life = timedelta(seconds=challenge_seconds)
        self._used: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def _seal(self, kind: str, payload: dict[str, object]) -> str:
        body = json.dumps({"k": kind, **payload}, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(hmac.new(self._key, body, hashlib.sha256).digest())}"

    def _open(self, kind: str, text: str, now: datetime) -> dict[str, object]:
        body_text, _, mac_text = text.partition(".")
        body = _unb64(body_text)
        if not hmac.compare_digest(
            _unb64(mac_text), hmac.new(self._key, body, hashlib.sha256).digest()
        ):
            raise ApiError(401, f"auth.bad_{kind}", f"the {kind} was not issued by this server")
        payload = json.loads(body)
        if not isinstance(payload, dict) or payload.get("k") != kind:
            raise ApiError(401, f"auth.bad_{kind}", f"that is not a {kind}")
        if not isinstance(payload.get("exp"), int) or payload["exp"] < now.timestamp():
            raise ApiError(401, f"auth.{kind}_expired", f"the {kind} has expired; sign in again")
        return payload

    def challenge(self, principal: str, key_id: str, now: datetime) -> tuple[str, datetime]:
        """A fresh challenge for ``principal``'s key and when it expires."""
        expires = now + self.challenge_life
        payload = {
            "sub": principal,
            "key": key_id,
            "exp": int(expires.timestamp()),
            "n": secrets.token_hex(16),
        }
        return self._seal("challenge", payload), expires

    def token(
        self, challenge: str, signature_b64: str, directory: DirectoryState, now: datetime
    ) -> tuple[str, datetime, str]:
        """A bearer token for a signed challenge: (token, expiry, principal).

        Raises ApiError 401 if the challenge is not ours, expired or used, the key is not
        an active key of the principal, or the signature does not verify.
        """
        payload = self._open("challenge", challenge, now)
        principal, key_id = str(payload["sub"]), str(payload["key"])
        public_key = active_key(directory, principal, key_id, now)
        try:
            signature = b64decode_strict(signature_b64, what="signature")
            verify_signature(public_key, SIGNIN_PREFIX + challenge.encode("ascii"), signature)
        except (CaseLedgerError, UnicodeEncodeError):
            raise ApiError(
                401, "auth.bad_signature", "the challenge signature does not verify"
            ) from None
        self._take(challenge, now)
        expires = now + self.token_life
        payload = {
            "sub": principal,
            "key": key_id,
            "exp": int(expires.timestamp()),
            "jti": secrets.token_hex(16),
        }
        token = self._seal("token", payload)
        return token, expires, principal

    def _take(self, challenge: str, now: datetime) -> None:
        with self._lock:
            for old in [c for c, at in self._used.items() if at < now - self.challenge_life]:
                del self._used[old]
            if challenge in self._used:
                raise ApiError(401, "auth.challenge_used", "that challenge was already used")
            self._used[challenge] = now

    def identity(self, token: str, directory: DirectoryState, now: datetime) -> Identity:
        """Who holds ``token`` now; ApiError 401 if the token, key or roles do not stand."""
        payload = self._open("token", token, now)
        principal, key_id = str(payload["sub"]), str(payload["key"])
        token_id = payload.get("jti")
        if not isinstance(token_id, str) or self.revocations.is_revoked(token_id):
            raise ApiError(401, "auth.signed_out", "已退出登录，请重新登录")
        active_key(directory, principal, key_id, now)
        roles = roles_now(directory, principal, now)
        if not roles:
            raise ApiError(401, "auth.no_role", f"{principal} holds no role now")
        staff = directory.staff.get(principal)
        expires = datetime.fromtimestamp(int(str(payload["exp"])), UTC)
        return Identity(principal, key_id, roles, staff.unit if staff else "", token_id, expires)

    def sign_out(self, who: Identity, now: datetime) -> None:
        """Revoke the token ``who`` signed in with: refused from now on."""
        self.revocations.revoke(who.token_id, who.expires_at or now, now)
