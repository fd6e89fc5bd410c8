"""Application files: upload at the window, download by the staff handling the case."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import Response

from api.deps import IdentityDep, ServicesDep
from api.materials import keep_material, read_material
from api.schemas import error_responses

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
        401, 403, 404, 422, extra={200: {"content": {"application/octet-stream": {}}}}
    ),
)
def get_material(
    case_id: uuid.UUID, sha256: Sha256, services: ServicesDep, identity: IdentityDep
) -> Response:
    """A file one of the case's signed steps names, for staff whose roles cover the case."""
    data, media_type = read_material(services, identity, case_id, sha256)
    return Response(data, media_type=media_type)
