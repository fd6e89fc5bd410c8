"""The floor of ``http_api.py``: an empty FastAPI route on the server stack caseledger runs on.

``POST /v1/envelopes`` reads the body and answers 201 with a small JSON object, checking and
storing nothing; served by uvicorn with the same options and loop as the real server, and
posted to by the same clients, it shows what HTTP alone allows on the machine of the run.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/v1/envelopes")
async def post_envelope(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"stored": False, "bytes": len(body)}, status_code=201)


@app.get("/v1/trust.json")
async def trust() -> dict[str, str]:
    return {}
