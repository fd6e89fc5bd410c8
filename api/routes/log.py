"""The transparency log for monitors and verifiers: checkpoint, proofs, leaves; the CRL."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api import witnessing
from api.deps import ServicesDep, public_rate
from api.errors import ApiError
from api.schemas import ConsistencyOut, InclusionOut, LeavesOut, error_responses

router = APIRouter(prefix="/v1", tags=["log"], dependencies=[Depends(public_rate)])
MAX_LEAVES = 1000
Size = Annotated[int, Query(ge=0, le=2**62)]


def _log(services: ServicesDep) -> Any:
    return services.kept_log()


Log = Annotated[Any, Depends(_log)]


def _b64(hashes: Any) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in hashes]


def _within(size: int, *bounds: int) -> None:
    if any(b > size for b in bounds):
        raise ApiError(422, "log.beyond_size", f"the log holds {size} leaves")


@router.get(
    "/log/checkpoint",
    responses=error_responses(
        404,
        429,
        503,
        extra={
            200: {
                "content": {"text/plain": {"schema": {"type": "string"}}},
                "description": "C2SP signed note",
            }
        },
    ),
)
def get_checkpoint(_: Log, services: ServicesDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note)."""
    latest = services.checkpoint()
    if latest is None:
        raise ApiError(404, "log.no_checkpoint", "no checkpoint has been signed yet")
    return PlainTextResponse(witnessing.served_checkpoint(services, latest))


NOTE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "C2SP signed note with witness cosignatures",
    }
}


@router.get(
    "/log/checkpoint/cosigned", responses=error_responses(404, 429, 503, extra=NOTE_RESPONSE)
)
def get_cosigned(_: Log, services: ServicesDep) -> PlainTextResponse:
    """The newest checkpoint cosigned by the trust file's quorum of witnesses (at least one)."""
    return PlainTextResponse(witnessing.cosigned_checkpoint(services))


@router.post(
    "/log/cosignature",
    responses=error_responses(400, 403, 404, 413, 422, 429, 503, extra=NOTE_RESPONSE),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def post_cosignature(
    request: Request,
    _: Log,
    services: ServicesDep,
    size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> PlainTextResponse:
    """A witness hands back its cosignature line(s) (cosignature/v1) of the checkpoint of
    ``size`` leaves, or the whole cosigned note; answers the checkpoint with every
    cosignature kept so far."""
    body = await request.body()
    return PlainTextResponse(witnessing.accept_cosignature(services, body, size))


@router.get("/log/inclusion", response_model=InclusionOut, responses=error_responses(422, 429, 503))
def get_inclusion(log: Log, index: Size, size: Size) -> InclusionOut:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    _within(log.size(), size)
    if index >= size:
        raise ApiError(422, "log.index", "index must be below size")
    return InclusionOut(index=index, size=size, hashes=_b64(log.inclusion_proof(index, size)))


@router.get(
    "/log/consistency", response_model=ConsistencyOut, responses=error_responses(422, 429, 503)
)
def get_consistency(log: Log, old: Size, new: Size) -> ConsistencyOut:
    """Consistency proof from the tree of ``old`` leaves to the tree of ``new`` leaves."""
    _within(log.size(), new)
    if old > new:
        raise ApiError(422, "log.order", "old must not exceed new")
    return ConsistencyOut(old=old, new=new, hashes=_b64(log.consistency_proof(old, new)))


@router.get("/log/leaves", response_model=LeavesOut, responses=error_responses(422, 429, 503))
def get_leaves(log: Log, start: Size, end: Size) -> LeavesOut:
    """Leaf data (envelope hashes) ``start`` ≤ i < ``end``, at most 1000 at a time."""
    _within(log.size(), end)
    if not start <= end <= start + MAX_LEAVES:
        raise ApiError(422, "log.range", f"need start <= end <= start + {MAX_LEAVES}")
    return LeavesOut(start=start, end=end, leaves=_b64(log.leaf_hashes(start, end)))


@router.get(
    "/crl",
    responses=error_responses(
        429, 503, extra={200: {"content": {"application/pkix-crl": {}}, "description": "DER CRL"}}
    ),
)
def get_crl(services: ServicesDep) -> Response:
    """The seal CA's certificate revocation list (DER)."""
    return Response(services.crl(), media_type="application/pkix-crl")
