"""The personal-data scan searches a body's strings joined once before it searches them one by
one; it must name exactly what a search of each string in turn names."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.personal import _ID_NUMBER, _MOBILE, find_personal_data, is_prc_id_number

# Digits, the check-digit letter, letters and the characters that sit around numbers in text.
_CHARS = st.sampled_from(list("0123456789012345678901234567890123456789Xxa \n-，:１"))
_VALID_ID = "11010519491231002X"
_PIECES = st.one_of(
    st.text(_CHARS, max_size=30),
    st.sampled_from([_VALID_ID, "110105194912310021", "13812345678", "1381234567", "8"]),
)
_TEXT = st.lists(_PIECES, max_size=4).map("".join)
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.one_of(_TEXT, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def one_by_one(value: Any) -> str | None:
    """The scan as it was written first: each string in turn, keys before their values."""

    def strings(v: Any) -> list[str]:
        if isinstance(v, str):
            return [v]
        if isinstance(v, dict):
            return [s for key, item in v.items() for s in [str(key), *strings(item)]]
        if isinstance(v, list):
            return [s for item in v for s in strings(item)]
        return []

    for text in strings(value):
        if any(is_prc_id_number(m.group(0)) for m in _ID_NUMBER.finditer(text)):
            return "id_number"
        if _MOBILE.search(text):
            return "mobile"
    return None


@given(_JSON)
def test_the_joined_search_names_what_each_string_names(value: Any) -> None:
    assert find_personal_data(value) == one_by_one(value)


def test_the_first_string_holding_either_decides() -> None:
    assert find_personal_data({"a": "电话13812345678", "b": _VALID_ID}) == "mobile"
    assert find_personal_data({"a": _VALID_ID, "b": "13812345678"}) == "id_number"
    assert find_personal_data(["1381234567", "8"]) is None  # not joined into one number
    assert find_personal_data({"13812345678": 1}) == "mobile"  # keys are searched too
