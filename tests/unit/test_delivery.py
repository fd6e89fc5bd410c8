"""Serving documents: by post with carrier, tracking number and an address commitment; a
later 签收 or 退件; the document served named; a refusal's notice served on the closed case."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.personal import commit
from tests.unit.test_policy import Case, World, body_for, case_in, notice, staff

ADDRESS = commit("山东省济南市历下区泉城路1号").commitment
NOTICE_SHA = "ab" * 32


def posted(document: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    body = {
        "channel": "post",
        "recipient": "济南泉城食品有限公司",
        "carrier": "中国邮政EMS",
        "tracking_number": "EMS1234567890",
        "address_commitment": ADDRESS,
        **changes,
    }
    if document is not None:
        body["document"] = document
    return body


def refused(world: World) -> Case:
    seal = staff(world)[3]
    case = case_in(world, "not_accepted")
    return case.do("DocumentIssued", seal, notice("not_accepted", NOTICE_SHA))


@pytest.fixture
def world() -> World:
    return World()


REFUSAL = {"type": "not_accepted", "document_number": "济审批不受〔2026〕1号", "sha256": NOTICE_SHA}


def test_a_postal_delivery_needs_carrier_tracking_and_an_address_commitment(world: World) -> None:
    case = case_in(world, "result_issued")
    handler = world.office.handler
    for missing in ("carrier", "tracking_number", "address_commitment"):
        body = posted()
        del body[missing]
        assert case.codes("Delivered", handler, body) == ["body.invalid"], missing
    # An address in clear is not a commitment.
    assert case.codes("Delivered", handler, posted(address_commitment="泉城路1号")) == [
        "body.invalid"
    ]
    case.do("Delivered", handler, posted())
    assert (case.state.status, case.state.delivery_tracking) == ("delivered", "EMS1234567890")


def test_a_receipt_or_a_return_closes_a_postal_delivery_and_a_return_allows_another(
    world: World,
) -> None:
    handler = world.office.handler
    case = case_in(world, "result_issued")
    assert case.codes("DeliveryReceived", handler) == ["order.not_allowed"]
    case.do("Delivered", handler, posted())
    wrong = {"tracking_number": "EMS0000000000"}
    assert case.codes("DeliveryReceived", handler, wrong) == ["order.not_allowed"]
    assert case.codes("Delivered", handler, posted()) == ["order.not_allowed"]
    case.do("DeliveryReturned", handler)
    assert (case.state.status, case.state.delivery_outcome) == ("delivered", "returned")
    assert case.codes("DeliveryReceived", handler) == ["order.not_allowed"]
    case.do("Delivered", handler, posted(tracking_number="EMS2222222222"))
    case.do("DeliveryReceived", handler, {"tracking_number": "EMS2222222222"})
    assert (case.state.status, case.state.delivery_outcome) == ("delivered", "received")
    assert case.codes("DeliveryReturned", handler, body_for("DeliveryReturned")) == [
        "order.not_allowed"
    ]
    # The delivered result can still be revoked.
    case.do("ResultRevoked", world.office.approver)
    assert case.state.status == "revoked"


def test_a_window_delivery_takes_no_receipt(world: World) -> None:
    case = case_in(world, "result_issued").do("Delivered", world.office.handler)
    assert case.codes("DeliveryReceived", world.office.handler) == ["order.not_allowed"]


def test_the_document_served_is_one_the_case_recorded_of_that_type(world: World) -> None:
    handler = world.office.handler
    case = case_in(world, "result_issued")
    result = case.state.result_sha256
    assert result is not None
    other = {"type": "approval", "sha256": "cd" * 32}
    assert case.codes("Delivered", handler, posted(other)) == ["order.not_allowed"]
    mislabelled = {"type": "denial", "sha256": result}
    assert case.codes("Delivered", handler, posted(mislabelled)) == ["order.not_allowed"]
    case.do("Delivered", handler, posted({"type": "approval", "sha256": result}))


def test_a_refusal_notice_is_served_and_the_case_stays_not_accepted(world: World) -> None:
    handler = world.office.handler
    bare = case_in(world, "not_accepted")
    assert bare.codes("Delivered", handler, posted(REFUSAL)) == ["order.not_allowed"]
    case = refused(world)
    assert case.codes("Delivered", handler, posted()) == ["order.not_allowed"]
    case.do("Delivered", handler, posted(REFUSAL))
    assert case.state.status == "not_accepted"
    assert case.codes("Delivered", handler, posted(REFUSAL)) == ["order.not_allowed"]
    case.do("DeliveryReceived", handler)
    assert (case.state.status, case.state.delivery_outcome) == ("not_accepted", "received")
    assert case.codes("ResultRevoked", world.office.approver) == ["order.not_allowed"]
