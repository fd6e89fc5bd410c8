"""The department feed: pages of signed envelopes with their inclusion proofs (ledger.feed).

A page holds what the signed-in department may see — the directory's envelopes and those of
cases of the matters its ``department`` grant names — in commit order, each proven against the
checkpoint the page carries. Entries the latest checkpoint does not yet cover wait for the next
one, so every entry a department receives is provable when it receives it.
"""

from __future__ import annotations

from api.auth import Identity
from api.deps import Services
from api.errors import ApiError
from ledger.checkpoint import parse_checkpoint
from ledger.envelope import Envelope
from ledger.feed import FeedEntry, FeedPage

__all__ = ["DEPARTMENT_ROLE", "MAX_PAGE", "feed_page"]

DEPARTMENT_ROLE = "department"
MAX_PAGE = 500


def feed_page(services: Services, identity: Identity, after: int, limit: int) -> FeedPage:
    """The page after store position ``after``; ApiError 403 unless the caller is a department,
    503 when the server keeps no log or has signed no checkpoint yet."""
    if not identity.may(DEPARTMENT_ROLE):
        raise ApiError(
            403, "feed.forbidden", "只有获授权的部门可以订阅案件推送（需要 department 角色）"
        )
    log = services.kept_log()
    latest = services.checkpoint()
    if latest is None:
        raise ApiError(503, "log.no_checkpoint", "尚未签署日志检查点，稍后再试")
    size = parse_checkpoint(latest.note).checkpoint.size
    matters: dict[str, str | None] = {}
    entries: list[FeedEntry] = []
    rows = services.ledger.envelopes_after(after, min(limit, MAX_PAGE))
    next_after, covered = after, True
    for position, envelope in rows:
        leaf = log.leaf_index(bytes.fromhex(envelope.hash))
        if leaf is None or leaf >= size:
            covered = False
            break
        if _visible(services, identity, envelope, matters):
            proof = tuple(log.inclusion_proof(leaf, size))
            entries.append(FeedEntry(position, leaf, envelope, proof))
        next_after = position
    more = not covered or len(rows) == min(limit, MAX_PAGE)
    return FeedPage(after, next_after, latest.note, tuple(entries), more)


def _visible(
    services: Services, identity: Identity, envelope: Envelope, matters: dict[str, str | None]
) -> bool:
    if envelope.stream.startswith("directory:"):
        return True
    if envelope.stream not in matters:
        matters[envelope.stream] = services.ledger.case_state(envelope.stream).matter_code
    matter = matters[envelope.stream]
    return matter is not None and identity.may(DEPARTMENT_ROLE, matter)
