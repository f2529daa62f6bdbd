"""Content rules for student files (admin.domain.files): decided from the bytes, images
re-encoded without metadata, PDFs whole and without active content."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from admin.domain.files import (
    JPEG,
    PDF,
    PNG,
    FileLimits,
    check_pdf,
    clean_file,
    has_metadata,
)
from tests.uploads.conftest import jpeg_with_exif, pdf_bytes, png_bytes

LIMITS = FileLimits()


def _codes(result) -> list[str]:
    return [v.code for v in result[1]]


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# --- images ----------------------------------------------------------------------------------


def test_photo_jpeg_is_reencoded_upright_small_and_without_exif() -> None:
    original = jpeg_with_exif((1600, 1200), orientation=6)
    assert has_metadata(original)
    clean, problems = clean_file("photo", original, LIMITS)
    assert problems == [] and clean is not None
    assert clean.mime_type == JPEG
    assert clean.data != original
    assert not has_metadata(clean.data)
    image = _open(clean.data)
    assert image.format == "JPEG"
    assert "exif" not in image.info and len(image.getexif()) == 0
    # Orientation 6 (rotate 90° CW) applied before stripping, then scaled to 1024 px.
    assert image.size == (768, 1024) == (clean.width, clean.height)
    # The blue marker of the top-left corner is now in the top-right corner.
    r, g, b = image.convert("RGB").getpixel((image.width - 20, 20))
    assert b > 150 and r < 80


def test_photo_png_stays_png_with_alpha() -> None:
    clean, problems = clean_file("photo", png_bytes((300, 400)), LIMITS)
    assert problems == [] and clean is not None
    image = _open(clean.data)
    assert clean.mime_type == PNG and image.format == "PNG"
    assert image.mode == "RGBA" and image.size == (300, 400)


def test_proof_image_keeps_its_size_but_loses_exif() -> None:
    clean, problems = clean_file("proof", jpeg_with_exif((1600, 1200), orientation=1), LIMITS)
    assert problems == [] and clean is not None
    assert _open(clean.data).size == (1600, 1200)
    assert not has_metadata(clean.data)


def test_cmyk_jpeg_becomes_rgb() -> None:
    buffer = io.BytesIO()
    Image.new("CMYK", (50, 50), (0, 100, 100, 0)).save(buffer, "JPEG")
    clean, problems = clean_file("photo", buffer.getvalue(), LIMITS)
    assert problems == [] and clean is not None
    assert _open(clean.data).mode == "RGB"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"This is a text file with a .jpg name\n", "file.type"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "file.type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "file.type"),
        (jpeg_with_exif()[:3000], "file.corrupt"),  # truncated
        (png_bytes()[:-20], "file.corrupt"),  # IEND and the last CRC cut off
        (b"", "file.empty"),
        (None, "file.missing"),
    ],
    ids=["text", "gif", "svg", "truncated-jpeg", "truncated-png", "empty", "missing"],
)
def test_bad_photos_are_refused(data, code) -> None:
    assert _codes(clean_file("photo", data, LIMITS)) == [code]


def test_too_large_is_refused_before_decoding() -> None:
    clean, problems = clean_file("photo", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), LIMITS)
    assert clean is None
    assert [p.code for p in problems] == ["file.too_large"]
    assert problems[0].message("zh_CN") == "照片：文件大小为 2.0 MB，超过上限 2.0 MB"


def test_decompression_bomb_is_refused_by_pixel_count() -> None:
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, "PNG")  # 64 Mpx in a few kilobytes
    assert len(buffer.getvalue()) < 100_000
    clean, problems = clean_file("photo", buffer.getvalue(), LIMITS)
    assert clean is None and [p.code for p in problems] == ["file.too_many_pixels"]
    assert "8000×8000" in problems[0].message("en")


def test_pdf_is_not_a_photo() -> None:
    assert _codes(clean_file("photo", pdf_bytes(), LIMITS)) == ["file.type"]


def test_unknown_kind_is_refused() -> None:
    assert _codes(clean_file("avatar", png_bytes(), LIMITS)) == ["file.kind"]


def test_messages_name_the_field_and_the_rule_in_both_languages() -> None:
    _, photo = clean_file("photo", b"text", LIMITS)
    _, proof = clean_file("proof", b"text", LIMITS)
    assert photo[0].message("zh_CN").startswith("照片：只接受 JPEG、PNG 文件")
    assert photo[0].message("en").startswith("Photo: only JPEG or PNG files are accepted")
    assert proof[0].message("zh_CN").startswith("证明材料：只接受 PDF、JPEG、PNG 文件")
    assert proof[0].message("en").startswith("Proof document: only PDF, JPEG or PNG files")


# --- PDF -------------------------------------------------------------------------------------


def test_clean_pdf_is_kept_byte_for_byte() -> None:
    data = pdf_bytes()
    clean, problems = clean_file("proof", data, LIMITS)
    assert problems == [] and clean is not None
    assert clean.data == data and clean.mime_type == PDF


def _object_stream(body: bytes) -> bytes:
    packed = zlib.compress(b"5 0 " + body)
    return (
        b"5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length %d /Filter /FlateDecode >>\nstream\n"
        % len(packed)
        + packed
        + b"\nendstream\nendobj\n"
    )


@pytest.mark.parametrize(
    ("data", "code", "marker"),
    [
        (b"%PDX-1.7\n" + pdf_bytes()[9:], "file.type", None),
        (b"\n" + pdf_bytes(), "file.type", None),
        (pdf_bytes()[:-200], "file.corrupt", None),
        (pdf_bytes(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "), "", "/JS"),
        (pdf_bytes(b"/OpenAction << /S /J#61vaScript /J#53 (x) >> "), "", "/JavaScript"),
        (pdf_bytes(b"/OpenAction << /S /Launch /F (cmd.exe) >> "), "", "/Launch"),
        (pdf_bytes(b"/Names << /EmbeddedFiles << >> >> "), "", "/EmbeddedFiles"),
        (pdf_bytes(extra_objects=_object_stream(b"<< /S /JavaScript /JS 6 0 R >>")), "", "/JS"),
        (pdf_bytes(b"/Encrypt << /Filter /Standard >> "), "file.pdf_encrypted", None),
    ],
    ids=[
        "wrong-signature",
        "signature-not-at-start",
        "no-eof",
        "javascript",
        "escaped-javascript",
        "launch",
        "embedded-files",
        "javascript-in-object-stream",
        "encrypted",
    ],
)
def test_bad_pdfs_are_refused(data, code, marker) -> None:
    clean, problems = clean_file("proof", data, LIMITS)
    assert clean is None and len(problems) == 1
    assert problems[0].code == (code or "file.pdf_active_content")
    if marker:
        assert marker in problems[0].message("en")
        assert problems[0].message("zh_CN").startswith("证明材料：PDF 含有脚本")


def test_check_pdf_refuses_a_flate_bomb() -> None:
    bomb = zlib.compress(b"\0" * (80 * 1024 * 1024), 9)
    data = pdf_bytes(
        extra_objects=b"6 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb)
        + bomb
        + b"\nendstream\nendobj\n"
    )
    assert [v.code for v in check_pdf(data)] == ["file.corrupt"]
