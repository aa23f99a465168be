"""Bounds on hostile input: one home for the limits and the small checks every entry point shares.

Everything a crafted file could make unbounded is checked against :class:`Limits` *before* the expensive step:

- frame size in pixels — from the image header (PNG, JPEG, BMP, GIF, WebP VP8X) before OpenCV decodes, from the
  DICOM header before pixel decoding, from the capture properties of a video, and again on every frame before
  preprocessing (:func:`check_frame`);
- decoded DICOM bytes — a deflated dataset is inflated with a cap before pydicom parses it, and frames × rows ×
  columns × samples × bytes is checked from the header before pixels held together are decoded;
- bytes read from a settings or key file (``/dev/zero`` fails at once, not at MemoryError);
- path components (> 255 bytes is refused with a message, not an ``OSError`` traceback);
- exam ids (printable, <= 64 characters) and anything echoed to a console (:func:`console_safe`).

Limits are process-wide (:func:`configure`, set once by ``liveredge run`` from ``[limits]`` / the CLI) because
sources and readers are built in many places; OpenCV's own backstop ``OPENCV_IO_MAX_IMAGE_PIXELS`` is set when
this module loads (see :data:`OPENCV_BACKSTOP_PIXELS`).
"""

from __future__ import annotations

import os
import stat
import struct
import unicodedata
from dataclasses import dataclass

from liveredge.edge.errors import ConfigError, DataError

NAME_MAX = 255  # bytes per path component (Linux, macOS, Windows NTFS in UTF-16 units: same order)
PATH_MAX = 4096
EXAM_ID_MAX = 64


@dataclass(frozen=True)
class Limits:
    """``max_frame_pixels``: width × height of one frame; ``max_decoded_bytes``: a DICOM dataset inflated, or the
    pixels of the frames decoded together; ``max_config_bytes``: a settings or key file."""

    max_frame_pixels: int = 4096 * 4096
    max_decoded_bytes: int = 512 << 20
    max_config_bytes: int = 1 << 20


DEFAULT_LIMITS = Limits()
_current = DEFAULT_LIMITS


def limits() -> Limits:
    """The limits in force (defaults until :func:`configure`)."""
    return _current


def configure(new: Limits) -> None:
    """Set the process-wide limits (call before any decoding)."""
    global _current
    if new.max_frame_pixels < 1 or new.max_decoded_bytes < 1 or new.max_config_bytes < 1:
        raise ConfigError(f"limits must be >= 1, got {new}")
    _current = new


OPENCV_BACKSTOP_PIXELS = 1 << 28
"""OpenCV's own refusal (``OPENCV_IO_MAX_IMAGE_PIXELS``, read once when cv2 loads) for formats whose header we do
not read (TIFF, PPM, ...): 16384x16384; its default is 2**30. ``max_frame_pixels`` above it is not reachable
for those formats."""
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(OPENCV_BACKSTOP_PIXELS))


# --- files and paths --------------------------------------------------------------------------------------
def check_path(value: str | os.PathLike[str], what: str) -> str:
    """``value`` as str when every component fits the filesystem (<= 255 bytes, <= 4096 in all); ConfigError else."""
    text = os.fspath(value)
    raw = os.fsencode(text)
    if b"\0" in raw:
        raise ConfigError(f"{what}: the path contains a NUL byte")
    if len(raw) > PATH_MAX:
        raise ConfigError(f"{what}: path of {len(raw)} bytes is longer than {PATH_MAX}")
    for part in raw.split(b"/"):
        if len(part) > NAME_MAX:
            shown = console_safe(os.fsdecode(part[:40]))
            raise ConfigError(f"{what}: path component '{shown}...' is {len(part)} bytes; at most {NAME_MAX}")
    return text


def read_bounded(path: str | os.PathLike[str], what: str, limit: int | None = None) -> bytes:
    """At most ``limit`` bytes of a settings/key file (default ``limits().max_config_bytes``); ConfigError when the
    file is larger, endless (``/dev/zero``), not a regular file, or unreadable — the message names ``what``."""
    cap = limits().max_config_bytes if limit is None else limit
    name = check_path(path, what)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except OSError as exc:
        raise ConfigError(f"{what} {console_safe(name)}: cannot read it ({exc.strerror or exc})") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{what} {console_safe(name)}: not a regular file")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise ConfigError(f"{what} {console_safe(name)}: cannot read it ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)
    if len(data) > cap:
        raise ConfigError(f"{what} {console_safe(name)}: larger than the {cap}-byte limit for such files")
    return data


# --- text from outside ------------------------------------------------------------------------------------
def console_safe(text: str, *, multiline: bool = False) -> str:
    """``text`` with control and format characters (ESC, CR, BEL, bidi overrides, ...) shown as ``\\xNN`` escapes
    (``multiline``: newlines and tabs kept)."""
    keep = " \n\t" if multiline else " "
    return "".join(
        c
        if unicodedata.category(c)[0] != "C" or c in keep
        else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        for c in text
    )


def check_exam_id(exam_id: str, what: str = "exam id") -> str:
    """``exam_id`` when it is 1..64 printable characters; ConfigError naming it (escaped) otherwise."""
    if not exam_id or len(exam_id) > EXAM_ID_MAX or console_safe(exam_id) != exam_id or exam_id != exam_id.strip():
        raise ConfigError(
            f"{what} '{console_safe(exam_id[:EXAM_ID_MAX])}' is not 1..{EXAM_ID_MAX} printable "
            "characters without control codes or surrounding spaces"
        )
    return exam_id


# --- frame sizes ------------------------------------------------------------------------------------------
def check_pixels(width: int, height: int, what: str, limit: int | None = None) -> None:
    """DataError when a ``width`` × ``height`` frame exceeds ``max_frame_pixels`` (or is empty)."""
    cap = limits().max_frame_pixels if limit is None else limit
    if width <= 0 or height <= 0:
        raise DataError(f"{what}: frame size {width}x{height} is empty or invalid")
    if width * height > cap:
        raise DataError(
            f"{what}: frame of {width}x{height} = {width * height} pixels exceeds the limit of {cap} "
            "pixels (max_frame_pixels; raise it in [limits] or with --max-frame-pixels if genuine)"
        )


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a PNG, JPEG, BMP, GIF or WebP (VP8/VP8L/VP8X); None if unknown."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:2] == b"BM" and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    kind = head[12:16]
    if kind == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if kind == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and len(head) >= 30:
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first SOFn (baseline, progressive, lossless, arithmetic)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    return None


def check_image_file(path: str | os.PathLike[str], what: str = "image") -> None:
    """Refuse an image whose header declares more than ``max_frame_pixels`` (reads the first 64 KiB only)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return  # the decoder reports unreadable files in its own words
    size = image_size(head)
    if size is not None:
        check_pixels(size[0], size[1], f"{what} {console_safe(os.fspath(path))}")


def check_frame(shape: tuple[int, ...], what: str) -> None:
    """A decoded frame (H, W[, C]) against ``max_frame_pixels`` (before preprocessing)."""
    check_pixels(int(shape[1]), int(shape[0]), what)
