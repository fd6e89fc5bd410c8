"""The masking rules: what of a party's identity a document or a page shows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.masking import (
    document_identifier,
    identifier_label,
    is_credit_code,
    is_resident_id,
    mask_person_number,
    public_name,
)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("91330106MA2B000123", True),
        ("91370100MA3C00000E", True),
        ("91330106MA2B000124", False),  # wrong check character
        ("91330106MA2B00012", False),  # 17 characters
        ("91330106MA2B00012I", False),  # I is not in the code's alphabet
    ],
)
def test_credit_code_check_character(number: str, valid: bool) -> None:
    assert is_credit_code(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [("11010519491231002X", True), ("11010519491231002x", True), ("110105194912310021", False)],
)
def test_resident_id_check_character(number: str, valid: bool) -> None:
    assert is_resident_id(number) is valid


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("330106199003071234", "330106********1234"),
        ("330106900307123", "330106*****7123"),
        ("330106********1234", "330106********1234"),
        ("E12345678", "*****5678"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_a_person_s_number_on_documents(number: str, masked: str) -> None:
    assert mask_person_number(number) == masked


def test_an_organisation_s_code_is_printed_in_full() -> None:
    assert document_identifier("91330106MA2B000123", "organisation") == "91330106MA2B000123"
    assert identifier_label("91330106MA2B000123", "organisation") == "统一社会信用代码"


def test_a_person_s_number_is_masked_whatever_its_kind_is_called() -> None:
    for kind in ("person", "unknown", "organisation"):
        assert document_identifier("11010519491231002X", kind) == "110105********002X"
        assert identifier_label("11010519491231002X", kind) == "身份证号码"
    assert document_identifier("330106199003071234", "person") == "330106********1234"
    assert identifier_label("330106********1234", "person") == "身份证号码"
    assert identifier_label("E12345678", "person") == "证件号码"


def test_names_on_public_pages() -> None:
    assert public_name("张三丰", "person") == "张**"
    assert public_name("济南泉城食品有限公司", "organisation") == "济南泉城食品有限公司"
    assert public_name("", "person") == ""


@given(st.text(alphabet="0123456789X", min_size=0, max_size=30))
def test_masking_never_shows_more_than_ten_characters_and_is_idempotent(number: str) -> None:
    masked = mask_person_number(number)
    assert len(masked) == len(number.strip())
    assert sum(c != "*" for c in masked) <= 10
    assert mask_person_number(masked) == masked
