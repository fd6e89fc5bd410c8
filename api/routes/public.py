"""Public: case status by case number and query code, PDF verification, the trust file, the
working-day calendars."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api import service
from api.calendars import CalendarsOut, calendars_out
from api.deps import ReadModelsDep, ServicesDep, public_rate
from api.schemas import PublicCaseOut, error_responses
from api.verifying import PdfChecker, get_checker

CaseNumber = Annotated[
    str, Path(max_length=48, examples=["20261124-3F6C2A9B1D044E4B9A510C7D2E8F6A11"])
]
QueryCode = Annotated[str, Query(max_length=16, description="the query code (查询密码)")]

router = APIRouter(prefix="/v1", tags=["public"], dependencies=[Depends(public_rate)])

VERDICT_EXAMPLE = {
    "verdict": "PASSED",
    "checks": [{"id": "seal.integrity", "status": "passed", "detail": "intact"}],
    "case": {"id": "…", "matter": "XK-370100-001", "outcome": "approved", "decided_at": "…"},
}


@router.get(
    "/public/cases/{case_number}",
    response_model=PublicCaseOut,
    responses=error_responses(404, 422, 429, 503),
)
def get_public_case(
    case_number: CaseNumber,
    code: QueryCode,
    _: ReadModelsDep,
    services: ServicesDep,
) -> PublicCaseOut:
    """Status of a case, personal data masked, for whoever holds its query code."""
    return service.public_case(services, case_number, code)


@router.get(
    "/public/cases/{case_number}/result.pdf",
    responses=error_responses(
        404,
        422,
        429,
        503,
        extra={200: {"description": "the sealed result", "content": {"application/pdf": {}}}},
    ),
)
def get_public_result(
    case_number: CaseNumber,
    code: QueryCode,
    _: ReadModelsDep,
    services: ServicesDep,
) -> Response:
    """The sealed result PDF of a case, for whoever holds its query code."""
    return Response(
        service.public_result(services, case_number, code), media_type="application/pdf"
    )


STATUS_EXAMPLE = {
    "v": 1,
    "kind": "caseledger/result-status",
    "org": "jinan-approval",
    "document": {"sha256": "9f2c…", "case_number": "20261124-3F6C2A9B1D04"},
    "status": "revoked",
    "issued_at": "2026-11-24T02:00:00Z",
    "stated_at": "2026-11-27T01:00:00Z",
    "stated_at_china": "2026-11-27 09:00",
    "revocation": {
        "at": "2026-11-26T02:00:00Z",
        "at_china": "2026-11-26 10:00",
        "envelope": "5be1…",
        "decided_by": {"name": "张伟", "role": "approver"},
        "reason": "以欺骗手段取得行政许可",
        "legal_basis": "《中华人民共和国行政许可法》第六十九条第二款",
    },
    "superseded_by": None,
    "proof": {"envelope": "5be1…", "tlog_proof": "c2sp.org/tlog-proof@v1\n…"},
    "sig": {"key_id": "3a9d0c2e5f1b7a64", "sig": "…"},
}


@router.get(
    "/public/results/{sha256}",
    responses=error_responses(
        404,
        422,
        429,
        503,
        extra={
            200: {
                "description": "The signed status statement of the document",
                "content": {"application/json": {"example": STATUS_EXAMPLE}},
            }
        },
    ),
)
def get_result_status(
    sha256: Annotated[str, Path(max_length=128, description="the document's SHA-256 (hex)")],
    services: ServicesDep,
) -> Any:
    """Whether a sealed result is valid, revoked or superseded, signed by the status key.

    Anyone holding the document can ask (its hash is the proof of holding it); no query code.
    """
    from api.status import result_status

    return JSONResponse(result_status(services, sha256).to_json())


@router.get(
    "/public/cases/{case_number}/documents/{doc_type}.pdf",
    responses=error_responses(
        404,
        422,
        429,
        extra={200: {"description": "the sealed document", "content": {"application/pdf": {}}}},
    ),
)
def get_public_document(
    case_number: CaseNumber,
    doc_type: Annotated[
        str,
        Path(
            pattern="^(acceptance|supplement|not_accepted|extension|approval|denial|revocation)$",
            examples=["acceptance"],
        ),
    ],
    code: Annotated[str, Query(max_length=16, description="the query code (查询密码)")],
    _: ReadModelsDep,
    services: ServicesDep,
) -> Response:
    """A sealed notice (or the result, ``approval``) of a case, for whoever holds its query
    code: the latest one of that type."""
    return Response(
        service.public_document(services, case_number, code, doc_type),
        media_type="application/pdf",
    )


@router.post(
    "/verify",
    responses=error_responses(
        400,
        413,
        422,
        429,
        503,
        extra={
            200: {
                "description": "The verdict",
                "content": {"application/json": {"example": VERDICT_EXAMPLE}},
            }
        },
    ),
)
async def post_verify(
    request: Request,
    file: Annotated[UploadFile, File(description="a sealed result PDF")],
    services: ServicesDep,
    checker: Annotated[PdfChecker, Depends(get_checker)],
) -> Any:
    """Check a sealed result PDF against this organisation's trust file, its status included
    (the server always asks itself for the document's signed status), in a child process
    bounded in time and memory; 503 ``verify.busy`` (with Retry-After) when the checks that may
    run at once are running."""
    from api.status import status_evidence

    data = await file.read()
    evidence = await anyio.to_thread.run_sync(status_evidence, services, data)
    verdict = await checker.check(
        data, services.trust, at=services.clock(), status=evidence, gone=request.is_disconnected
    )
    return JSONResponse(verdict.to_json())


@router.get("/public/calendars", response_model=CalendarsOut, responses=error_responses(429, 503))
def get_public_calendars(services: ServicesDep) -> CalendarsOut:
    """The working-day calendars every deadline is counted on: each year, the notice it
    follows, whether the office signed it, its holidays and adjusted working days."""
    return calendars_out(services.ledger.directory())


@router.get(
    "/trust.json",
    responses=error_responses(
        429, extra={200: {"description": "trust.json", "content": {"application/json": {}}}}
    ),
)
def get_trust(services: ServicesDep) -> Any:
    """The organisation's trust file: all a verifier needs."""
    return JSONResponse(services.trust.to_json())
