"""The applicant's view of a case (number + query code): what the case's signed steps tell.

The timeline of steps (names from the step table, China time, the public line of each from
:mod:`ledger.telling`), what the latest 补正 asks, the reason of a refusal or a denial, how the
document was served (channel, carrier, tracking number, received or returned), the sealed
documents with their download links, and the result's status (valid, revoked, superseded).
Everything is read from the case's envelopes; nothing personal is shown (an address is a
commitment, a person's name is masked).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from api.issuing import recorded_documents
from api.schemas import PublicDeliveryOut, PublicDocumentOut, PublicStepOut
from ledger.clock import china_minute_text
from ledger.delivery import CHANNEL_ZH
from ledger.envelope import Envelope, format_time
from ledger.status import derive_status
from ledger.store.application import CaseLedger
from ledger.telling import DOCUMENT_TITLES, public_detail, step_name

__all__ = ["case_story"]


def case_story(ledger: CaseLedger, stream: str, number: str, code: str) -> dict[str, Any]:
    """The timeline, 补正 items, refusal, delivery, documents and result status of a case."""
    envelopes = list(ledger.events(stream))
    return {
        "timeline": [_step(e) for e in envelopes],
        "supplement_items": _supplement(envelopes),
        "refusal": _refusal(envelopes),
        "delivery": _delivery(envelopes),
        "documents": _documents(ledger, stream, envelopes, number, code),
        "result_status": _result_status(ledger, envelopes),
    }


def _step(env: Envelope) -> PublicStepOut:
    return PublicStepOut(
        step=env.type,
        name=step_name(env.type),
        at=format_time(env.at),
        at_china=china_minute_text(env.at),
        detail=public_detail(env),
    )


def _supplement(envelopes: list[Envelope]) -> list[str]:
    asked = [e for e in envelopes if e.type in ("SupplementRequested", "SupplementProvided")]
    if not asked or asked[-1].type != "SupplementRequested":
        return []  # none asked, or provided since
    return [str(item) for item in asked[-1].body.get("items") or []]


def _refusal(envelopes: list[Envelope]) -> str | None:
    for env in reversed(envelopes):
        if env.type == "NotAccepted" or (
            env.type == "Decided" and env.body.get("outcome") == "denied"
        ):
            reason = env.body.get("reason") or env.body.get("decision")
            return f"{reason}（依据：{env.body.get('legal_basis', '')}）"
    return None


def _delivery(envelopes: list[Envelope]) -> PublicDeliveryOut | None:
    delivered = [i for i, e in enumerate(envelopes) if e.type == "Delivered"]
    if not delivered:
        return None
    body = envelopes[delivered[-1]].body
    later = [
        e.type
        for e in envelopes[delivered[-1] :]
        if e.type in ("DeliveryReceived", "DeliveryReturned")
    ]
    outcome = {"DeliveryReceived": "received", "DeliveryReturned": "returned"}
    document = body.get("document")
    channel = str(body.get("channel", ""))
    return PublicDeliveryOut(
        channel=channel,
        channel_text=CHANNEL_ZH.get(channel, channel),
        carrier=body.get("carrier"),
        tracking_number=body.get("tracking_number"),
        outcome=outcome[later[-1]] if later else None,
        document=str(document.get("type")) if isinstance(document, dict) else None,
    )


def _documents(
    ledger: CaseLedger, stream: str, envelopes: list[Envelope], number: str, code: str
) -> list[PublicDocumentOut]:
    out = []
    directory = None
    for doc in recorded_documents(ledger, stream):
        status = None
        if doc.envelope.type == "ResultIssued":
            directory = directory or ledger.directory()
            facts = derive_status(envelopes, doc.sha256, directory)
            status = facts.status if facts else None
        url = f"/v1/public/cases/{number}/documents/{doc.doc_type}.pdf?code={quote(code)}"
        out.append(
            PublicDocumentOut(
                type=doc.doc_type,
                title=DOCUMENT_TITLES.get(doc.doc_type, doc.doc_type),
                document_number=doc.document_number,
                issued_china=china_minute_text(doc.envelope.at),
                sha256=doc.sha256,
                url=url,
                status=status,
            )
        )
    return out


def _result_status(ledger: CaseLedger, envelopes: list[Envelope]) -> str | None:
    issued = [e for e in envelopes if e.type == "ResultIssued"]
    if not issued:
        return None
    facts = derive_status(envelopes, str(issued[-1].body.get("pdf_sha256")), ledger.directory())
    return facts.status if facts else None
