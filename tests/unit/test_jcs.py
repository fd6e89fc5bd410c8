"""Canonical JSON: RFC 8785 vectors through ledger.jcs, and the fast canonical check agreeing
with the rfc8785 package on random JSON values."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import EnvelopeError
from ledger.jcs import MAX_DEPTH, canonical, parse_canonical

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc8785.json").read_text("utf-8"))
BIG = 10**7


def codes_of(data: bytes, max_bytes: int = BIG) -> str:
    with pytest.raises(EnvelopeError) as caught:
        parse_canonical(data, max_bytes=max_bytes)
    return caught.value.code


# RFC 8785 vectors ---------------------------------------------------------------------------


def test_the_vector_file_has_its_sections() -> None:
    assert len(VECTORS["documents"]) == 2
    assert len(VECTORS["numbers"]) == 24


@pytest.mark.parametrize("doc", VECTORS["documents"], ids=lambda d: d["name"])
def test_rfc8785_documents(doc: dict[str, Any]) -> None:
    value = json.loads(doc["input"])
    expected = doc["canonical"].encode("utf-8")
    # The package ledger.jcs delegates to gives the RFC's text ...
    assert bytes(rfc8785.dumps(value)) == expected
    if doc["has_floats"]:
        # ... and ledger.jcs refuses what envelopes never carry.
        with pytest.raises(EnvelopeError) as caught:
            canonical(value)
        assert caught.value.code == "json.invalid"
        assert codes_of(expected) == "json.invalid"
    else:
        assert canonical(value) == expected
        assert parse_canonical(expected, max_bytes=BIG) == value
        assert codes_of(doc["input"].encode("utf-8")) == "json.not_canonical"


def test_rfc8785_sample_without_its_numbers_goes_through_ledger_jcs() -> None:
    sample = VECTORS["documents"][0]
    value = json.loads(sample["input"])
    del value["numbers"]
    expected = sample["canonical"].replace(
        ',"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]', ""
    )
    assert canonical(value) == expected.encode("utf-8")
    assert parse_canonical(expected.encode("utf-8"), max_bytes=BIG) == value


def test_rfc8785_sample_utf8_bytes() -> None:
    value = json.loads(VECTORS["documents"][0]["input"])
    assert bytes(rfc8785.dumps(value)).hex(" ").startswith(VECTORS["sample_utf8_prefix_hex"])


@pytest.mark.parametrize("number", VECTORS["numbers"], ids=lambda n: n["ieee754"])
def test_rfc8785_appendix_b_numbers(number: dict[str, str]) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(number["ieee754"]))
    assert bytes(rfc8785.dumps(value)).decode() == number["canonical"]
    with pytest.raises(EnvelopeError):
        canonical({"n": value})
    if value == int(value) and abs(value) <= 2**53 - 1:
        assert canonical({"n": int(value)}) == f'{{"n":{number["canonical"]}}}'.encode()


# What parse_canonical refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b'{"a": 1}', "json.not_canonical"),  # a space
        (b'{"b":1,"a":2}', "json.not_canonical"),  # unsorted keys
        (b'{"a":"\\/"}', "json.not_canonical"),  # escaped solidus
        (b'{"a":"\\u00e9"}', "json.not_canonical"),  # escaped non-ASCII
        (b'{"a":"\\u000A"}', "json.not_canonical"),  # \u000A instead of \n
        (b'{"a":-0}', "json.not_canonical"),
        (b'{"a":1,"a":1}', "json.not_canonical"),  # duplicate member
        (b'{"a":1}\n', "json.not_canonical"),
        (b'{"a":1.0}', "json.invalid"),
        (b'{"a":1e3}', "json.invalid"),
        (b'{"a":NaN}', "json.invalid"),
        (b'{"a":Infinity}', "json.invalid"),
        (b'{"a":9007199254740992}', "json.invalid"),
        (b'{"a":-9007199254740992}', "json.invalid"),
        (b'{"a":123456789012345678901234567890}', "json.invalid"),
        (b'{"a":"\xed\xa0\x80"}', "json.invalid"),  # a surrogate encoded as UTF-8
        (b'{"a":"\xff"}', "json.invalid"),
        (b'{"a":"\\ud800"}', "json.invalid"),  # a lone surrogate, escaped
        (b'{"a":"\\udc00x"}', "json.invalid"),
        (b'{"a":"line\nbreak"}', "json.invalid"),  # raw control character
        (b"\xef\xbb\xbf{}", "json.invalid"),  # byte order mark
        (b"[1,2]", "json.invalid"),
        (b'"text"', "json.invalid"),
        (b"", "json.invalid"),
        (b'{"a":1', "json.invalid"),
    ],
)
def test_parse_canonical_refusals(text: bytes, code: str) -> None:
    assert codes_of(text) == code


def test_integers_at_the_53_bit_edge() -> None:
    edge = 2**53 - 1
    assert parse_canonical(f'{{"a":{edge},"b":{-edge}}}'.encode(), max_bytes=BIG) == {
        "a": edge,
        "b": -edge,
    }
    for value in (2**53, -(2**53), 2**64):
        with pytest.raises(EnvelopeError):
            canonical({"a": value})


def test_size_limit_is_checked_before_parsing() -> None:
    data = b'{"a":"' + b"x" * 100 + b'"}'
    assert parse_canonical(data, max_bytes=len(data)) == {"a": "x" * 100}
    assert codes_of(data, max_bytes=len(data) - 1) == "json.too_large"


def test_nesting_depth_limit() -> None:
    def nested(levels: int) -> dict[str, Any]:
        value: Any = 0
        for _ in range(levels):
            value = [value]
        return {"a": value}

    ok = nested(MAX_DEPTH - 1)
    assert parse_canonical(canonical(ok), max_bytes=BIG) == ok
    too_deep = nested(MAX_DEPTH)
    with pytest.raises(EnvelopeError) as caught:
        canonical(too_deep)
    assert caught.value.code == "json.invalid"
    text = b'{"a":' + b"[" * MAX_DEPTH + b"0" + b"]" * MAX_DEPTH + b"}"
    assert codes_of(text) == "json.invalid"


def test_pathological_nesting_is_an_error_not_a_crash() -> None:
    text = b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    assert codes_of(text) == "json.invalid"


def test_canonical_refuses_values_json_has_no_form_for() -> None:
    for value in ({"a": 1.5}, {"a": float("nan")}, {1: "x"}, {"a": b"x"}, {"a": {1, 2}}):
        with pytest.raises(EnvelopeError) as caught:
            canonical(value)
        assert caught.value.code == "json.invalid"


def test_lone_surrogates_have_no_canonical_form() -> None:
    for value in ({"a": "\ud800"}, {"\udfff": 1}, {"a": ["x\udc00y"]}):
        with pytest.raises(EnvelopeError) as caught:
            canonical(value)
        assert caught.value.code == "json.invalid"


def test_non_ascii_keys_sort_by_utf16_code_units() -> None:
    # U+FF61 sorts before U+1F600 by code point but after it by UTF-16 (0xD83D < 0xFF61):
    # exactly where a sort_keys fast path would go wrong.
    value = {"\uff61": 1, "\U0001f600": 2}
    utf16_order = '{"\U0001f600":2,"\uff61":1}'.encode()
    code_point_order = '{"\uff61":1,"\U0001f600":2}'.encode()
    assert canonical(value) == utf16_order
    assert parse_canonical(utf16_order, max_bytes=BIG) == value
    assert codes_of(code_point_order) == "json.not_canonical"


# The fast check agrees with rfc8785 ---------------------------------------------------------

TRICKY = '\x00\x01\x1f\x7f"\\/\n\r\t\b\f aZé€\u2028\u2029\ufeff\uff61\U0001f600\U00010000\ufb33'
strings = st.text(max_size=8) | st.text(alphabet=TRICKY, max_size=6)
scalars = st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | strings
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=16,
)
objects = st.dictionaries(strings, values, max_size=5)


@settings(max_examples=400, deadline=None)
@given(objects)
def test_parse_canonical_accepts_exactly_the_rfc8785_text(value: dict[str, Any]) -> None:
    expected = bytes(rfc8785.dumps(value))
    assert canonical(value) == expected
    assert parse_canonical(expected, max_bytes=BIG) == value
    # Near misses that Python's encoder produces: accepted only when they are the same bytes.
    for variant in (
        json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":")),
        json.dumps(value, ensure_ascii=False, separators=(",", ":")),
    ):
        data = variant.encode("utf-8")
        if data == expected:
            assert parse_canonical(data, max_bytes=BIG) == value
        else:
            assert codes_of(data) == "json.not_canonical"
