"""What the command line says, in the language the locale asks for (Chinese by default).

- Help: the English is the help text beside each option in the code; the Chinese is
  :data:`cli.texts.help_zh.HELP_ZH`, keyed by command path and parameter name, written into
  the built command tree as the program starts (:func:`localise`, the walker of
  :mod:`verify.help`), unless the locale asks for English (``LANG=en_US.UTF-8``; see
  :mod:`ledger.language`).
- Output: :func:`say` and :func:`field` give the line of a stable key of
  :data:`cli.texts.output.OUTPUT` (中文, English), chosen when it is printed.
"""

from __future__ import annotations

from typing import Any

from cli.texts.help_zh import HELP_ZH
from cli.texts.output import OUTPUT
from ledger.language import pad, render
from verify import help as verify_help

__all__ = ["HELP_ZH", "OUTPUT", "chinese_help", "field", "localise", "say"]

LABEL_WIDTH = 15


def say(key: str, /, **args: Any) -> str:
    """The output text of ``key`` with ``args``, in the locale's language."""
    return render(OUTPUT, key, **args)


def field(key: str, value: object) -> str:
    """A ``label  value`` result line; labels line up in either language."""
    return f"{pad(say(key), LABEL_WIDTH)}{value}"


def chinese_help(path: str, param: str | None = None) -> str | None:
    """The Chinese help of a ``caseledger`` command (``param`` None) or of one of its options."""
    return verify_help.help_text(HELP_ZH, path, param)


def localise(command: Any) -> Any:
    """The built ``caseledger`` command tree with its Chinese help (unless English is asked)."""
    return verify_help.localise(command, "caseledger", HELP_ZH)
