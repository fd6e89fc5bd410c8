"""The command line speaks Chinese unless the locale asks for English: every command's help,
every line it prints, and every error, from one table per stable key.

The help is checked in a fresh interpreter per language (it is chosen as the program starts);
the output tables are scanned against the code that uses them, and the code is scanned for a
line printed from a literal instead of a table."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from cli.texts import HELP_ZH, OUTPUT
from tests.e2e.e2ekit import MATTER, MATTER_CODE, Cli, field_of, publish_the_years_ahead

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Chinese text, or at least its full-width punctuation (a line that is only values).
CHINESE_TEXT = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
CHINESE = {"LANG": "C.UTF-8"}

# Walks both command trees as the programs build them and renders every command's --help.
HELP_SCRIPT = """
import contextlib, io, json, sys
import typer
from cli.main import app, _mount_subcommands
from cli.texts import localise
from verify.cli import app as verify_app
from verify.help import VERIFY_HELP_ZH, localise as localise_verify

_mount_subcommands()
trees = [
    ("caseledger", localise(typer.main.get_command(app))),
    ("caseledger-verify", localise_verify(
        typer.main.get_command(verify_app), "caseledger-verify", VERIFY_HELP_ZH)),
]
out = {}

def walk(name, root, command, path):
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        try:
            root.main(args=[*path, "--help"], prog_name=name, standalone_mode=False)
        except SystemExit:
            pass
    params = {p.name: getattr(p, "help", None) for p in command.params}
    out[" ".join([name, *path])] = {"help": shown.getvalue(), "params": params,
                                    "text": command.help}
    for sub_name, sub in (getattr(command, "commands", None) or {}).items():
        walk(name, root, sub, [*path, sub_name])

for name, root in trees:
    walk(name, root, root, [])
