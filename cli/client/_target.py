"""Where a signed envelope goes: a caseledger server over HTTP, or the local database.

Both targets answer the same questions — the directory's head, the draft of a case's next
step, a case's detail — and take the same signed envelopes, so every command is written once.
The server is asked exactly as its HTTP API documents (docs/api.md): sign-in by a signed
challenge, ``GET /v1/cases/{id}/next``, ``POST /v1/envelopes``; its error bodies come back as
:class:`ClientError` with the same codes.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from api.auth import SIGNIN_PREFIX, query_code, roles_now
from api.personal import OPENINGS_HEADER
from cli.client._common import ClientError, Session, note, utc_now
from cli.texts import say
from ledger import steps
from ledger.admission import AdmissionReceipt
from ledger.clock import CHINA_TIME
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError, DraftRefused, StreamNotFound
from ledger.keyfile import KeyFile
from ledger.personal import Opening
from ledger.signing import b64encode
from ledger.store.application import CaseLedger

__all__ = ["Appended", "DirectoryView", "LocalTarget", "RemoteTarget", "Target", "open_target"]


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an envelope now stands, as the ledger or the server reported it."""

    stream: str
    seq: int
    hash: str
    leaf_index: int | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class DirectoryView:
    """What the directory commands need to know of the directory: its head, the staff and
    their units, keys (id, owner, state) and grants (id, staff, role, matters, live)."""

    stream: str
    seq: int
    head_hash: str | None
    staff: dict[str, dict[str, str]]
    keys: tuple[tuple[str, str, str], ...]
    grants: tuple[tuple[str, str, str, str, bool], ...]


class Target(Protocol):
    """A ledger the client signs for."""

    def directory(self) -> DirectoryView:
        """The organisation's directory as it stands now."""
        ...

    def draft(self, case_id: uuid.UUID, step_type: str, role: str | None) -> dict[str, Any]:
        """The unsigned next envelope of a case for the key holder (``at`` = now)."""
        ...

    def append(self, envelope: Envelope, openings: Sequence[Opening] = ()) -> Appended: ...

    def case(self, case_id: uuid.UUID) -> dict[str, Any]:
        """The case detail, shaped as the server's ``GET /v1/cases/{id}`` answer."""
        ...

    def keep_material(self, data: bytes) -> str:
        """Keep an application file with the office (its material store); its SHA-256."""
        ...

    def close(self) -> None: ...


def open_target(options: Session, key_file: KeyFile | None) -> Target:
    """The server named by ``--server``, else the organisation's own database. Reading a
    local case needs no key; anything on a server does (staff sign in with it)."""
    url = options.server_url()
    if url:
        if key_file is None:
            raise ClientError("give your key file with --key FILE", code="keyfile.missing")
        return RemoteTarget(url, key_file)
    return LocalTarget(options.org_home(), options.db, key_file)


# Local ---------------------------------------------------------------------------------------


