"""Filling a notice template: a value written as a whole sentence meets the template's own
words around it without reading them twice."""

from __future__ import annotations

import pytest

from seals import RenderError
from seals.notices import default_template, fill_template


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("经审查，${v}", "经审查，材料不全。", "经审查，材料不全。"),
        ("经审查，${v}", "材料不全。", "经审查，材料不全。"),
        ("经审查，${v}", "经审查认为材料不全。", "经审查，认为材料不全。"),
        ("经查，${v}", "经查，以欺骗手段取得许可。", "经查，以欺骗手段取得许可。"),
        ("因${v}，本机关延期。", "因需现场核查。", "因需现场核查，本机关延期。"),
        ("因${v}，本机关延期。", "因为需现场核查", "因需现场核查，本机关延期。"),
        ("理由：${v}", "经审查，材料不全。", "理由：经审查，材料不全。"),
        ("${v}根据", "材料不全。", "材料不全。根据"),
    ],
)
def test_a_value_is_fitted_to_the_words_around_it(template: str, value: str, expected: str) -> None:
    assert fill_template(template, {"v": value}) == (expected,)


def test_unknown_names_and_a_lone_dollar_are_refused_and_the_extension_template_fills() -> None:
    with pytest.raises(RenderError):
        fill_template("${unknown}", {})
    with pytest.raises(RenderError):
        fill_template("a lone $ here", {})
    assert fill_template("$$5 ${v}", {"v": "x"}) == ("$5 x",)
    names = {
        "applicant", "matter", "applied_date", "accepted_date", "reason", "extended_days",
        "new_committed_date", "new_statutory_date", "notice", "case_number", "query_code",
        "contact",
    }  # fmt: skip
    filled = fill_template(default_template("extension"), dict.fromkeys(names, "X"))
    assert filled[0] == "X："
