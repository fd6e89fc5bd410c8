"""A case that tells its applicant everything: 补正, acceptance, approval, a sealed result,
delivery by post and its receipt; and a refused case whose notice is served. Steps are signed
by the sample office's staff and posted through the API, the contact and the postal address
as commitments with their openings beside the envelope."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from apikit import PASSPHRASE, T1, Api

from api.auth import query_code
from api.org import OrgHome
from ledger.client import Signer, StreamWriter
from ledger.personal import commit
from ledger.sample import SampleOffice, applied_body, decided_body
from ledger.state import case_number

PHONE = "13912345678"
EMAIL = "shenqing@example.cn"
ADDRESS = "山东省济南市历下区泉城路1号"
TRACKING = "EMS1234567890"


def sealing_office(home: OrgHome) -> SampleOffice:
    """The sample office with its seal service enrolled under the folder's own key, so that
    the server seals an approved result as soon as it is decided."""
    return SampleOffice(
        org=home.org,
        org_name=home.org_name,
        root_key=home.key("root", PASSPHRASE),
        keys={"service:seal": home.key("seal-service")},
    )


class Story:
    """One case taken step by step through the API, each step a minute after the last."""

    def __init__(self, api: Api, applicant: str = "济南泉城食品有限公司") -> None:
        self.api = api
        self.stream = f"case:{uuid.uuid4()}"
        self.at = T1
        self.applicant = applicant

    def step(self, kind: str, signer: Signer, body: dict[str, Any], openings: Any = ()) -> None:
        self.at += timedelta(minutes=7)
        self.api.clock.now = self.at
        seq, head = self.api.services().ledger.head(self.stream)
        envelope = StreamWriter(self.stream, seq, head).sign(kind, signer, self.at, body)
        reply = self.api.post(envelope, openings)
        assert reply.status_code == 201, reply.text

    def apply(self, *, contact: bool = True) -> None:
        body = applied_body(self.applicant)
        openings = [commit(PHONE), commit(EMAIL)]
        if contact:
            body["contact"] = {
                "phone_commitment": openings[0].commitment,
                "email_commitment": openings[1].commitment,
            }
        self.step("Applied", self.api.office.handler, body, openings)

    @property
    def number(self) -> str:
        return case_number(self.stream, T1 + timedelta(minutes=7))

    @property
    def code(self) -> str:
        return query_code(self.api.services().secret, self.stream.removeprefix("case:"))

    def documents(self) -> list[tuple[str, str]]:
        state = self.api.services().ledger.case_state(self.stream)
        return list(state.document_types)

    def public(self) -> dict[str, Any]:
        reply = self.api.client.get(f"/v1/public/cases/{self.number}", params={"code": self.code})
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body


def approved_by_post(api: Api) -> Story:
    """补正 asked and provided, accepted, reviewed, approved (the result sealed at once),
    delivered by post and received."""
    o = api.office
    story = Story(api)
    story.apply()
    asked = {"items": ["营业执照副本", "卫生许可证"], "notice": "请一次性补正以下材料。"}
    story.step("SupplementRequested", o.handler, asked)
    story.step("SupplementProvided", o.handler,
               {"materials": [{"name": "营业执照副本.pdf", "sha256": "ab" * 32},
                              {"name": "卫生许可证.pdf", "sha256": "cd" * 32}]})  # fmt: skip
    story.step("Accepted", o.handler, {"opinion": "材料齐全，予以受理。"})
    story.step("Reviewed", o.reviewer,
               {"level": 1, "opinion": "agree", "comments": "符合条件。"})  # fmt: skip
    story.step("Decided", o.approver, decided_body(T1))
    [(result, kind)] = story.documents()
    assert kind == "approval"
    address = commit(ADDRESS)
    delivered = {
        "channel": "post",
        "recipient": story.applicant,
        "carrier": "中国邮政EMS",
        "tracking_number": TRACKING,
        "address_commitment": address.commitment,
        "document": {"type": "approval", "sha256": result},
    }
    story.step("Delivered", o.handler, delivered, [address])
    story.step("DeliveryReceived", o.handler, {"tracking_number": TRACKING})
    return story


def refused_and_served(api: Api, now: datetime) -> Story:
    """Not accepted, its 不予受理通知书 sealed and served at the window."""
    from api.notices import issue_notice

    o = api.office
    story = Story(api, "历下区某餐饮店")
    story.apply(contact=False)
    refusal = {"reason": "不属于本机关职权范围", "legal_basis": "《行政许可法》第三十二条"}
    story.step("NotAccepted", o.handler, refusal)
    services = api.services()
    api.clock.now = story.at + timedelta(minutes=1)
    notice = issue_notice(services.home, services.ledger, story.stream, "not_accepted", now=now)
    served = {
        "channel": "window",
        "recipient": story.applicant,
        "document": {"type": "not_accepted", "document_number": notice.document_number,
                     "sha256": notice.sha256},
    }  # fmt: skip
    story.at = max(story.at, now)
    story.step("Delivered", o.handler, served)
    return story