class LocalTarget:
    """The organisation's database, opened directly (with its transparency log)."""

    def __init__(self, home: Any, db: str | None, key_file: KeyFile | None) -> None:
        self.home = home
        self.key_file = key_file
        self.ledger: CaseLedger = home.open_ledger(db)

    def close(self) -> None:
        self.ledger.close()

    def directory(self) -> DirectoryView:
        state = self.ledger.directory()
        return DirectoryView(
            stream=state.stream,
            seq=state.seq,
            head_hash=state.head_hash,
            staff={s.id: {"name": s.name, "unit": s.unit} for s in state.staff.values()},
            keys=tuple(
                (k.key_id, k.owner, "void" if k.void_from else "active")
                for k in state.keys.values()
            ),
            grants=tuple(
                (g.grant_id, g.staff, g.role, ",".join(g.matters), g.revoked_at is None)
                for g in state.grants.values()
            ),
        )

    def append(self, envelope: Envelope, openings: Sequence[Opening] = ()) -> Appended:
        result = self.ledger.append(envelope, now=utc_now(), openings=openings)
        return Appended(result.stream, result.seq, result.hash, result.leaf_index, result.replayed)

    def draft(self, case_id: uuid.UUID, step_type: str, role: str | None) -> dict[str, Any]:
        signer = self._signer()
        stream = f"case:{case_id}"
        state = self.ledger.case_state(stream)
        now = utc_now()
        summary = self._summary(stream) if state.seq else None
        offered = summary.next_role if summary and summary.next_step == step_type else None
        held = roles_now(self.ledger.directory(), signer.principal, now)
        try:
            draft = steps.draft_next(
                state,
                step_type,
                signer=(signer.principal, signer.key.key_id),
                at=now,
                may=held.__contains__,
                offered_role=offered,
                role=role,
            )
        except DraftRefused as exc:
            raise ClientError(exc.message, code=exc.code) from None
        if summary is None:
            raise StreamNotFound(f"no case {stream}")
        return draft

    def _signer(self) -> KeyFile:
        if self.key_file is None:
            raise ClientError("give your key file with --key FILE", code="keyfile.missing")
        return self.key_file

    def _summary(self, stream: str) -> Any:
        from ledger.store.read_models import summarise

        events = list(self.ledger.events(stream))
        if not events:
            raise StreamNotFound(f"no case {stream}")
        return summarise(events, self.ledger.directory())

    def keep_material(self, data: bytes) -> str:
        from api.settings import get_settings
        from ledger.store.materials import admit, open_materials

        settings = get_settings()
        sha256 = admit(data, max_bytes=settings.max_material_bytes)
        store = open_materials(settings.materials, home=self.home.path, engine=self.ledger.engine)
        store.put(sha256, data)
        return sha256

    def case(self, case_id: uuid.UUID) -> dict[str, Any]:
        from api.reform import materials_standing
        from api.service import case_out

        stream = f"case:{case_id}"
        summary = self._summary(stream)
        state = self.ledger.case_state(stream)
        return {
            "case": case_out(summary, utc_now(), 3).model_dump(),
            "applicant": dict(state.applicant),
            "participants": [
                {"person": p.person, "capacity": p.capacity} for p in state.participants
            ],
            "outcome": state.outcome,
            "head_seq": state.seq,
            "head_hash": state.head_hash,
            "query_code": query_code(self.home.server_secret(), str(case_id)),
            "history": [_history_item(e) for e in self.ledger.events(stream)],
            "materials": materials_standing(state, self.ledger.directory()),
        }


def _history_item(envelope: Envelope) -> dict[str, Any]:
    return {
        "seq": envelope.seq,
        "type": envelope.type,
        "at": envelope.at_text,
        "actor": envelope.actor.to_json(),
        "hash": envelope.hash,
        "body": envelope.body,
        "envelope": envelope.text,
    }


# Remote --------------------------------------------------------------------------------------


