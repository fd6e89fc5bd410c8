"""Before any parser sees a PDF: what its streams inflate to, and how many entries its CMaps
hold, read from the bytes alone.

A PDF parser inflates a deflated stream whole, and a stream may be deflated twice (a filter
chain), so a few kilobytes can stand for gigabytes; a ToUnicode CMap of a few kilobytes can ask
for billions of table entries. Both are measured here first, by a scan that cannot itself be
made slow: every ``stream`` keyword of the file starts a trial inflation, in bounded chunks,
that stops at the end of the deflated data, at the first byte that is not deflate, or as soon
as the total passes the cap. The scan ignores the stream dictionaries on purpose: a filter
written as an indirect object, or a wrong ``/Length``, does not hide a stream from it. Each
stage of a chain counts, so the total is an upper bound of what a parser would produce.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from verify._text import CMAP_READ_BYTES, cmap_entries
from verify.limits import VerifyLimits
from verify.verdict import InputUnreadable

__all__ = ["TOO_COMPLEX", "check_streams"]

TOO_COMPLEX = "input.too_complex"
_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_READ = 64 * 1024
_OUT = 1024 * 1024
_MAX_STAGES = 4


def _refuse(message: str) -> InputUnreadable:
    return InputUnreadable(message, code=TOO_COMPLEX)


class _Tally:
    """What the scan has read and inflated so far, against the caps; raises as soon as a cap
    is passed. Reading is capped too: trial inflations that overlap (a crafted file) could
    otherwise read the same bytes again and again."""

    def __init__(self, cap: int, read_cap: int) -> None:
        self.cap, self.total, self.read_cap, self.read = cap, 0, read_cap, 0

    def inflated(self, size: int) -> None:
        self.total += size
        if self.total > self.cap:
            raise _refuse(
                f"PDF 中的压缩数据解压后超过 {self.cap // (1024 * 1024)} MiB，不予处理；"
                f"the PDF's compressed streams inflate to more than {self.cap} bytes"
            )

    def consumed(self, size: int) -> None:
        self.read += size
        if self.read > self.read_cap:
            raise _refuse("PDF 的压缩数据相互重叠，不予处理；the PDF's compressed streams overlap")


class _Stage:
    """One inflation stage of one stream: counts what it inflates, keeps the first bytes (as
    many as the CMap reader reads), and feeds a next stage when its output is deflated again."""

    def __init__(self, tally: _Tally, depth: int) -> None:
        self.tally, self.depth = tally, depth
        self.inflater = zlib.decompressobj()
        self.head = bytearray()
        self.inner: _Stage | None = None
        self.done = False

    def feed(self, chunk: bytes) -> int:
        """Inflate ``chunk``; return how many of its bytes belonged to the deflated data."""
        pending = chunk
        while pending and not self.done:
            try:
                out = self.inflater.decompress(pending, _OUT)
            except zlib.error:
                self.done = True
                return len(chunk) if self.head else 0
            self._emit(out)
            pending = self.inflater.unconsumed_tail
            self.done = self.inflater.eof
        return len(chunk) - len(pending) - len(self.inflater.unused_data)

    def _emit(self, out: bytes) -> None:
        if not out:
            return
        self.tally.inflated(len(out))
        first = not self.head
        if len(self.head) < CMAP_READ_BYTES:
            self.head += out[: CMAP_READ_BYTES - len(self.head)]
        if first and self.depth < _MAX_STAGES and _looks_deflated(self.head):
            self.inner = _Stage(self.tally, self.depth + 1)
        if self.inner is not None and not self.inner.done:
            self.inner.feed(out)

    def heads(self) -> Iterator[bytes]:
        if self.head:
            yield bytes(self.head)
        if self.inner is not None:
            yield from self.inner.heads()


def check_streams(data: bytes, limits: VerifyLimits) -> None:
    """Return None if the streams of ``data`` inflate to at most ``limits.max_inflated_bytes``
    together and its CMaps hold at most ``limits.max_cmap_entries`` entries; raise
    InputUnreadable (code ``input.too_complex``) as soon as either is passed."""
    tally = _Tally(limits.max_inflated_bytes, read_cap=4 * len(data) + _OUT)
    entries = 0
    view = memoryview(data)
    for match in _STREAM.finditer(data):
        stage = _Stage(tally, depth=1)
        for offset in range(match.end(), len(view), _READ):
            tally.consumed(stage.feed(bytes(view[offset : offset + _READ])))
            if stage.done:
                break
        for head in stage.heads():
            entries += cmap_entries(head.decode("latin-1")) if b"begin" in head else 0
        if entries > limits.max_cmap_entries:
            raise _refuse(
                f"PDF 字体的字符映射表超过 {limits.max_cmap_entries} 项，不予处理；"
                f"the PDF's CMaps hold more than {limits.max_cmap_entries} entries"
            )


def _looks_deflated(head: bytes | bytearray) -> bool:
    """Whether inflated bytes begin like zlib data again (RFC 1950 header: deflate method,
    header check), i.e. the stream may carry a filter chain."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
