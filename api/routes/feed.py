"""Departments: the feed of signed envelopes of their matters' cases, with proofs, and the
webhook it is pushed to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import IdentityDep, NowDep, ServicesDep
from api.errors import ApiError
from api.feed import DEPARTMENT_ROLE, MAX_PAGE, feed_page
from api.schemas import WebhookIn, WebhookOut, error_responses

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


def _department(identity: Any) -> str:
    if not identity.may(DEPARTMENT_ROLE):
        raise ApiError(
            403, "feed.forbidden", "只有获授权的部门可以设置推送地址（需要 department 角色）"
        )
    return str(identity.principal)


def _notifier(services: Any) -> Any:
    if services.notifier is None:
        raise ApiError(503, "webhook.unavailable", "本服务器不推送 (this server pushes nothing)")
    return services.notifier


@router.put("/feed/webhook", response_model=WebhookOut, responses=error_responses(401, 403, 422))
def put_webhook(
    hook: WebhookIn, services: ServicesDep, identity: IdentityDep, now: NowDep
) -> WebhookOut:
    """Push the signed-in department's feed to ``url``, signed (docs/api.md, *Webhooks*); the
    department's key that signed in is the one that must stay active for deliveries."""
    from api.webhooks import check_hook_url

    department = _department(identity)
    outbox = _notifier(services).outbox
    saved = outbox.set_hook(department, check_hook_url(hook.url), identity.key_id, now)
    return WebhookOut(**saved.to_json())


@router.get("/feed/webhook", response_model=WebhookOut, responses=error_responses(401, 403, 404))
def get_webhook(services: ServicesDep, identity: IdentityDep) -> WebhookOut:
    """The signed-in department's webhook and how far its deliveries have come."""
    found = _notifier(services).outbox.hook(_department(identity))
    if found is None:
        raise ApiError(404, "webhook.not_found", "尚未设置推送地址 (no webhook registered)")
    return WebhookOut(**found.to_json())


@router.delete("/feed/webhook", status_code=204, responses=error_responses(401, 403, 404))
def delete_webhook(services: ServicesDep, identity: IdentityDep) -> Response:
    """Stop pushing the signed-in department's feed (``GET /v1/feed`` keeps working)."""
    if not _notifier(services).outbox.drop_hook(_department(identity)):
        raise ApiError(404, "webhook.not_found", "尚未设置推送地址 (no webhook registered)")
    return Response(status_code=204)
