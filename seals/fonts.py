"""Where the embedded Chinese font comes from.

Result documents embed a TrueType font so that every reader shows the same glyphs and text
extraction works. reportlab's built-in ``STSong-Light`` is a non-embedded CID font, so it is
not used. The default is Debian's ``fonts-wqy-zenhei``; ``CASELEDGER_FONT`` overrides it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from threading import Lock

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from seals.errors import FontMissing

__all__ = ["DEFAULT_FONT_PATH", "FONT_ENV", "font_path", "register_font"]

DEFAULT_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT_ENV = "CASELEDGER_FONT"

_lock = Lock()


def font_path(environ: dict[str, str] | None = None) -> Path:
    """The font file to embed: ``CASELEDGER_FONT`` if set, else Debian's WenQuanYi Zen Hei.

    Raises FontMissing if that file does not exist.
    """
    env = os.environ if environ is None else environ
    override = env.get(FONT_ENV, "").strip()
    path = Path(override) if override else DEFAULT_FONT_PATH
    if not path.is_file():
        hint = (
            f"set {FONT_ENV} to a TrueType font with Chinese glyphs"
            if override
            else f"install the Debian package fonts-wqy-zenhei or set {FONT_ENV}"
        )
        raise FontMissing(f"the font file {path} does not exist: {hint}")
    return path


def register_font(path: Path | None = None) -> str:
    """Register the font with reportlab once per file and return its reportlab name.

    For a TrueType collection (``.ttc``) the first face is used. Raises FontMissing if the
    file cannot be read as a TrueType font.
    """
    path = font_path() if path is None else path
    # The name is derived from the file so that an override and the default can coexist.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    name = f"CaseLedgerCJK-{digest}"
    with _lock:
        if name in pdfmetrics.getRegisteredFontNames():
            return name
        try:
            font = TTFont(name, str(path), subfontIndex=0)
        except (TTFError, OSError) as exc:
            raise FontMissing(f"the font file {path} cannot be used: {exc}") from None
        pdfmetrics.registerFont(font)
    return name
