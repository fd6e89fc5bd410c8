"""Departments: the feed of signed envelopes of their matters' cases, with proofs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import IdentityDep, ServicesDep
from api.feed import MAX_PAGE, feed_page
from api.schemas import error_responses

router = APIRouter(prefix="/v1", tags=["feed"])


@router.get("/feed", responses=error_responses(401, 403, 422, 503))
def get_feed(
    services: ServicesDep,
    identity: IdentityDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """Envelopes after store position ``after`` that the signed-in department may see, each
    with its leaf index and inclusion proof against the page's checkpoint (ledger.feed)."""
    return feed_page(services, identity, after, limit).to_json()
