"""Application files: upload at the window, download by the staff handling the case."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import Response

from api.deps import IdentityDep, ServicesDep
from api.materials import keep_material, read_material
from api.schemas import ErrorOut, error_responses

router = APIRouter(prefix="/v1", tags=["materials"])

Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]


@router.post("/materials", status_code=201, responses=error_responses(401, 403, 413, 422))
def post_material(
    file: Annotated[UploadFile, File(description="an application file: PDF, OFD, PNG or JPEG")],
    services: ServicesDep,
    identity: IdentityDep,
) -> dict[str, object]:
    """Keep an application file; answers the SHA-256 the signed step must name."""
    return keep_material(services, identity, file.file.read())


@router.get(
    "/cases/{case_id}/materials/{sha256}",
    responses=error_responses(
        401,
        403,
        404,
        422,
        extra={
            409: {
                "model": ErrorOut,
                "description": "the kept file no longer has the signed hash (material.corrupt)",
            },
            200: {
                "description": "the file, inline under its signed name",
                "content": {
                    "application/pdf": {},
                    "image/png": {},
                    "image/jpeg": {},
                    "application/ofd": {},
                },
            },
        },
    ),
)
def get_material(
    case_id: uuid.UUID, sha256: Sha256, services: ServicesDep, identity: IdentityDep
) -> Response:
    """A file one of the case's signed steps names, for staff whose roles cover the case:
    its kind's content type, ``Content-Disposition`` with the signed name, and the SHA-256
    in ``Repr-Digest``. 409 ``material.corrupt`` if the kept bytes no longer have that hash."""
    kept = read_material(services, identity, case_id, sha256)
    return Response(kept.data, media_type=kept.media_type, headers=kept.headers())
