"""Chinese help for a command tree: the walker both command lines use, and the verifier's texts.

The English of each command and option is its help text in the code; the Chinese comes from a
table keyed by command path (``caseledger-verify pdf``) or path and parameter name
(``caseledger-verify pdf file``), ``* name`` standing for a parameter of that name anywhere.
:func:`localise` writes the Chinese into a built (Click) command tree once, as the program
starts, unless the locale asks for English (:mod:`ledger.language`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.language import english

__all__ = ["VERIFY_HELP_ZH", "help_text", "localise"]

_HELP_OPTION = "显示此帮助并退出。"
# Typer's own words around the help (its rich panels).
_PANELS = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "ABORTED_TEXT": "已中止。",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
}

VERIFY_HELP_ZH: dict[str, str] = {
    "* trust": "机关的信任文件 trust.json（在其网站公布）。",
    "* as_json": "以 JSON 输出核验结论。",
    "* time_limit": "核验超过此秒数（墙钟和处理器时间）即停止：退出码 2。",
    "* memory_limit": "核验所需内存超过此 MiB 数即停止：退出码 2。",
    # The verifier
    "caseledger-verify": "离线核验 caseledger 盖章结果、审计包或日志，依据机关的 trust.json。"
    "退出码：0 通过，1 未通过，2 无法确定，3 输入无法读取。",
    "caseledger-verify verbose": "输入无法读取时显示调用栈。",
    "caseledger-verify pdf": "核验盖章结果 PDF：印章、证书、改动、办件凭证、页面文字，以及"
    "（加 --status 或 --online）本机关此后是否撤销或替换了它。",
    "caseledger-verify pdf file": "盖章结果 PDF。",
    "caseledger-verify pdf at": "按此 UTC 时间判断（YYYY-MM-DDTHH:MM:SSZ）；默认现在。",
    "caseledger-verify pdf status": "保存的该文件状态声明（GET /v1/public/results/SHA256）。",
    "caseledger-verify pdf online": "向本机关（信任文件中的网址）查询该文件是否仍然有效。"
    "这是核验工具唯一的联网操作。",
    "caseledger-verify pdf max_inflated": "PDF 的数据流解压后超过此 MiB 数即拒绝：退出码 3。",
    "caseledger-verify pdf max_cmap_entries": "PDF 的字符映射表超过此项数即拒绝：退出码 3。",
    "caseledger-verify bundle": "核验审计包：每个签名、办理规则、日志包含证明、检查点。",
    "caseledger-verify bundle file": "审计包（或办件凭证）JSON。",
    "caseledger-verify consistency": "核验较新检查点的日志原样延续了较早的日志。",
    "caseledger-verify consistency old": "您信任的较早的检查点（签名说明）。",
    "caseledger-verify consistency new": "较新的检查点（签名说明）。",
    "caseledger-verify consistency proof": "一致性证明：日志的 JSON 应答，或 base64 行。",
}


def help_text(table: Mapping[str, str], path: str, param: str | None = None) -> str | None:
    """The Chinese help of a command (``param`` None) or of one of its parameters."""
    if param is None:
        return table.get(path)
    return table.get(f"{path} {param}") or table.get(f"* {param}")


def localise(command: Any, path: str, table: Mapping[str, str]) -> Any:
    """``command`` (a built Click command tree named ``path``) with the Chinese help of
    ``table``, unless the locale asks for English; returned for chaining."""
    if english():
        return command
    import typer.rich_utils as panels

    for name, text in _PANELS.items():
        setattr(panels, name, text)
    _localise(command, path, table)
    return command


def _localise(command: Any, path: str, table: Mapping[str, str]) -> None:
    text = help_text(table, path)
    if text is not None:
        command.help = text
        command.short_help = None
    for param in command.params:
        param_text = help_text(table, path, param.name)
        if param_text is not None and hasattr(param, "help"):
            param.help = param_text
    _chinese_help_option(command)
    for name, sub in (getattr(command, "commands", None) or {}).items():
        _localise(sub, f"{path} {name}", table)


def _chinese_help_option(command: Any) -> None:
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            option.help = _HELP_OPTION
        return option

    command.get_help_option = get_help_option
