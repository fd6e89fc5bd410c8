"""Which language a person at this terminal reads: Chinese unless the locale asks for English.

The office works in Chinese, so Chinese is the default, also for the ``C``/``POSIX`` locales a
server or container starts with. English is chosen only when the locale names it
(``LANG=en_US.UTF-8``), looked up in the POSIX order: ``LC_ALL``, then ``LC_MESSAGES``, then
``LANG``; the first one set decides. Texts come in pairs (中文, English) from tables, one entry
per stable key, as :mod:`ledger.messages` does for error codes.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = ["english", "pad", "pick", "render"]

_ORDER = ("LC_ALL", "LC_MESSAGES", "LANG")


def english(environ: Mapping[str, str] | None = None) -> bool:
    """True when the locale asks for English (``en``, ``en_US.UTF-8``, ``en_GB`` …)."""
    env = os.environ if environ is None else environ
    for name in _ORDER:
        value = env.get(name, "")
        if value:
            return value.lower().startswith("en")
    return False


def pick(texts: tuple[str, str], environ: Mapping[str, str] | None = None) -> str:
    """The Chinese or the English of a (中文, English) pair, as the locale asks."""
    return texts[1] if english(environ) else texts[0]


def render(table: Mapping[str, tuple[str, str]], key: str, /, **args: Any) -> str:
    """The text of ``key`` in ``table``, in the locale's language, with ``args`` filled in.

    A missing key is a programming error (a test checks every key used is in its table).
    """
    return pick(table[key]).format(**args)


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces to ``width`` terminal columns (a Chinese character takes
    two), so that labels in either language line up."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)