class RemoteTarget:
    """A caseledger server; the key holder signs in on first need (the key stays here)."""

    def __init__(self, base_url: str, key_file: KeyFile, *, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.key_file = key_file
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _answer(self.http, self.base_url, method, path, **kwargs)

    def _authorised(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._token is None:
            self._token = self._sign_in()
        headers = {"Authorization": f"Bearer {self._token}"}
        return self._call(method, path, headers=headers, **kwargs)

    def _sign_in(self) -> str:
        key = self.key_file.key
        principal = self.key_file.principal
        note(say("signing_in", server=self.base_url, principal=principal, key=key.key_id))
        challenge = self._call(
            "POST",
            "/v1/auth/challenge",
            json={"principal": self.key_file.principal, "key_id": key.key_id},
        )["challenge"]
        signature = key.sign(SIGNIN_PREFIX + challenge.encode("ascii"))
        token = self._call(
            "POST",
            "/v1/auth/token",
            json={"challenge": challenge, "signature": b64encode(signature)},
        )
        return str(token["token"])

    def latest_matter_version(self, code: str) -> int | None:
        """The version a new case of matter ``code`` applies under (None: no such matter)."""
        found = self._call("GET", "/v1/matters")
        return next((int(m["version"]) for m in found["matters"] if m["code"] == code), None)

    def directory(self) -> DirectoryView:
        found = self._authorised("GET", "/v1/directory")
        return DirectoryView(
            stream=f"directory:{found['org']}",
            seq=int(found["seq"]),
            head_hash=found["head_hash"],
            staff={s["id"]: {"name": s["name"], "unit": s["unit"]} for s in found["staff"]},
            keys=tuple(
                (k["key_id"], k["owner"], "void" if k["void_from"] else "active")
                for k in found["keys"]
            ),
            grants=tuple(
                (g["grant"], g["staff"], g["role"], ",".join(g["matters"]), not g["revoked_at"])
                for g in found["grants"]
            ),
        )

    def draft(self, case_id: uuid.UUID, step_type: str, role: str | None) -> dict[str, Any]:
        answer = self._authorised("GET", f"/v1/cases/{case_id}/next", params={"type": step_type})
        draft: dict[str, Any] = answer["draft"]
        if role is not None:
            draft["actor"] = {**draft["actor"], "role": role}
        return draft

    def append(self, envelope: Envelope, openings: Sequence[Opening] = ()) -> Appended:
        path = "/v1/directory" if envelope.stream.startswith("directory:") else "/v1/envelopes"
        headers = {"Content-Type": "application/json"}
        if openings:
            # The identity number travels beside the signed envelope, never inside it.
            text = json.dumps([o.to_json() for o in openings]).encode()
            headers[OPENINGS_HEADER] = base64.urlsafe_b64encode(text).rstrip(b"=").decode()
        result = self._call("POST", path, content=envelope.raw, headers=headers)
        keep_receipt(result.get("receipt"))
        return Appended(
            result["stream"],
            int(result["seq"]),
            result["hash"],
            result.get("leaf_index"),
            bool(result.get("replayed")),
        )

    def case(self, case_id: uuid.UUID) -> dict[str, Any]:
        detail: dict[str, Any] = self._authorised("GET", f"/v1/cases/{case_id}")
        return detail

    def keep_material(self, data: bytes) -> str:
        kept = self._authorised("POST", "/v1/materials", files={"file": ("material", data)})
        return str(kept["sha256"])

    def get_json(self, path: str, params: dict[str, Any], *, signed_in: bool) -> Any:
        """GET ``path`` and answer its JSON, signing in first when ``signed_in``."""
        if signed_in:
            return self._authorised("GET", path, params=params)
        return self._call("GET", path, params=params)


def public_json(base_url: str, path: str, *, timeout: float = 30.0) -> Any:
    """GET a public route of the server at ``base_url`` (no key, no sign-in) and answer its
    JSON; ClientError as for any call (``server.unreachable``, the server's own code, …)."""
    url = base_url.rstrip("/")
    with httpx.Client(base_url=url, timeout=timeout) as http:
        return _answer(http, url, "GET", path)


def _answer(http: httpx.Client, base_url: str, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ClientError(f"cannot reach {base_url}: {exc}", code="server.unreachable") from None
    if response.status_code >= 400:
        raise _error_from(response)
    try:
        return response.json()
    except ValueError:
        raise ClientError(
            f"{base_url}{path} did not answer with JSON: is it a caseledger server?",
            code="server.bad_answer",
        ) from None


def receipts_folder() -> Path:
    """Where the client keeps the server's receipts of admission (``CASELEDGER_RECEIPTS``,
    default ``./caseledger-receipts``)."""
    return Path(os.environ.get("CASELEDGER_RECEIPTS") or "caseledger-receipts")


def keep_receipt(receipt: Any) -> Path | None:
    """Keep a receipt of admission as ``<folder>/<stream>/<seq>.json``: the signer's proof
    that the server's log took that step in (see docs/api.md)."""
    if not isinstance(receipt, dict):
        return None
    try:
        admitted = AdmissionReceipt.from_json(receipt)
    except CaseLedgerError:
        note(say("receipt.malformed"))
        return None
    path = receipts_folder() / admitted.stream.replace(":", "_") / f"{admitted.seq}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(admitted.to_json(), indent=1) + "\n", encoding="utf-8")
    return path


def _error_from(response: httpx.Response) -> ClientError:
    """The server's JSON error as a ClientError (the same code, every violation)."""
    try:
        body = response.json()
        code, message = str(body["code"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        return ClientError(
            f"the server answered {response.status_code} without a readable error",
            code=f"http.{response.status_code}",
        )
    violations = tuple(
        (str(v.get("code", "")), str(v.get("detail", "")))
        for v in body.get("violations") or ()
        if isinstance(v, dict)
    )
    if body.get("head_seq") is not None:
        message += f" (head seq {body['head_seq']})"
    return ClientError(message, code=code, violations=violations)


def parse_when(text: str) -> datetime:
    """A time given on the command line: ``YYYY-MM-DD`` (midnight China time) or ISO 8601
    with a zone; raise ClientError otherwise."""
    from datetime import UTC

    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text)
            return day.replace(tzinfo=CHINA_TIME).astimezone(UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ClientError(
            f"{text!r} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SSZ)",
            code="input.time",
        ) from None
    if value.tzinfo is None:
        raise ClientError(f"{text!r} needs a time zone (e.g. Z)", code="input.time")
    return value.astimezone(UTC).replace(microsecond=0)
