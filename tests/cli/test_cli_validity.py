"""Validity on the command line and on the issued result: China dates, calendar years.

Its own office (the fixture of test_cli_local, instantiated for this module), so that matter
revisions made by other tests do not change the review levels these cases need.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli import test_cli_local
from tests.cli.test_cli_local import Office
from tests.seals.sealkit import pdftotext

office = test_cli_local.office  # the same fixture, one instance for this module


def test_validity_is_printed_in_china_dates_and_on_the_issued_result(
    office: Office, tmp_path: Path
) -> None:
    case = office.new_case("历城区某食品店")
    office.step("staff:wang.li", "accept", case)
    office.step("staff:li.na", "review", case, "--comments", "符合条件")
    decided = office.step("staff:zhang.wei", "decide", case, "--decision", "准予行政许可。",
                          "--legal-basis", "第三十八条第一款", "--valid-from", "2026-12-02",
                          "--valid-until", "2030-12-01", "--licence-number", "JY137010099",
                          "--scope", "预包装食品销售", "--scope", "散装食品销售")  # fmt: skip
    assert "有效期限：自2026年12月2日起至2030年12月1日止。" in decided.stdout
    out = tmp_path / "result.pdf"
    office.cli("case", "issue", case, "--out", str(out))
    text = "".join(pdftotext(out.read_bytes(), tmp_path).split())
    assert "自2026年12月2日起至2030年12月1日止" in text
    assert "许可证编号：JY137010099" in text
    assert "许可事项：预包装食品销售；散装食品销售" in text
    # A natural person's number is masked on their own document; no command is printed.
    assert "身份证号码：370102********0090" in text and "370102200001010090" not in text
    assert "caseledger" not in text


def test_valid_years_end_the_day_before_the_anniversary(office: Office) -> None:
    case = office.new_case("天桥区某超市")
    office.step("staff:wang.li", "accept", case)
    office.step("staff:li.na", "review", case, "--comments", "符合条件")
    decided = office.step("staff:zhang.wei", "decide", case, "--decision", "准予行政许可。",
                          "--legal-basis", "第三十八条第一款", "--valid-from", "2028-02-29",
                          "--valid-years", "5")  # fmt: skip
    assert "自2028年2月29日起至2033年2月28日止" in decided.stdout
    empty = office.step("staff:zhang.wei", "decide", case, "--decision", "准予", "--legal-basis",
                        "第三十八条", "--valid-from", "2027-01-02", "--valid-until", "2026-01-01",
                        ok=False)  # fmt: skip
    assert "error: input.validity" in empty.stderr
