"""Application files over HTTP: kept at the window, read by the staff handling the case.

A handler uploads a file before signing the envelope that names it (the upload answers the
SHA-256 the envelope must carry); a file is kept only if it passes :func:`admit` (size, type,
virus scan). A file is read back only by staff whose roles cover the case's matter, and only if
one of the case's signed steps names that hash — holding a hash is not enough to read a file.
Every read re-hashes the kept bytes against the signed hash (the store does): a file changed
in the store is refused (409 ``material.corrupt``), never served as if it were the signed one.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from api.auth import Identity
from api.deps import Services
from api.errors import ApiError
from ledger.store.materials import (
    MaterialError,
    MaterialStore,
    admit,
    command_scanner,
    kind_of,
    open_materials,
)

__all__ = [
    "UPLOADERS",
    "KeptMaterial",
    "keep_material",
    "kept_flags",
    "material_store",
    "may_read",
    "read_material",
]

UPLOADERS = ("handler",)
READERS = ("handler", "reviewer", "approver")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "ofd": "application/ofd",
}
# The endings a saved file should carry for its kind (the first is added when none fits).
ENDINGS = {"pdf": (".pdf",), "png": (".png",), "jpeg": (".jpg", ".jpeg"), "ofd": (".ofd",)}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\"]')


@dataclass(frozen=True)
class KeptMaterial:
    """A file as served: its bytes, media type, the name the signed step gives it, its hash."""

    data: bytes
    media_type: str
    name: str
    sha256: str

    def headers(self) -> dict[str, str]:
        """Shown in the browser, saved under its signed name, never cached on the way, and
        its SHA-256 told (RFC 9530) so that any client can check it as the workbench does."""
        digest = base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")
        return {
            "Content-Disposition": disposition(self.name),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Repr-Digest": f"sha-256=:{digest}:",
        }


def disposition(name: str) -> str:
    """``inline`` with the name twice: an ASCII stand-in for old clients and the UTF-8 name
    (RFC 6266 / RFC 8187), since material names are mostly Chinese."""
    fallback = "".join(c if c.isascii() else "_" for c in name) or "material"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file_name(name: object, kind: str | None) -> str:
    """The signed name made safe as a file name, ending as its kind does."""
    text = _UNSAFE.sub("_", str(name or "").strip()) or "材料"
    endings = ENDINGS.get(kind or "", ())
    if endings and not text.lower().endswith(endings):
        text += endings[0]
    return text


def material_store(services: Services) -> MaterialStore:
    """The organisation's material store, opened once per service."""
    if services.materials is None:
        home = services.home.path if services.home is not None else services.settings.home
        try:
            services.materials = open_materials(
                services.settings.materials, home=home, engine=services.ledger.store.engine()
            )
        except MaterialError as exc:
            raise ApiError(503, exc.code, exc.message) from None
    store: MaterialStore = services.materials
    return store


def keep_material(services: Services, who: Identity, data: bytes) -> dict[str, object]:
    """Keep an uploaded file; answer its SHA-256, size and kind. ApiError 403 unless the
    caller is a handler, 413/422 for a file that may not be kept."""
    if not any(who.may(role) for role in UPLOADERS):
        raise ApiError(
            403, "role.missing", "只有经办人员可以上传申请材料 (handlers upload materials)"
        )
    settings = services.settings
    scan = (
        command_scanner(settings.material_scan_command) if settings.material_scan_command else None
    )
    try:
        sha256 = admit(data, max_bytes=settings.max_material_bytes, scan=scan)
        material_store(services).put(sha256, data)
    except MaterialError as exc:
        raise ApiError(
            413 if exc.code == "material.too_large" else 422, exc.code, exc.message
        ) from None
    return {"sha256": sha256, "size": len(data), "kind": kind_of(data)}


def may_read(who: Identity, matter_code: str | None) -> bool:
    """Whether ``who`` handles cases of the matter (handler, reviewer or approver for it)."""
    return any(who.may(role, matter_code) for role in READERS)


def read_material(
    services: Services, who: Identity, case_id: uuid.UUID, sha256: str
) -> KeptMaterial:
    """The file as a signed step of the case names it, for staff handling the case;
    ApiError otherwise (403 role.missing, 404 material.not_named or material.not_found,
    409 material.corrupt when the kept bytes no longer have the signed hash)."""
    stream = f"case:{case_id}"
    state = services.ledger.case_state(stream)  # StreamNotFound (404) for an unknown case
    if not may_read(who, state.matter_code):
        raise ApiError(
            403, "role.missing", "您的角色不包括本案事项 (your roles do not cover this case)"
        )
    names = {
        str(m["sha256"]): m.get("name")
        for env in reversed(list(services.ledger.events(stream)))
        for m in _materials(env.body.get("materials"))
    }  # reversed: the first step naming a hash gives its name
    if sha256 not in names:
        raise ApiError(
            404, "material.not_named", "本案没有这份材料 (no step of this case names it)"
        )
    try:
        data = material_store(services).get(sha256)
    except MaterialError as exc:
        status = {"material.not_found": 404, "material.corrupt": 409}.get(exc.code, 500)
        raise ApiError(status, exc.code, exc.message) from None
    kind = kind_of(data)
    return KeptMaterial(
        data,
        MEDIA_TYPES.get(kind or "", "application/octet-stream"),
        _file_name(names[sha256], kind),
        sha256,
    )


def _materials(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        return []
    return [m for m in value if isinstance(m, dict) and isinstance(m.get("sha256"), str)]


def kept_flags(services: Services, hashes: Iterable[str]) -> dict[str, bool | None]:
    """For each hash whether its file is kept; None for all when the store cannot be
    opened (the case is still read, its files just cannot be told)."""
    wanted = set(hashes)
    try:
        store = material_store(services)
    except ApiError:
        return dict.fromkeys(wanted)
    return {sha: store.has(sha) for sha in wanted}
