"""Application files over HTTP: kept at the window, read by the staff handling the case.

A handler uploads a file before signing the envelope that names it (the upload answers the
SHA-256 the envelope must carry); a file is kept only if it passes :func:`admit` (size, type,
virus scan). A file is read back only by staff whose roles cover the case's matter, and only if
one of the case's signed steps names that hash — holding a hash is not enough to read a file.
"""

from __future__ import annotations

import uuid

from api.auth import Identity
from api.deps import Services
from api.errors import ApiError
from ledger.store.materials import (
    MaterialError,
    MaterialStore,
    admit,
    command_scanner,
    kind_of,
    material_hashes,
    open_materials,
)

__all__ = ["UPLOADERS", "keep_material", "material_store", "read_material"]

UPLOADERS = ("handler",)
READERS = ("handler", "reviewer", "approver")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "ofd": "application/ofd",
}


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


def read_material(
    services: Services, who: Identity, case_id: uuid.UUID, sha256: str
) -> tuple[bytes, str]:
    """The file and its media type, for staff handling the case; ApiError otherwise."""
    stream = f"case:{case_id}"
    state = services.ledger.case_state(stream)  # StreamNotFound (404) for an unknown case
    if not any(who.may(role, state.matter_code) for role in READERS):
        raise ApiError(
            403, "role.missing", "您的角色不包括本案事项 (your roles do not cover this case)"
        )
    named = {sha for env in services.ledger.events(stream) for sha in material_hashes(env)}
    if sha256 not in named:
        raise ApiError(
            404, "material.not_named", "本案没有这份材料 (no step of this case names it)"
        )
    try:
        data = material_store(services).get(sha256)
    except MaterialError as exc:
        status = 404 if exc.code == "material.not_found" else 500
        raise ApiError(status, exc.code, exc.message) from None
    return data, MEDIA_TYPES.get(kind_of(data) or "", "application/octet-stream")
