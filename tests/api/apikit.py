"""Helpers for the HTTP API tests: an organisation folder for the sample office, a settable
server clock, sign-in, and a TestClient with the directory already posted."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import SIGNIN_PREFIX
from api.org import OrgHome
from api.settings import Settings
from ledger.client import Signer, StreamWriter, grant_body
from ledger.envelope import Envelope
from ledger.personal import Opening, commit
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.store.personal_store import commitments_in
from ledger.trust import TrustFile

T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)  # a Monday: the directory is set up
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)  # cases from here on


@dataclass
class Clock:
    """The server's clock in tests: set it, and the API's ``now`` follows."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


# The passphrase of the test folders' root, admin and seal-CA keys; the server never gets it.
PASSPHRASE = "a test passphrase"


def org_home(path: Path) -> OrgHome:
    """A real organisation folder (keys, seal authority, trust.json, server.secret)."""
    return OrgHome.init(
        path,
        org="jinan-approval",
        org_name="济南市行政审批服务局",
        public_base_url="https://approval.example",
        now=T0 - timedelta(days=1),
        passphrase=PASSPHRASE,
    )


def office_of(home: OrgHome) -> SampleOffice:
    """The sample office whose root key is the organisation folder's."""
    return SampleOffice(org=home.org, org_name=home.org_name, root_key=home.key("root", PASSPHRASE))


def write_home(path: Path, office: SampleOffice) -> Path:
    """A bare folder holding only what a server needs: trust.json, server.secret (no keys,
    no seal authority, hence no log and no CRL)."""
    path.mkdir(parents=True, exist_ok=True)
    trust = TrustFile(
        org=office.org,
        org_name=office.org_name,
        root_keys={office.root_key.key_id: office.root_key.public_key},
        log_origin="approval.example/log",
        log_verifier_key="approval.example/log+00000000+AQ==",
        seal_ca_pems=("-----BEGIN CERTIFICATE-----",),
        witness_keys=(),
        witness_quorum=0,
        public_base_url="https://approval.example",
    )
    (path / "trust.json").write_text(trust.dumps(), encoding="utf-8")
    (path / "server.secret").write_text(secrets.token_hex(32))
    return path


def extra_staff(office: SampleOffice, writer: StreamWriter, at: datetime) -> list[Envelope]:
    """A second approver (staff:zhao.lei) and a supervisor (staff:sun.qi), signed by the admin."""
    out = []
    for principal, name, role, id_number in (
        ("staff:zhao.lei", "赵磊", "approver", "370102198806060060"),
        ("staff:sun.qi", "孙琦", "supervisor", "370102199007070072"),
    ):
        office.keys.setdefault(principal, PrivateKey.generate())
        opening = commit(id_number)
        office.openings[opening.commitment] = opening
        body = {
            "staff": principal,
            "name": name,
            "unit": "行政审批科",
            "id_commitment": opening.commitment,
        }
        out.append(writer.sign("StaffEnrolled", office.admin, at, body))
        key_body = {"staff": principal, "public_key": office.keys[principal].public_key_b64}
        out.append(writer.sign("KeyAdded", office.admin, at, key_body))
        grant = grant_body(f"g-{principal[6:]}", principal, role, valid_from=T0)
        out.append(writer.sign("RoleGranted", office.admin, at, grant))
    return out


def directory_envelopes(office: SampleOffice) -> list[Envelope]:
    envelopes = office.directory_envelopes(T0)
    writer = StreamWriter(envelopes[-1].stream, envelopes[-1].seq, envelopes[-1].hash)
    return envelopes + extra_staff(office, writer, T0 + timedelta(minutes=5))


def person_applicant(office: SampleOffice, name: str, number: str) -> dict[str, str]:
    """A natural applicant as a signed body names them: a commitment to their number, whose
    opening the office keeps (``office.openings``, sent with the envelope)."""
    opening = commit(number)
    office.openings[opening.commitment] = opening
    return {"kind": "person", "name": name, "id_commitment": opening.commitment}


def openings_header(openings: Iterable[Opening]) -> dict[str, str]:
    """The Caseledger-Openings header for the commitments ``envelope`` carries."""
    text = json.dumps([o.to_json() for o in openings]).encode()
    return {"Caseledger-Openings": base64.urlsafe_b64encode(text).rstrip(b"=").decode()}


def post(client: TestClient, envelope: Envelope, openings: Iterable[Opening] = ()) -> Any:
    headers = {"content-type": "application/json"}
    wanted = set(commitments_in(envelope))
    chosen = [o for o in openings if o.commitment in wanted]
    if chosen:
        headers.update(openings_header(chosen))
    return client.post("/v1/envelopes", content=envelope.raw, headers=headers)


def sign_in(client: TestClient, signer: Signer) -> dict[str, str]:
    """Sign in as ``signer`` (challenge, signature, token); return the auth header."""
    reply = client.post(
        "/v1/auth/challenge", json={"principal": signer.principal, "key_id": signer.key.key_id}
    )
    assert reply.status_code == 200, reply.text
    challenge = reply.json()["challenge"]
    signature = signer.key.sign(SIGNIN_PREFIX + challenge.encode())
    reply = client.post(
        "/v1/auth/token",
        json={"challenge": challenge, "signature": base64.b64encode(signature).decode()},
    )
    assert reply.status_code == 200, reply.text
    return {"authorization": f"Bearer {reply.json()['token']}"}


@dataclass
class Api:
    """A running API for the sample office, and what tests need around it."""

    client: TestClient
    office: SampleOffice
    clock: Clock
    home: Path

    def post(self, envelope: Envelope, openings: Iterable[Opening] = ()) -> Any:
        return post(self.client, envelope, [*openings, *self.office.openings.values()])

    def sign_in(self, signer: Signer) -> dict[str, str]:
        return sign_in(self.client, signer)

    def signer(self, principal: str, role: str | None = None) -> Signer:
        return Signer(principal, role or "approver", self.office.keys[principal])

    def services(self) -> Any:
        """The server's services once its followers (sealed results, notices) have caught up
        with what is stored, as a client's read would find them."""
        services = self.client.app.state.services  # type: ignore[attr-defined]
        services.settle(30.0)
        return services


def open_api(home: Path, db: str | None, office: SampleOffice, **limits: Any) -> Iterator[Api]:
    clock = Clock(T0 + timedelta(minutes=10))
    settings = Settings(home=home, db=db, **limits)
    with TestClient(create_app(settings, clock=clock)) as client:
        for envelope in directory_envelopes(office):
            clock.now = envelope.at
            reply = post(client, envelope, office.openings.values())
            assert reply.status_code == 201, reply.text
        clock.now = T1
        yield Api(client, office, clock, home)


def canonical_bytes(obj: Any) -> bytes:
    from ledger.jcs import canonical

    return canonical(obj)


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a loopback port in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
