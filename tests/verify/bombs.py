"""Hostile but well-formed sealed results: a ToUnicode CMap that costs hours to expand, and a
content stream that inflates to gigabytes. Both carry the genuine receipt and a genuine seal,
so the verifier reaches the part they attack."""

from __future__ import annotations

import zlib
from io import BytesIO

import pikepdf
from verifykit import Org, seal

CMAP_RANGES = 190_000
BOMB_GIB = 4


def _cmap_bomb_text(ranges: int) -> bytes:
    """A ToUnicode CMap with ``ranges`` bfrange lines, each mapping all 65,536 codes."""
    head = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + str(ranges).encode()
        + b" beginbfrange\n"
    )
    line = b"<0000> <FFFF> <4E00>\n"
    return (
        head
        + line * ranges
        + b"endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
    )


def _deflated_spaces(gib: int) -> bytes:
    """A zlib stream that inflates to ``gib`` GiB of spaces, made without ever holding them:
    after a full flush each 1 MiB block compresses to the same bytes, so that block is
    repeated, and the checksum of so many equal bytes has a closed form."""
    block = b" " * (1 << 20)
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    assert first[2:] == again
    return first[:2] + again * (gib * 1024) + tail[:-4] + _adler32_of_spaces(gib << 30)


def _adler32_of_spaces(length: int) -> bytes:
    """adler32 of ``length`` bytes 0x20: A = 1 + 32n, B = n + 32 n(n+1)/2 (mod 65521)."""
    low = (1 + 32 * length) % 65521
    high = (length + 32 * length * (length + 1) // 2) % 65521
    return ((high << 16) | low).to_bytes(4, "big")


def _encoded_stream(pdf: pikepdf.Pdf, data: bytes, filters: int) -> pikepdf.Stream:
    """A stream whose bytes are ``data`` as given, declared deflated ``filters`` times."""
    stream = pikepdf.Stream(pdf, data)
    # Set after construction, the filter declares the bytes already encoded.
    stream.Filter = pikepdf.Array([pikepdf.Name.FlateDecode] * filters)
    return pdf.make_indirect(stream)


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = BytesIO()
    # Keep the crafted streams exactly as written (no re-encoding, which would inflate them).
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def cmap_bomb(org: Org, unsealed: bytes, ranges: int = CMAP_RANGES) -> bytes:
    """The sealed result with its font's ToUnicode CMap replaced by ``ranges`` full ranges."""
    with pikepdf.open(BytesIO(unsealed)) as pdf:
        font = next(iter(pdf.pages[0].obj.Resources.Font.values()))
        font.ToUnicode = _encoded_stream(pdf, zlib.compress(_cmap_bomb_text(ranges), 9), 1)
        return seal(org, _save(pdf))


def content_bomb(org: Org, unsealed: bytes, gib: int = BOMB_GIB) -> bytes:
    """The sealed result with a second page content stream that inflates (twice deflated) to
    ``gib`` GiB."""
    with pikepdf.open(BytesIO(unsealed)) as pdf:
        page = pdf.pages[0]
        bomb = _encoded_stream(pdf, zlib.compress(_deflated_spaces(gib), 9), 2)
        page.obj.Contents = pikepdf.Array([page.obj.Contents, bomb])
        return seal(org, _save(pdf))
