"""Staff: sign-in, posting signed envelopes, queues, case detail and the next draft."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api import service
from api.auth import active_key, roles_now
from api.deps import AddressDep, IdentityDep, NowDep, ReadModelsDep, ServicesDep
from api.errors import ApiError
from api.personal import OPENINGS_HEADER, parse_openings
from api.schemas import (
    AppendOut,
    CaseDetailOut,
    ChallengeIn,
    ChallengeOut,
    DraftOut,
    QueueOut,
    TokenIn,
    TokenOut,
    error_responses,
)
from ledger.envelope import format_time

router = APIRouter(prefix="/v1", tags=["staff"])

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A signed envelope, sent as its canonical (RFC 8785) JSON text, byte for byte.",
    "required": ["v", "stream", "seq", "type", "at", "actor", "prev", "body", "sig"],
    "properties": {
        "v": {"type": "integer", "enum": [1]},
        "stream": {"type": "string", "example": "case:3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11"},
        "seq": {"type": "integer", "minimum": 1},
        "type": {"type": "string", "example": "Reviewed"},
        "at": {"type": "string", "example": "2026-11-24T01:14:00Z"},
        "actor": {
            "type": "object",
            "required": ["id", "role", "key"],
            "properties": {
                "id": {"type": "string"},
                "role": {"type": "string"},
                "key": {"type": "string"},
            },
        },
        "prev": {"type": ["string", "null"]},
        "body": {"type": "object"},
        "sig": {"type": "string"},
    },
}
ENVELOPE_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": ENVELOPE_SCHEMA}}}
}


async def raw_body(request: Request) -> bytes:
    """The request body exactly as sent (the app's size cap has already applied)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
# The openings of the identity commitments the envelope carries (api.personal).
OpeningsHeader = Annotated[
    str | None, Header(alias=OPENINGS_HEADER, max_length=4096, include_in_schema=True)
]

# What a signed append can answer, for both write paths (any envelope, directory only).
APPEND_RESPONSES = error_responses(
    400,
    401,
    403,
    409,
    413,
    422,
    429,
    extra={200: {"model": AppendOut, "description": "Already stored: the original result"}},
)


@router.post(
    "/envelopes",
    status_code=201,
    response_model=AppendOut,
    openapi_extra=ENVELOPE_BODY,
    responses=APPEND_RESPONSES,
)
async def post_envelope(
    raw: RawBody,
    services: ServicesDep,
    now: NowDep,
    address: AddressDep,
    response: Response,
    openings: OpeningsHeader = None,
) -> AppendOut:
    """Append any signed envelope (case step or directory change), checked by the rules.
    A person's identity number travels beside it, in the Caseledger-Openings header.

    Envelopes in the applicant role (self-service, signed by the applicant's own key) are
    capped in size (413 ``applicant.too_large``) and rate, per address and overall (429
    ``rate.applicants`` / ``rate.applicants_overall``)."""
    result = await service.append_envelope(
        services, raw, now, address=address, openings=parse_openings(openings)
    )
    if result.replayed:
        response.status_code = 200
    return result


@router.post(
    "/auth/challenge",
    response_model=ChallengeOut,
    responses=error_responses(401, 413, 422),
    tags=["sign-in"],
)
def post_challenge(data: ChallengeIn, services: ServicesDep, now: NowDep) -> ChallengeOut:
    """A challenge to sign with the staff key (the key must be active for the principal)."""
    active_key(services.ledger.directory(), data.principal, data.key_id, now)
    challenge, expires = services.tokens.challenge(data.principal, data.key_id, now)
    return ChallengeOut(challenge=challenge, expires_at=format_time(expires))


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=error_responses(401, 413, 422),
    tags=["sign-in"],
)
def post_token(data: TokenIn, services: ServicesDep, now: NowDep) -> TokenOut:
    """Trade a signed challenge for a bearer token (15 minutes)."""
    directory = services.ledger.directory()
    token, expires, principal = services.tokens.token(
        data.challenge, data.signature, directory, now
    )
    roles = roles_now(directory, principal, now)
    if not roles:
        raise ApiError(401, "auth.no_role", f"{principal} holds no role now")
    return TokenOut(
        token=token,
        expires_at=format_time(expires),
        principal=principal,
        roles={role: sorted(matters) for role, matters in roles.items()},
    )


@router.post(
    "/auth/signout",
    status_code=204,
    responses=error_responses(401),
    tags=["sign-in"],
)
def post_signout(who: IdentityDep, services: ServicesDep, now: NowDep) -> Response:
    """Revoke the caller's token on the server: refused from now on (401 ``auth.signed_out``)."""
    services.tokens.sign_out(who, now)
    return Response(status_code=204)


@router.get("/queues/{role}", response_model=QueueOut, responses=error_responses(401, 403, 422))
def get_queue(
    role: str, who: IdentityDep, _: ReadModelsDep, services: ServicesDep, now: NowDep
) -> QueueOut:
    """Cases whose next step needs ``role`` and that the caller may take."""
    return QueueOut(role=role, cases=service.queue(services, who, role, now))


@router.get(
    "/cases/{case_id}", response_model=CaseDetailOut, responses=error_responses(401, 403, 404, 422)
)
def get_case(
    case_id: uuid.UUID, who: IdentityDep, _: ReadModelsDep, services: ServicesDep, now: NowDep
) -> CaseDetailOut:
    """A case's state, deadlines and full history (the stored envelopes)."""
    return service.case_detail(services, who, case_id, now)


@router.get(
    "/cases/{case_id}/next",
    response_model=DraftOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def get_next(
    case_id: uuid.UUID,
    step_type: Annotated[str, Query(alias="type", max_length=40, examples=["Reviewed"])],
    who: IdentityDep,
    _: ReadModelsDep,
    services: ServicesDep,
    now: NowDep,
) -> DraftOut:
    """The unsigned next envelope (seq, prev, at = server now, actor = caller) to sign."""
    return service.draft_next(services, who, case_id, step_type, now)
