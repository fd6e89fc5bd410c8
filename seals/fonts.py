"""Where the embedded Chinese font comes from.

Result documents embed a TrueType font so that every reader shows the same glyphs and text
extraction works. reportlab's built-in ``STSong-Light`` is a non-embedded CID font, so it is
not used. The default is Debian's ``fonts-arphic-uming`` (AR PL UMing, a Song/Ming face: official
documents are set in Song, not in a sans); ``CASELEDGER_FONT`` overrides it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Lock

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont as FontToolsFont
from fontTools.ttLib import TTLibError
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from seals.errors import FontMissing

__all__ = [
    "DEFAULT_FONT_PATH",
    "FONT_ENV",
    "GlyphOutline",
    "font_path",
    "glyph_outline",
    "register_font",
]

DEFAULT_FONT_PATH = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
FONT_ENV = "CASELEDGER_FONT"

_lock = Lock()


def font_path(environ: dict[str, str] | None = None) -> Path:
    """The font file to embed: ``CASELEDGER_FONT`` if set, else Debian's AR PL UMing.

    Raises FontMissing if that file does not exist.
    """
    env = os.environ if environ is None else environ
    override = env.get(FONT_ENV, "").strip()
    path = Path(override) if override else DEFAULT_FONT_PATH
    if not path.is_file():
        hint = (
            f"set {FONT_ENV} to a TrueType font with Chinese glyphs"
            if override
            else f"install the Debian package fonts-arphic-uming or set {FONT_ENV}"
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


PathCommand = tuple[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class GlyphOutline:
    """One glyph as path commands in em units (1.0 = the font size), and its advance width.

    Commands are ``("M", (x, y))``, ``("L", (x, y))``, ``("C", (x1, y1, x2, y2, x, y))`` and
    ``("Z", ())``.
    """

    commands: tuple[PathCommand, ...]
    advance: float


class _CubicRecorder(BasePen):  # type: ignore[misc]
    """Records a glyph's outline with quadratic segments turned into cubic ones."""

    def __init__(self, glyph_set: object, scale: float) -> None:
        super().__init__(glyph_set)
        self.scale = scale
        self.commands: list[PathCommand] = []

    def _point(self, *points: tuple[float, float]) -> tuple[float, ...]:
        return tuple(v * self.scale for p in points for v in p)

    def _moveTo(self, pt: tuple[float, float]) -> None:  # noqa: N802 (fontTools' names)
        self.commands.append(("M", self._point(pt)))

    def _lineTo(self, pt: tuple[float, float]) -> None:  # noqa: N802
        self.commands.append(("L", self._point(pt)))

    def _curveToOne(  # noqa: N802
        self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]
    ) -> None:
        self.commands.append(("C", self._point(p1, p2, p3)))

    def _closePath(self) -> None:  # noqa: N802
        self.commands.append(("Z", ()))


@lru_cache(maxsize=4)
def _open_font(path: Path) -> FontToolsFont:
    try:
        return FontToolsFont(str(path), fontNumber=0, lazy=True)
    except (TTLibError, OSError) as exc:
        raise FontMissing(f"the font file {path} cannot be used: {exc}") from None


@lru_cache(maxsize=512)
def _outline(path: Path, char: str) -> GlyphOutline:
    font = _open_font(path)
    with _lock:  # fontTools' lazy tables are not safe to load from two threads at once
        glyph_name = font.getBestCmap().get(ord(char), ".notdef")
        glyph_set = font.getGlyphSet()
        glyph = glyph_set[glyph_name]
        pen = _CubicRecorder(glyph_set, 1.0 / font["head"].unitsPerEm)
        glyph.draw(pen)
        return GlyphOutline(tuple(pen.commands), glyph.width * pen.scale)


def glyph_outline(char: str, path: Path | None = None) -> GlyphOutline:
    """The outline of ``char`` in the embedded font, for drawing a glyph as a picture.

    The visible seal draws its lettering this way, as a carved seal is a picture and not
    text: a text extractor then reads the document, not the seal. Characters the font lacks
    come out as its ``.notdef`` glyph. Raises FontMissing if the font cannot be read.
    """
    if len(char) != 1:
        raise FontMissing(f"glyph_outline takes one character, not {char!r}")
    return _outline((font_path() if path is None else path).resolve(), char)