print(json.dumps(out, ensure_ascii=False))
"""


def _helps(lang: str) -> dict[str, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(LANG=lang, COLUMNS="200", TERMINAL_WIDTH="200")
    done = subprocess.run(
        [sys.executable, "-c", HELP_SCRIPT],
        capture_output=True, text=True, check=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    found: dict[str, dict[str, object]] = json.loads(done.stdout)
    return found


def test_every_command_and_option_has_chinese_help() -> None:
    helps = _helps("C.UTF-8")
    assert len(helps) > 60 and {"caseledger case refuse", "caseledger-verify pdf"} <= set(helps)
    for path, shown in helps.items():
        assert CJK.search(str(shown["text"])), f"{path}: no Chinese help"
        assert "显示此帮助并退出" in str(shown["help"]), path
        for name, text in dict(shown["params"]).items():  # type: ignore[call-overload]
            assert text is None or CJK.search(text), f"{path} {name}: {text!r}"


def test_help_is_english_when_the_locale_asks() -> None:
    helps = _helps("en_US.UTF-8")
    apply = helps["caseledger case apply"]
    assert "Record a new application" in str(apply["help"])
    assert "登记新申请" not in str(apply["help"])
    assert "Show this message and exit" in str(apply["help"])


# The output tables ---------------------------------------------------------------------------

USED = re.compile(r"""\b(?:say|field)\(\s*["']([a-z_.A-Z]+)["']""")
USED_PREFIX = re.compile(r"""\b(?:say|field)\(\s*f["']([a-z_]+\.)\{""")


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)", text))


def test_every_output_key_used_has_a_chinese_and_an_english_text() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in (ROOT / "cli").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used.update(USED.findall(text))
        prefixes.update(USED_PREFIX.findall(text))
    assert {"label.case_id", "appended", "timing.left"} <= used and "status." in prefixes
    assert sorted(used - set(OUTPUT)) == []
    assert all(any(k.startswith(p) for k in OUTPUT) for p in prefixes)
    for key, (zh, en) in OUTPUT.items():
        assert CHINESE_TEXT.search(zh), key
        assert en, key
        assert _placeholders(zh) == _placeholders(en), key
    assert all(CJK.search(text) for text in HELP_ZH.values())


# Machine-matched words a line may carry in any language: the ``error: CODE:`` prefix scripts
# look for, and the ``case:`` of a stream name.
STABLE_WORDS = {"error", "internal", "file", "unavailable", "case"}


def _printed_literals(path: Path, root: Path = ROOT) -> list[str]:
    """Lines ``path`` prints from a string literal with words in it, not from a table."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = ast.unparse(node.func)
        if name not in ("typer.echo", "note", "typer.prompt", "typer.confirm"):
            continue
        arg = node.args[0]
        parts = [arg.value] if isinstance(arg, ast.Constant) else []
        if isinstance(arg, ast.JoinedStr):
            parts = [v.value for v in arg.values if isinstance(v, ast.Constant)]
        words = {w for p in parts for w in re.findall(r"[A-Za-z]{3,}", str(p))}
        if words - STABLE_WORDS:
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_line_is_printed_from_a_literal() -> None:
    found = [hit for path in (ROOT / "cli").rglob("*.py") for hit in _printed_literals(path)]
    assert found == []


def test_the_scan_sees_a_literal_line(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(
        'import typer\ntyper.echo(f"error: {code}")\ntyper.echo(f"{step} admitted")\n'
    )
    assert _printed_literals(tmp_path / "x.py", tmp_path) == ["x.py:3"]


# A real office, in Chinese -------------------------------------------------------------------


def test_an_office_works_in_chinese(tmp_path: Path) -> None:
    env = {"CASELEDGER_PASSPHRASE": "zh-pass", **CHINESE}
    cli = Cli(tmp_path / "office", env=env)
    created = cli("init", "--org", "jinan-zh", "--name", "济南市行政审批服务局").stdout
    assert "机关 jinan-zh（济南市行政审批服务局）已在" in created
    publish_the_years_ahead(cli, tmp_path, admin=())  # on any date, a known calendar
    key = tmp_path / "wang.li.key"
    made = cli("keygen", "--principal", "staff:wang.li", "--out", str(key)).stdout
    assert field_of_zh(made, "密钥标识")
    cli("staff", "add", "staff:wang.li", "--name", "王立", "--id-number", "370102198502020027",
        "--from-key", str(key))  # fmt: skip
    cli("staff", "grant", "staff:wang.li", "--role", "handler", "--grant-id", "g-wang")
    (tmp_path / "matter.toml").write_text(MATTER, encoding="utf-8")
    cli("matter", "add", str(tmp_path / "matter.toml"))
    applied = cli("case", "apply", "--matter", MATTER_CODE, "--applicant-name", "泉城食品",
                  "--applicant-id", "370102200001010090", "--key", str(key),
                  "--material", "食品经营许可申请书=" + "cd" * 32)  # fmt: skip
    assert "Applied        已接受" in applied.stdout
    case = field_of_zh(applied, "案件标识")
    cli("case", "accept", case, "--key", str(key))
    shown = cli("case", "show", case).stdout
    for label in ("受理号", "事项", "申请人", "状态", "时限", "办理人员"):
        assert re.search(rf"^{label}\s", shown, re.MULTILINE), shown
    assert re.search(r"承诺期限 \d{4}-\d\d-\d\d", shown) and "个工作日" in shown
    refused = cli("case", "show", "not-a-case", ok=False)
    assert "error: input.case: 案件标识不正确" in refused.stderr
    english = cli("case", "show", case, env={"LANG": "en_US.UTF-8"})
    assert field_of(english, "case number") == field_of_zh(shown, "受理号")
    assert "working days left" in english.stdout and "承诺期限" not in english.stdout


def field_of_zh(result: object, label: str) -> str:
    found = re.search(rf"^{label}\s+(\S+)", str(getattr(result, "stdout", result)), re.MULTILINE)
    assert found, f"no {label!r} in:\n{getattr(result, 'stdout', result)}"
    return found.group(1)
