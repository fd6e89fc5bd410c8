"""The signing client on the organisation's own database (no server): every directory
command and case step, readable output, and plain errors with their codes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from api.org import OrgHome
from cli.client._common import utc_now
from ledger.envelope import format_time
from ledger.keyfile import KeyFile
from tests.e2e.e2ekit import MATTER, MATTER_CODE, Cli, field_of

PASS = {"CASELEDGER_PASSPHRASE": "local-pass"}
PEOPLE = (
    ("staff:wang.li", "王立", "370102198502020027", "handler"),
    ("staff:li.na", "李娜", "370102198703030037", "reviewer"),
    ("staff:zhang.wei", "张伟", "370102197904040042", "approver"),
    ("staff:zhou.min", "周敏", "37010219910101005X", "handler"),
)


@dataclass
class Office:
    cli: Cli
    keys: dict[str, Path]

    def step(self, who: str, step: str, *args: str, ok: bool = True) -> Result:
        return self.cli("case", step, *args, "--key", str(self.keys[who]), ok=ok)

    def new_case(self, name: str = "济南泉城食品有限公司") -> str:
        applied = self.step("staff:wang.li", "apply", "--matter", MATTER_CODE,
                            "--applicant-name", name, "--applicant-id", "370102200001010090",
                            "--material", "食品经营许可申请书=" + "cd" * 32)  # fmt: skip
        return field_of(applied, "case id")


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """One local office for the module: four staff, one matter. Tests use their own cases."""
    root = tmp_path_factory.mktemp("local")
    cli = Cli(root / "office", env=PASS)
    cli("init", "--org", "jinan-local", "--name", "济南市行政审批服务局")
    keys = {}
    for principal, name, id_number, role in PEOPLE:
        keys[principal] = root / f"{principal[6:]}.key"
        cli("keygen", "--principal", principal, "--out", str(keys[principal]))
        cli("staff", "add", principal, "--name", name, "--id-number", id_number,
            "--from-key", str(keys[principal]))  # fmt: skip
        cli("staff", "grant", principal, "--role", role, "--grant-id", f"g-{principal[6:]}")
    (root / "matter.toml").write_text(MATTER, encoding="utf-8")
    cli("matter", "add", str(root / "matter.toml"))
    yield Office(cli, keys)


def test_a_case_with_supplement_and_suspension_then_withdrawn(office: Office) -> None:
    case = office.new_case()
    wang = "staff:wang.li"
    office.step(wang, "supplement", case, "--item", "营业执照副本", "--item", "场所平面图")
    office.step(wang, "supplemented", case, "--material", "营业执照副本=" + "ef" * 32)
    # A partial supplement leaves the case awaiting the rest, and says what.
    assert "still missing  场所平面图 (补正)" in office.cli("case", "show", case).stdout
    office.step(wang, "supplemented", case, "--material", "场所平面图=" + "ab" * 32)
    office.step(wang, "accept", case)
    office.step(wang, "suspend", case, "--reason", "组织专家评审")
    office.step(wang, "resume", case, "--reason", "专家评审结束")
    withdrawn = office.step(wang, "withdraw", case, "--reason", "申请人撤回申请")
    assert field_of(withdrawn, "seq") == "8"
    shown = office.cli("case", "show", case).stdout  # a local read needs no key
    assert "status         withdrawn" in shown
    for step in ("SupplementRequested", "SupplementProvided", "Suspended", "Resumed"):
        assert step in shown
    assert "请一次性补正以下材料：营业执照副本、场所平面图。" in shown


def test_refused_application_and_a_revoked_result(office: Office) -> None:
    refused = office.new_case("某小作坊")
    office.step("staff:wang.li", "refuse", refused, "--reason", "不属于本机关职权范围",
                "--legal-basis", "《行政许可法》第三十二条第一款第二项")  # fmt: skip
    assert "not_accepted" in office.cli("case", "show", refused).stdout

    case = office.new_case("历下区某餐饮店")
    office.step("staff:wang.li", "accept", case)
    office.step("staff:li.na", "review", case, "--opinion", "disagree", "--comments", "不符合")
    office.step("staff:zhang.wei", "decide", case, "--outcome", "denied", "--decision",
                "不予行政许可。", "--legal-basis", "第三十八条第二款")  # fmt: skip
    # A denied decision has no sealed result to issue.
    not_approved = office.cli("case", "issue", case, ok=False)
    assert "error: case.not_approved" in not_approved.stderr
    # By post: carrier and tracking number are needed, the address goes to the private table.
    no_carrier = office.step("staff:wang.li", "deliver", case, "--recipient", "申请人",
                             "--channel", "post", "--tracking", "EMS12345", ok=False)  # fmt: skip
    assert "body.invalid" in no_carrier.stderr
    office.step("staff:wang.li", "deliver", case, "--recipient", "申请人", "--channel", "post",
                "--tracking", "EMS1234567890", "--carrier", "中国邮政EMS",
                "--address", "济南市历下区泉城路1号")  # fmt: skip
    office.step("staff:zhang.wei", "revoke", case, "--reason", "以欺骗手段取得",
                "--legal-basis", "《行政许可法》第六十九条")  # fmt: skip
    history = office.cli("case", "history", case).stdout
    assert "tracking_number: EMS1234567890" in history
    # The address is committed, never signed in clear.
    assert "address_commitment: pc1:" in history and "泉城路" not in history
    assert re.search(r"^\s+6 .* ResultRevoked .* staff:zhang\.wei \(审批\)", history, re.M)


def test_a_disagreement_is_returned_before_an_approval(office: Office) -> None:
    case = office.new_case()
    office.step("staff:wang.li", "accept", case)
    office.step("staff:li.na", "review", case, "--opinion", "disagree", "--comments", "缺材料")
    approve = ("decide", case, "--decision", "准予行政许可。", "--legal-basis", "第三十八条")
    refused = office.step("staff:zhang.wei", *approve, ok=False)
    assert "order.not_allowed" in refused.stderr
    office.step("staff:li.na", "return", case, "--reason", "请补充现场核查记录")
    office.step("staff:li.na", "review", case, "--comments", "已补充，符合条件。")
    office.step("staff:zhang.wei", *approve)
    history = office.cli("case", "history", case).stdout
    assert "Returned" in history and "请补充现场核查记录" in history


def test_the_rules_refuse_with_codes_and_exit_1(office: Office) -> None:
    case = office.new_case()
    office.step("staff:wang.li", "accept", case)
    # Claiming a role one does not hold: the ledger's own refusal, with its code.
    refused = office.step("staff:wang.li", "decide", case, "--decision", "准予",
                          "--legal-basis", "x", "--as", "approver", ok=False)  # fmt: skip
    assert "error: rules.refused" in refused.stderr and "  role.missing" in refused.stderr
    # Out of order: no decision before the review level is done.
    refused = office.step("staff:zhang.wei", "decide", case, "--decision", "准予",
                          "--legal-basis", "x", ok=False)  # fmt: skip
    assert "order.not_allowed" in refused.stderr
    # A second handler may not review after handling: not their role here.
    refused = office.step("staff:zhou.min", "review", case, "--comments", "x", ok=False)
    assert "error: role.missing" in refused.stderr


def test_revoked_key_and_an_added_key(office: Office, tmp_path: Path) -> None:
    cli, zhou = office.cli, "staff:zhou.min"
    old = KeyFile.load(office.keys[zhou], PASS["CASELEDGER_PASSPHRASE"]).key.key_id
    case = office.new_case()
    # Compromised since an hour ago: signatures from then on are void.
    since = format_time(utc_now() - timedelta(hours=1))
    cli("staff", "revoke-key", old, "--reason", "密钥遗失", "--void-from", since)
    refused = office.step(zhou, "accept", case, ok=False)
    assert "key.revoked" in refused.stderr
    fresh = tmp_path / "zhou-2.key"
    made = cli("keygen", "--principal", zhou, "--out", str(fresh))
    cli("staff", "add-key", zhou, "--public-key", field_of(made, "public key"))
    cli("case", "accept", case, "--key", str(fresh))
    listed = cli("staff", "list").stdout
    assert f"key   {old}  void" in listed
    assert f"key   {field_of(made, 'key id')}  active" in listed


def test_revoking_every_grant_of_a_person(office: Office) -> None:
    cli = office.cli
    cli("staff", "add", "staff:qian.yu", "--name", "钱雨", "--id-number", "370102199202020062")
    cli("staff", "grant", "staff:qian.yu", "--role", "handler", "--matter", MATTER_CODE)
    cli("staff", "grant", "staff:qian.yu", "--role", "reviewer", "--until", "2099-01-01")
    cli("staff", "revoke", "staff:qian.yu", "--role", "handler", "--reason", "调岗")
    listed = cli("staff", "list").stdout
    assert re.search(r"grant g-qian\.yu-handler-\w+  handler  \[XK-370100-001\]  revoked", listed)
    assert re.search(r"grant g-qian\.yu-reviewer-\w+  reviewer  \[\*\]  live", listed)
    again = cli("staff", "revoke", "staff:qian.yu", "--role", "handler", "--reason", "x", ok=False)
    assert "error: grant.none" in again.stderr
    unknown = cli("staff", "revoke", "g-nobody", "--reason", "x", ok=False)
    assert "directory.invalid" in unknown.stderr


def test_matter_revision_and_a_second_definition(office: Office, tmp_path: Path) -> None:
    revised = tmp_path / "matter-v2.json"
    revised.write_text(
        f'{{"code": "{MATTER_CODE}", "name": "食品经营许可证核发", "version": 2,'
        ' "review_levels": ["reviewer", "approver"]}',
        encoding="utf-8",
    )
    out = office.cli("matter", "add", str(revised)).stdout
    assert "MatterRevised" in out and f"{MATTER_CODE} v2" in out
    again = tmp_path / "matter-again.toml"
    again.write_text(f'code = "{MATTER_CODE}"\nname = "重复"\n', encoding="utf-8")
    refused = office.cli("matter", "add", str(again), ok=False)
    assert "directory.invalid" in refused.stderr


def test_plain_errors_for_missing_things(office: Office, tmp_path: Path) -> None:
    cli = office.cli
    nowhere = Cli(tmp_path / "nothing-here", env=PASS)
    assert "error: org.invalid" in nowhere("staff", "list", ok=False).stderr
    unreachable = cli("case", "show", "3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11",
                      "--server", "http://127.0.0.1:9", "--key",
                      str(office.keys["staff:wang.li"]), ok=False)  # fmt: skip
    assert "error: server.unreachable" in unreachable.stderr
    missing = cli("case", "show", "3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11", ok=False)
    assert "error: stream.not_found" in missing.stderr
    no_key = cli("case", "accept", "3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11", ok=False)
    assert "error: keyfile.missing" in no_key.stderr
    bad_id = office.step("staff:wang.li", "accept", "not-a-case", ok=False)
    assert "error: input.case" in bad_id.stderr
    bad = cli("staff", "grant", "staff:wang.li", "--role", "boss", ok=False)
    assert "error: input.role" in bad.stderr


def test_keygen_asks_twice_and_never_overwrites(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "k.key"
    cli = Cli(tmp_path / "office", runner=runner)
    made = cli.runner.invoke(
        cli_app(), ["keygen", "--principal", "staff:a.b", "--out", str(out)], input="pw\npw\n"
    )
    assert made.exit_code == 0, made.output
    assert KeyFile.load(out, "pw").principal == "staff:a.b"
    again = cli("keygen", "--principal", "staff:a.b", "--out", str(out), ok=False, env=PASS)
    assert "error: keyfile.exists" in again.stderr
    bad = cli("keygen", "--principal", "wang li", "--out", str(tmp_path / "x"), ok=False, env=PASS)
    assert "error: input.principal" in bad.stderr
    unset = cli("keygen", "--principal", "staff:a.c", "--out", str(tmp_path / "y"),
                "--passphrase-env", "NO_SUCH_VARIABLE", ok=False)  # fmt: skip
    assert "error: keyfile.passphrase" in unset.stderr
    unwritable = cli("keygen", "--principal", "staff:a.d", "--out", "/dev/null/k.key",
                     ok=False, env=PASS)  # fmt: skip
    assert "error: io.error: " in unwritable.stderr


def cli_app() -> object:
    from cli.main import app

    return app


def test_every_command_explains_itself(office: Office) -> None:
    top = office.cli("--help").stdout
    for name in ("keygen", "staff", "matter", "case"):
        assert name in top
    case_help = office.cli("case", "--help").stdout
    steps = ("apply", "accept", "refuse", "supplement", "supplemented", "review", "decide",
             "deliver", "suspend", "resume", "withdraw", "revoke", "show", "history")  # fmt: skip
    for step in steps:
        assert step in case_help
        text = office.cli("case", step, "--help").stdout
        assert "--server" in text and "--key" in text and "--passphrase-env" in text
    for command in ("add", "add-key", "grant", "revoke", "revoke-key", "list"):
        assert "--home" in office.cli("staff", command, "--help").stdout
    assert OrgHome.load(office.cli.home).org == "jinan-local"


def test_case_commands_are_listed_in_the_order_a_case_takes_them() -> None:
    # Each family of case commands registers itself when its module is imported; the help
    # lists them in that order, so a reordered import would shuffle `caseledger case --help`.
    import typer
    from typer.core import TyperGroup

    from cli.main import app

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    case = root.commands["case"]
    # A TyperGroup lists its commands in the order of this mapping.
    assert isinstance(case, TyperGroup)
    assert list(case.commands) == [
        "apply", "accept", "refuse", "supplement", "supplemented", "review", "decide",
        "deliver", "received", "returned", "return", "suspend", "resume", "withdraw", "revoke",
        "extend", "supervise", "issue", "notice", "show", "history",
    ]  # fmt: skip


@pytest.mark.postgres
def test_local_commands_on_postgres(tmp_path: Path, pg_url: str) -> None:
    cli = Cli(tmp_path / "office", db=pg_url, env=PASS)
    cli("init", "--org", "jinan-pg")
    key = tmp_path / "wang.key"
    cli("keygen", "--principal", "staff:wang.li", "--out", str(key))
    cli(
        "staff",
        "add",
        "staff:wang.li",
        "--name",
        "王立",
        "--id-number",
        "1",
        "--from-key",
        str(key),
    )
    cli("staff", "grant", "staff:wang.li", "--role", "handler")
    (tmp_path / "matter.toml").write_text(MATTER, encoding="utf-8")
    cli("matter", "add", str(tmp_path / "matter.toml"))
    applied = cli("case", "apply", "--key", str(key), "--matter", MATTER_CODE,
                  "--applicant-name", "某公司", "--applicant-id", "9137",
                  "--material", "食品经营许可申请书=" + "cd" * 32)  # fmt: skip
    case = field_of(applied, "case id")
    accepted = cli("case", "accept", case, "--key", str(key))
    assert field_of(accepted, "seq") == "2"
    assert field_of(accepted, "leaf index") == str(int(field_of(applied, "leaf index")) + 1)
    assert "status         accepted" in cli("case", "show", case).stdout
    ledger = OrgHome.load(cli.home).open_ledger(pg_url)
    try:
        assert ledger.head(f"case:{case}")[0] == 2
    finally:
        ledger.close()


def test_init_never_takes_a_local_public_url_silently(tmp_path: Path) -> None:
    quiet = Cli(tmp_path / "public")(
        "init", "--org", "jinan-public", "--url", "https://zwfw.example", "--no-passphrase"
    )
    assert "WARNING" not in quiet.stderr
    loud = Cli(tmp_path / "local")("init", "--org", "jinan-local2", "--no-passphrase")
    assert "WARNING" in loud.stderr and "http://127.0.0.1:8000" in loud.stderr
    trust = OrgHome.load(tmp_path / "public").trust()
    assert trust.public_base_url == "https://zwfw.example" and trust.status_keys


def test_a_refusal_notice_is_issued_served_by_post_returned_and_served_again(
    office: Office, tmp_path: Path
) -> None:
    wang = "staff:wang.li"
    case = office.new_case("历下区某面馆")
    office.step(wang, "refuse", case, "--reason", "不属于本机关职权范围",
                "--legal-basis", "《行政许可法》第三十二条")  # fmt: skip
    early = office.cli("case", "notice", case, "--type", "acceptance", ok=False)
    assert "error: document.not_due" in early.stderr
    issued = office.cli("case", "notice", case, "--type", "not_accepted",
                        "--out", str(tmp_path / "refusal.pdf"))  # fmt: skip
    number = field_of(issued, "文号")
    assert "不受" in number and (tmp_path / "refusal.pdf").read_bytes().startswith(b"%PDF")
    again = office.cli("case", "notice", case, "--type", "not_accepted")
    assert field_of(again, "pdf sha256") == field_of(issued, "pdf sha256")
    post = ("--recipient", "历下区某面馆", "--channel", "post", "--carrier", "中国邮政EMS",
            "--address", "济南市历下区经十路9号")  # fmt: skip
    office.step(wang, "deliver", case, *post, "--tracking", "EMS1111111111")
    office.step(wang, "returned", case, "--tracking", "EMS1111111111", "--reason", "查无此人")
    office.step(wang, "deliver", case, *post, "--tracking", "EMS2222222222")
    office.step(wang, "received", case, "--tracking", "EMS2222222222")
    shown = office.cli("case", "show", case).stdout
    assert "status         not_accepted" in shown
    history = office.cli("case", "history", case).stdout
    for step in ("DocumentIssued", "Delivered", "DeliveryReturned", "DeliveryReceived"):
        assert step in history
    assert "经十路" not in history and "sha256" in history


PROMISE_MATTER = """
code = "CN-LOCAL-1"
name = "食品经营许可（告知承诺）"
committed_days = 10
required_materials = ["申请书", "卫生许可证明", "场所平面图"]
tolerated_materials = ["场所平面图"]
mode = "告知承诺"
promise_materials = ["卫生许可证明"]
promise_exclusions = ["曾作出虚假承诺", "严重失信主体"]
verification_days = 20
"""


def test_a_promise_matter_file_and_an_applicant_barred_then_cleared(
    office: Office, tmp_path: Path
) -> None:
    matter = tmp_path / "promise.toml"
    matter.write_text(PROMISE_MATTER, encoding="utf-8")
    assert "matter         CN-LOCAL-1 v1" in office.cli("matter", "add", str(matter)).stdout
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(PROMISE_MATTER.replace("CN-LOCAL-1", "CN-LOCAL-2").replace(
        'mode = "告知承诺"', 'mode = "承诺制"'), encoding="utf-8")  # fmt: skip
    assert "error: body.invalid" in office.cli("matter", "add", str(wrong), ok=False).stderr

    case = office.new_case()
    barred = office.cli("promise", "bar", case, "--reason", "告知承诺核查不实").stdout
    assert f"bar            bar:{case}" in barred
    office.cli("promise", "clear", f"bar:{case}", "--reason", "信用修复")
    unknown = office.cli("promise", "clear", "bar:none", "--reason", "x", ok=False).stderr
    assert "directory.invalid" in unknown


def test_a_supplied_file_is_kept_in_the_offices_material_store(
    office: Office, tmp_path: Path
) -> None:
    case = office.new_case()
    wang = "staff:wang.li"
    office.step(wang, "supplement", case, "--item", "场所平面图")
    plan = tmp_path / "场所平面图.png"
    plan.write_bytes(b"\x89PNG\r\n\x1a\n a floor plan")
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    office.step(wang, "supplemented", case, "--material", str(plan))
    assert digest in office.cli("case", "show", case, "--json").stdout
    kept = office.cli.home / "materials" / digest[:2] / digest
    assert kept.read_bytes() == plan.read_bytes()
