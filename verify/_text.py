"""What the sealed page says: text extraction from the signed revision, and the match with
the receipt.

A result document prints a line ``案件编号：<case number>`` and a line ``办理结果：<outcome>``
(see the seal service's renderer). The text is extracted from the bytes the seal covers by
reading the pages' content streams (pikepdf) and mapping each shown string through its font's
ToUnicode map, so a value written only into metadata and not drawn on a page does not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

import pikepdf

from ledger.state import case_number

__all__ = [
    "CMAP_READ_BYTES",
    "MAX_CONTENT_BYTES",
    "PageText",
    "case_number",
    "cmap_entries",
    "match_problems",
    "page_text",
]

_NUMBER = re.compile(r"案件编号[：:]\s*([0-9A-Za-z-]{4,64})")
_OUTCOME = re.compile(r"办理结果[：:]\s*([^\s：:]{2,40})")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
# How much of a ToUnicode stream is read, and how much content a page or form may draw.
CMAP_READ_BYTES = 4 * 1024 * 1024
MAX_CONTENT_BYTES = 16 * 1024 * 1024
# What the printed outcome begins with, for each outcome a Decided step can record.
OUTCOME_PREFIXES = {
    "approved": ("准予", "同意", "批准"),
    "denied": ("不予", "驳回"),
    # What a notice prints for the step it answers (see verify.pdf NOTICE_OUTCOMES).
    "accepted": ("予以受理",),
    "supplement": ("需补正", "补正"),
    "not_accepted": ("不予受理",),
    "extended": ("延长",),
    "revoked": ("撤销",),
}


@dataclass(frozen=True, slots=True)
class PageText:
    """The text drawn on the sealed pages, and whether extraction worked at all."""

    text: str
    pages: int


def page_text(signed_bytes: bytes, max_pages: int) -> PageText:
    """The text drawn on every page of the signed revision, one line per text positioning.

    Strings shown by ``Tj``, ``'``, ``"`` and ``TJ`` are mapped to Unicode through each font's
    ToUnicode CMap (codes of the CMap's code-space length); text in form XObjects the page
    draws is included. Raises ValueError if the pages cannot be read (the caller reports an
    indeterminate check).
    """
    try:
        with pikepdf.open(BytesIO(signed_bytes)) as pdf:
            count = len(pdf.pages)
            if count > max_pages:
                raise ValueError(f"the document has {count} pages, more than {max_pages}")
            parts = [_drawn_text(page.obj, depth=0) for page in pdf.pages]
    except (pikepdf.PdfError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        if "bad_alloc" in str(exc):
            # qpdf's C++ ran out of the sandbox's memory: a limit stopped the check, as a
            # MemoryError in Python would.
            raise MemoryError(str(exc)) from None
        reason = str(exc).split(": ", 1)[-1] if str(exc).startswith("stream ") else str(exc)
        raise ValueError(f"the page text cannot be extracted: {reason}") from None
    return PageText("\n".join(parts), count)


def _drawn_text(container: pikepdf.Object, depth: int) -> str:
    """Text shown by a page or form XObject's content stream (forms nested at most 3 deep)."""
    fonts = _resource(container, "/Font")
    xobjects = _resource(container, "/XObject")
    _check_content_size(container)
    cmaps: dict[str, _CMap] = {}
    current: _CMap | None = None
    out: list[str] = []
    for instruction in pikepdf.parse_content_stream(container):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue  # an inline image: no text
        operands, op = instruction.operands, str(instruction.operator)
        if op == "Tf" and operands:
            name = str(operands[0])
            if name not in cmaps:
                cmaps[name] = _CMap.of_font(fonts.get(name) if fonts is not None else None)
            current = cmaps[name]
        elif op in _SHOW and operands and current is not None:
            out.append(current.decode(bytes(operands[-1])))
        elif op == "TJ" and operands and current is not None:
            out.extend(
                current.decode(bytes(i)) for i in operands[0] if isinstance(i, pikepdf.String)
            )
        elif op in _BREAK:
            out.append("\n")
        elif op == "Do" and operands and xobjects is not None and depth < 3:
            form = xobjects.get(str(operands[0]))
            if isinstance(form, pikepdf.Stream) and form.get("/Subtype") == "/Form":
                out.append("\n" + _drawn_text(form, depth + 1) + "\n")
    return _BLANK_LINES.sub("\n", "".join(out))


def _check_content_size(container: pikepdf.Object) -> None:
    """Raise ValueError if what ``container`` draws is over MAX_CONTENT_BYTES: the content
    parser makes an object of every token, so its memory grows many times the stream's size."""
    contents = container.get("/Contents") if "/Contents" in container else container
    streams = contents if isinstance(contents, pikepdf.Array) else [contents]
    size = sum(len(s.read_bytes()) for s in streams if isinstance(s, pikepdf.Stream))
    if size > MAX_CONTENT_BYTES:
        raise ValueError(f"a page draws {size} bytes of content, more than {MAX_CONTENT_BYTES}")


def _resource(container: pikepdf.Object, kind: str) -> pikepdf.Dictionary | None:
    resources = container.get("/Resources")
    if resources is None and isinstance(container, pikepdf.Dictionary):
        # Pages may inherit resources from their ancestors in the page tree.
        resources = pikepdf.Page(container).resources if "/Parent" in container else None
    found = resources.get(kind) if isinstance(resources, pikepdf.Dictionary) else None
    return found if isinstance(found, pikepdf.Dictionary) else None


_BLANK_LINES = re.compile(r"\n\s*\n+")
_SHOW = frozenset({"Tj", "'", '"'})
_BREAK = frozenset({"BT", "ET", "Td", "TD", "T*", "Tm", "'", '"'})
_HEX = r"<([0-9A-Fa-f]+)>"
_BFCHAR = re.compile(rf"{_HEX}\s*{_HEX}")
_BFRANGE = re.compile(rf"{_HEX}\s*{_HEX}\s*(?:{_HEX}|\[((?:\s*<[0-9A-Fa-f]+>)*)\s*\])")
_CIDCHAR = re.compile(rf"{_HEX}\s*\d+")
_CIDRANGE = re.compile(rf"{_HEX}\s*{_HEX}\s*\d+")
_ENTRY = {"bfchar": _BFCHAR, "bfrange": _BFRANGE, "cidchar": _CIDCHAR, "cidrange": _CIDRANGE}
_MARK = re.compile(r"(begin|end)(bfchar|bfrange|cidchar|cidrange|codespacerange)")
_MAX_RANGE = 65_536
# Codes one CMap may expand to in all (a 2-byte CMap has 65,536): ranges that repeat or
# overlap cannot make the parser do more work than this.
_MAX_CODES = 4 * 65_536


def _blocks(text: str) -> Iterator[tuple[str, str]]:
    """Each ``begin<kind> … end<kind>`` block of a CMap as (kind, body), in one pass (a
    lazy regex over unterminated blocks would rescan the text for every ``begin``)."""
    kind, start = "", 0
    for mark in _MARK.finditer(text):
        if mark.group(1) == "begin":
            kind, start = mark.group(2), mark.end()
        elif mark.group(2) == kind:
            yield kind, text[start : mark.start()]
            kind = ""


def cmap_entries(text: str) -> int:
    """How many bfchar, bfrange, cidchar and cidrange entries the CMap ``text`` holds."""
    return sum(
        sum(1 for _ in _ENTRY[kind].finditer(body))
        for kind, body in _blocks(text)
        if kind in _ENTRY
    )


@dataclass(frozen=True, slots=True)
class _CMap:
    """A font's code → Unicode map (from its ToUnicode CMap) and its code length in bytes."""

    width: int
    table: dict[int, str]

    @classmethod
    def of_font(cls, font: object) -> _CMap:
        """The map of ``font``; fonts without a readable ToUnicode map decode nothing."""
        stream = font.get("/ToUnicode") if isinstance(font, pikepdf.Dictionary) else None
        if not isinstance(stream, pikepdf.Stream):
            return cls(1, {})
        return cls.parse(stream.read_bytes()[:CMAP_READ_BYTES].decode("latin-1"))

    @classmethod
    def parse(cls, text: str) -> _CMap:
        width, table, budget = 1, {}, _MAX_CODES
        for kind, body in _blocks(text):
            if kind == "codespacerange":
                first = _BFCHAR.search(body)
                width = max(1, len(first.group(1)) // 2) if first else width
            elif kind == "bfchar":
                for code, uni in _BFCHAR.findall(body)[:budget]:
                    table[int(code, 16)] = _utf16(uni)
                    budget -= 1
            elif kind == "bfrange":
                budget = cls._ranges(body, table, budget)
        return cls(width, table)

    @staticmethod
    def _ranges(body: str, table: dict[int, str], budget: int) -> int:
        """Add the bfrange entries of ``body`` to ``table``; return the budget left."""
        for low, high, start, listed in _BFRANGE.findall(body):
            lo, hi = int(low, 16), int(high, 16)
            if hi < lo or hi - lo > _MAX_RANGE or hi - lo >= budget:
                continue
            budget -= hi - lo + 1
            if listed:
                for offset, uni in enumerate(re.findall(_HEX, listed)[: hi - lo + 1]):
                    table[lo + offset] = _utf16(uni)
            else:
                base = _utf16(start)
                for offset in range(hi - lo + 1):
                    table[lo + offset] = base[:-1] + chr(ord(base[-1]) + offset) if base else ""
        return budget

    def decode(self, data: bytes) -> str:
        w = self.width
        codes = (int.from_bytes(data[i : i + w], "big") for i in range(0, len(data), w))
        return "".join(self.table.get(code, "") for code in codes)


def _utf16(hex_text: str) -> str:
    raw = bytes.fromhex(hex_text if len(hex_text) % 2 == 0 else hex_text + "0")
    return raw.decode("utf-16-be", errors="replace").replace("\x00", "")


def match_problems(text: str, expected_number: str, case_id: str, outcome: str) -> list[str]:
    """What the page text gets wrong against the receipt (empty list = it matches).

    The page must print the case number (or the full case id) after every ``案件编号：`` and
    an outcome word of the decided outcome after every ``办理结果：``, at least once each.
    Pages sealed before the number carried the whole case id print the first release's short
    form (date and 12 hex digits, :func:`ledger.state.legacy_case_number`); it is accepted too,
    being cut from this same receipt's case id.
    """
    flat = _SPACES.sub("", text)
    problems = []
    numbers = _NUMBER.findall(flat)
    legacy = expected_number.upper()[: len("YYYYMMDD-") + 12]
    accepted = {expected_number.upper(), legacy, case_id.lower(), case_id.upper()}
    if not numbers:
        problems.append("the page shows no case number (案件编号)")
    elif any(n not in accepted for n in numbers):
        shown = ", ".join(sorted({n for n in numbers if n not in accepted}))
        problems.append(f"the page shows case number {shown}, the receipt is {expected_number}")
    outcomes = _OUTCOME.findall(flat)
    prefixes = OUTCOME_PREFIXES.get(outcome, ())
    if not outcomes:
        problems.append("the page shows no outcome (办理结果)")
    elif any(not o.startswith(prefixes) for o in outcomes):
        shown = ", ".join(sorted(set(outcomes)))
        problems.append(f"the page shows outcome {shown}, the receipt's decision is {outcome}")
    return problems
