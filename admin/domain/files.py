"""Content checks for student files: the photo (form item 13) and proof documents.

Everything is decided from the bytes, never from the file name or the MIME type a browser
sent. Images (JPEG, PNG) are opened with Pillow, verified, loaded in full (a truncated file
fails here), checked against a pixel limit (decompression bombs) and re-encoded, which drops
EXIF and every other metadata chunk; the EXIF orientation is applied first so that a phone
photo keeps its right way up. Photos are also scaled down to a maximum side. PDFs are kept
byte for byte, but must look like a whole PDF (``%PDF-`` at the start, ``%%EOF`` near the end)
and carry no active content (JavaScript, launch actions, embedded files), looked for in the
plain bytes and inside Flate-compressed streams, with ``#xx`` name escapes decoded.

Refusals are ``Violation`` objects naming the field (photo / proof document) and the rule.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .messages import Violation

PHOTO = "photo"
PROOF = "proof"
KINDS: tuple[str, ...] = (PHOTO, PROOF)

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {PHOTO: (JPEG, PNG), PROOF: (PDF, JPEG, PNG)}
_ALLOWED_TEXT = {
    PHOTO: ("JPEG、PNG", "JPEG or PNG"),
    PROOF: ("PDF、JPEG、PNG", "PDF, JPEG or PNG"),
}
_PILLOW_FORMATS = {"JPEG": JPEG, "PNG": PNG}

# PDF names that run code, start programs or carry other files. Matched after decoding
# `#xx` escapes (`/J#61vaScript` is `/JavaScript`).
PDF_FORBIDDEN_NAMES = frozenset(
    {"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "GoToE"}
)
_PDF_NAME = re.compile(rb"/([^\s/\[\]<>(){}%]+)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
_ASCII_HEX = re.compile(rb"[0-9A-Fa-f\s]*")
_PDF_EOF_WINDOW = 1024
# Inflating a 2 MB upload may not produce more than this (a Flate bomb is refused).
PDF_MAX_INFLATED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int = 2 * 1024 * 1024
    max_pixels: int = 25_000_000
    photo_max_side: int = 1024
    jpeg_quality: int = 90


@dataclass(frozen=True)
class CleanFile:
    """What may be stored: re-encoded image bytes, or the unchanged PDF."""

    data: bytes
    mime_type: str
    width: int | None = None
    height: int | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime_type]


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def field_for(kind: str) -> str:
    """The message field of a file kind: photo, proof, or the generic file."""
    return kind if kind in KINDS else "file"


def _type_violation(kind: str) -> Violation:
    zh, en = _ALLOWED_TEXT[kind]
    return Violation("file.type", field_for(kind), {"allowed_zh": zh, "allowed_en": en})


def clean_file(
    kind: str, data: bytes | None, limits: FileLimits | None = None
) -> tuple[CleanFile | None, list[Violation]]:
    """Check an upload of `kind` (photo | proof) by its content.

    Returns the bytes to store and their MIME type, or the violations that refuse it."""
    limits = limits or FileLimits()
    if kind not in KINDS:
        return None, [Violation("file.kind", "file_kind", {})]
    field = field_for(kind)
    if data is None:
        return None, [Violation("file.missing", field, {})]
    if len(data) == 0:
        return None, [Violation("file.empty", field, {})]
    if len(data) > limits.max_bytes:
        return None, [
            Violation(
                "file.too_large",
                field,
                {"size": human_size(len(data)), "limit": human_size(limits.max_bytes)},
            )
        ]
    if data.startswith(b"%PDF-"):
        if PDF not in ALLOWED_TYPES[kind]:
            return None, [_type_violation(kind)]
        problems = check_pdf(data, field)
        return (None, problems) if problems else (CleanFile(data, PDF), [])
    return clean_image(kind, data, limits)


# --- images ----------------------------------------------------------------------------------


def clean_image(
    kind: str, data: bytes, limits: FileLimits
) -> tuple[CleanFile | None, list[Violation]]:
    field = field_for(kind)
    with warnings.catch_warnings():
        # The pixel limit below is ours; Pillow's own warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(_PILLOW_FORMATS)) as probe:
                pillow_format = str(probe.format)
                width, height = probe.size
                if width * height > limits.max_pixels:
                    return None, [_pixels_violation(field, width, height, limits)]
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                image.load()  # a truncated JPEG fails here, not in verify()
                out, size = _reencode(image, pillow_format, kind, limits)
        except UnidentifiedImageError:
            return None, [_type_violation(kind)]
        except Image.DecompressionBombError:
            return None, [_pixels_violation(field, 0, 0, limits)]
        except Exception:  # Pillow raises OSError, SyntaxError, ValueError, struct.error …
            return None, [Violation("file.corrupt", field, {})]
    mime = _PILLOW_FORMATS[pillow_format]
    if mime not in ALLOWED_TYPES[kind]:
        return None, [_type_violation(kind)]
    return CleanFile(out, mime, size[0], size[1]), []


def _pixels_violation(field: str, width: int, height: int, limits: FileLimits) -> Violation:
    return Violation(
        "file.too_many_pixels",
        field,
        {"width": width or "?", "height": height or "?", "limit": limits.max_pixels},
    )


def _reencode(
    image: Image.Image, pillow_format: str, kind: str, limits: FileLimits
) -> tuple[bytes, tuple[int, int]]:
    """Apply the EXIF orientation, shrink photos, and write fresh bytes without metadata."""
    upright = ImageOps.exif_transpose(image)  # a new image
    if kind == PHOTO:
        side = limits.photo_max_side
        upright.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if pillow_format == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.info = {}  # no EXIF, ICC profile, comments, XMP …
        upright.save(buffer, "JPEG", quality=limits.jpeg_quality, optimize=True)
    else:
        transparency = upright.info.get("transparency")
        upright.info = {}
        extra = {"transparency": transparency} if transparency is not None else {}
        upright.save(buffer, "PNG", **extra)
    return buffer.getvalue(), upright.size


def has_metadata(data: bytes) -> bool:
    """Does an image still carry EXIF (or XMP/ICC/text chunks)? For checks and tests."""
    with Image.open(io.BytesIO(data)) as image:
        keys = set(image.info) & {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp", "comment"}
        return bool(keys) or len(image.getexif()) > 0


# --- PDF -------------------------------------------------------------------------------------


def check_pdf(data: bytes, field: str = PROOF) -> list[Violation]:
    """A whole PDF without active content, or the violations that refuse it."""
    if not data.startswith(b"%PDF-"):
        return [_type_violation(PROOF)]
    if b"%%EOF" not in data[-_PDF_EOF_WINDOW:]:
        return [Violation("file.corrupt", field, {})]
    try:
        names = set(_pdf_names(data))
    except _InflateLimit:
        return [Violation("file.corrupt", field, {})]
    found = sorted(PDF_FORBIDDEN_NAMES & names)
    if found:
        return [
            Violation(
                "file.pdf_active_content", field, {"marker": ", ".join("/" + n for n in found)}
            )
        ]
    if "Encrypt" in names:
        return [Violation("file.pdf_encrypted", field, {})]
    return []


class _InflateLimit(Exception):
    pass


def _pdf_names(data: bytes) -> Iterator[str]:
    """Every PDF name in the file, including those inside Flate-compressed streams (object
    streams hide dictionaries there since PDF 1.5)."""
    for chunk in (data, *_inflated_streams(data)):
        for match in _PDF_NAME.finditer(chunk):
            raw = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
            yield raw.decode("latin-1")


def _inflated_streams(data: bytes) -> Iterator[bytes]:
    """The decoded content of every stream that is Flate-compressed, possibly under an
    ASCIIHex or ASCII85 layer. A damaged tail still yields what inflated before it."""
    budget = [PDF_MAX_INFLATED_BYTES]
    for match in _PDF_STREAM.finditer(data):
        start = match.end()
        end = data.find(b"endstream", start)
        segment = data[start : end if end >= 0 else len(data)]
        for candidate in _unwrapped(segment):
            chunk = _inflate(candidate, budget)
            if chunk:
                yield chunk
                break


def _unwrapped(segment: bytes) -> Iterator[bytes]:
    yield segment
    text = segment.strip()
    if text.endswith(b"~>"):
        try:
            body = text if text.startswith(b"<~") else text[:-2]
            yield base64.a85decode(body, adobe=body is text, ignorechars=b" \t\r\n")
        except ValueError:
            pass
    elif text.endswith(b">") and _ASCII_HEX.fullmatch(text[:-1]):
        digits = re.sub(rb"\s+", b"", text[:-1])
        yield bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))


def _inflate(segment: bytes, budget: list[int]) -> bytes:
    inflater = zlib.decompressobj()
    out = bytearray()
    for offset in range(0, len(segment), 1024):
        try:
            out += inflater.decompress(segment[offset : offset + 1024], budget[0] + 1 - len(out))
        except zlib.error:
            break
        if len(out) > budget[0] or inflater.unconsumed_tail:
            raise _InflateLimit
        if inflater.eof:
            break
    budget[0] -= len(out)
    return bytes(out)
