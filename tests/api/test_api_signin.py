"""Sign-in by signing a challenge with the staff key; tokens, expiry and revocation."""

from __future__ import annotations

import base64
from datetime import timedelta

from apikit import Api

from api.auth import SIGNIN_PREFIX
from ledger.client import StreamWriter


def _challenge(api: Api, principal: str, key_id: str) -> str:
    reply = api.client.post("/v1/auth/challenge", json={"principal": principal, "key_id": key_id})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["challenge"])


def _token(api: Api, challenge: str, signature: bytes) -> object:
    return api.client.post(
        "/v1/auth/token",
        json={"challenge": challenge, "signature": base64.b64encode(signature).decode()},
    )


def test_sign_in_gives_a_token_with_the_roles_held_now(api: Api) -> None:
    handler = api.office.handler
    challenge = _challenge(api, handler.principal, handler.key.key_id)
    reply = _token(api, challenge, handler.key.sign(SIGNIN_PREFIX + challenge.encode()))
    assert reply.status_code == 200  # type: ignore[attr-defined]
    data = reply.json()  # type: ignore[attr-defined]
    assert data["principal"] == "staff:wang.li" and data["roles"] == {"handler": ["*"]}
    assert data["expires_at"] == "2026-11-24T01:15:00Z"
    me = api.client.get("/v1/queues/handler", headers={"authorization": f"Bearer {data['token']}"})
    assert me.status_code == 200


def test_a_signature_by_another_key_is_refused(api: Api) -> None:
    handler = api.office.handler
    challenge = _challenge(api, handler.principal, handler.key.key_id)
    forged = api.office.reviewer.key.sign(SIGNIN_PREFIX + challenge.encode())
    reply = _token(api, challenge, forged)
    assert reply.status_code == 401 and reply.json()["code"] == "auth.bad_signature"  # type: ignore[attr-defined]


def test_a_challenge_is_taken_once_and_expires(api: Api) -> None:
    handler = api.office.handler
    challenge = _challenge(api, handler.principal, handler.key.key_id)
    signature = handler.key.sign(SIGNIN_PREFIX + challenge.encode())
    assert _token(api, challenge, signature).status_code == 200  # type: ignore[attr-defined]
    again = _token(api, challenge, signature)
    assert again.status_code == 401 and again.json()["code"] == "auth.challenge_used"  # type: ignore[attr-defined]
    late = _challenge(api, handler.principal, handler.key.key_id)
    api.clock.now += timedelta(minutes=3)
    reply = _token(api, late, handler.key.sign(SIGNIN_PREFIX + late.encode()))
    assert reply.status_code == 401 and reply.json()["code"] == "auth.challenge_expired"  # type: ignore[attr-defined]


def test_challenge_needs_an_active_key_of_that_principal(api: Api) -> None:
    reply = api.client.post(
        "/v1/auth/challenge",
        json={"principal": "staff:li.na", "key_id": api.office.handler.key.key_id},
    )
    assert reply.status_code == 401 and reply.json()["code"] == "auth.unknown_key"
    reply = api.client.post(
        "/v1/auth/challenge", json={"principal": "staff:li.na", "key_id": "xyz"}
    )
    assert reply.status_code == 422 and reply.json()["code"] == "request.invalid"


def test_tokens_expire_after_fifteen_minutes_and_are_not_forgeable(api: Api) -> None:
    headers = api.sign_in(api.office.handler)
    assert api.client.get("/v1/queues/handler", headers=headers).status_code == 200
    token = headers["authorization"].split()[1]
    payload, _, mac = token.partition(".")
    tampered = {"authorization": f"Bearer {payload}.{mac[:-2]}AA"}
    reply = api.client.get("/v1/queues/handler", headers=tampered)
    assert reply.status_code == 401 and reply.json()["code"] == "auth.bad_token"
    api.clock.now += timedelta(minutes=16)
    reply = api.client.get("/v1/queues/handler", headers=headers)
    assert reply.status_code == 401 and reply.json()["code"] == "auth.token_expired"
    reply = api.client.get("/v1/queues/handler")
    assert reply.status_code == 401 and reply.json()["code"] == "auth.required"
    reply = api.client.get("/v1/queues/handler", headers={"authorization": "Bearer ###"})
    assert reply.status_code == 401


def test_a_revoked_key_stops_working_at_once(api: Api) -> None:
    headers = api.sign_in(api.office.handler)
    directory = api.services().ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    revoke = writer.sign(
        "KeyRevoked",
        api.office.admin,
        api.clock.now,
        {"key_id": api.office.handler.key.key_id, "reason": "lost"},
    )
    assert api.client.post("/v1/directory", content=revoke.raw).status_code == 201
    reply = api.client.get("/v1/queues/handler", headers=headers)
    assert reply.status_code == 401 and reply.json()["code"] == "auth.key_revoked"
