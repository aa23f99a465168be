"""Parse a source URI into a :class:`SourceSpec` (sans-I/O: looks at the string and, for bare paths, the disk).

Accepted forms (the same for every tool)::

    sim://?condition=steatosis&site=S1&fps=30&seed=1   simulated probe (also severity, lesion, size=HxW, freeze)
    file://clip.mp4  file:///abs/clip.mp4  clip.mp4     video file
    file://frame.png  frame.png                         one image
    file://frames/  frames/                             a folder of images (sorted by name)
    dicom://cine.dcm  cine.dcm                          DICOM (single or multi-frame)
    v4l2:///dev/video0  v4l2://0  /dev/video0  0        V4L2 device (UVC probe, HDMI capture)
    rtsp://host/stream  http://host/video.mjpg          network streams (FFmpeg)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from liveredge.edge.bounds import check_path, console_safe
from liveredge.edge.errors import ConfigError
from liveredge.edge.formats import DICOM_EXTS, has_dicom_magic

VIDEO_EXTS = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".ogv"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})
KINDS = ("sim", "video", "image", "folder", "dicom", "v4l2", "stream")


class SourceURIError(ConfigError):
    """A source URI cannot be understood."""


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source URI.

    ``kind`` is one of :data:`KINDS`; ``target`` is the path, device (path or index as text) or URL;
    ``params`` holds the query parameters (``sim://`` options) as strings.
    """

    kind: str
    target: str
    params: dict[str, str] = field(default_factory=dict)
    uri: str = ""


_DEVICE_INDEX = re.compile(r"^\d{1,3}$")


def parse_uri(uri: str) -> SourceSpec:
    """Parse ``uri`` (see the module docstring). Raises :class:`SourceURIError` naming the URI."""
    text = uri.strip()
    if not text:
        raise SourceURIError("empty source URI: give e.g. sim://?condition=normal, a video path or v4l2:///dev/video0")
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme == "sim":
        return SourceSpec("sim", "", _query(text), text)
    if scheme in ("rtsp", "rtsps", "http", "https", "rtmp", "udp", "rtp", "tcp"):
        return SourceSpec("stream", text, {}, text)
    if scheme == "v4l2":
        return SourceSpec("v4l2", _v4l2_target(text), {}, text)
    if scheme == "dicom":
        return SourceSpec("dicom", check_path(_path_part(text), f"source {uri!r}"), {}, text)
    if scheme == "file":
        return _from_path(check_path(_path_part(text), f"source {uri!r}"), text)
    if scheme:
        raise SourceURIError(
            f"source {uri!r}: unknown scheme {scheme!r}; use sim://, file://, dicom://, v4l2://, rtsp:// or http://"
        )
    return _from_path(check_path(text, f"source {console_safe(uri)!r}"), text)


def _query(text: str) -> dict[str, str]:
    parts = urlsplit(text)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise SourceURIError(f"source {text!r}: parameter {key!r} given twice")
        params[key] = value
    return params


def _path_part(text: str) -> str:
    rest = text.split("://", 1)[1]
    if not rest:
        raise SourceURIError(f"source {text!r}: no path after the scheme")
    return rest


def _v4l2_target(text: str) -> str:
    rest = text.split("://", 1)[1]
    if _DEVICE_INDEX.match(rest):
        return rest
    if rest.startswith("/"):
        return rest
    if rest.startswith("video") or rest.startswith("v4l/"):
        return "/dev/" + rest
    raise SourceURIError(f"source {text!r}: expected v4l2:///dev/videoN or v4l2://N (a device index)")


def _from_path(path_text: str, uri: str) -> SourceSpec:
    if _DEVICE_INDEX.match(path_text):
        return SourceSpec("v4l2", path_text, {}, uri)
    if path_text.startswith("/dev/video") or path_text.startswith("/dev/v4l/"):
        return SourceSpec("v4l2", path_text, {}, uri)
    path = Path(path_text)
    suffix = path.suffix.lower()
    if path.is_dir() or path_text.endswith("/"):
        return SourceSpec("folder", path_text, {}, uri)
    if suffix in VIDEO_EXTS:
        return SourceSpec("video", path_text, {}, uri)
    if suffix in IMAGE_EXTS:
        return SourceSpec("image", path_text, {}, uri)
    if suffix in DICOM_EXTS:
        return SourceSpec("dicom", path_text, {}, uri)
    if path.is_file() and has_dicom_magic(path):
        return SourceSpec("dicom", path_text, {}, uri)
    if path.exists():
        return SourceSpec("video", path_text, {}, uri)  # let FFmpeg try; a failure names the file
    raise SourceURIError(
        f"source {uri!r}: no such file or folder, and not a known URI; give an existing video/image/folder/DICOM "
        "path, or sim://, v4l2://, rtsp://, http://"
    )
