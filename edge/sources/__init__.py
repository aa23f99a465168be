"""Frame sources by URI, the watchdog and pre-rendered clips (the I/O half of the edge runtime).

Public API::

    SourceStatus, Frame, ReadResult, Source          the contract (see base.py)
    parse_uri(uri) -> SourceSpec                     sans-I/O URI parsing (uri.py lists the forms)
    make_source(uri, rate=, fps=, loop=) -> Source   build, NOT opened (a factory for WatchedSource)
    open_source(uri, rate=, fps=, loop=) -> Source   build and open (raises SourceError naming the URI)
    watched_source(uri, ..., on_event=) -> WatchedSource   build a self-healing source (call .open())
    WatchedSource, WatchPolicy                       watchdog: lost/error/frozen → reopen with back-off
    PrerenderedClip                                  frames in memory, replayed at fps or "max"
    is_frozen(prev, cur) -> bool                     cheap repeated-frame test

Frames are (H, W, 3) uint8 BGR; ``t_capture`` is ``time.monotonic()`` seconds at dequeue.
``rate="realtime"`` paces stored media at their frame rate; ``rate="max"`` delivers every frame as fast as the
consumer reads (offline analysis, no drops). Live sources (v4l2, rtsp, http) ignore ``rate``.
"""

from __future__ import annotations

from collections.abc import Callable

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import StateEvent
from liveredge.edge.sources.base import (
    Frame,
    ReadResult,
    Source,
    SourceNotSupported,
    SourceStatus,
    SourceUnavailable,
    is_frozen,
)
from liveredge.edge.sources.clip import PrerenderedClip, SimOptions, SimSource, sim_options
from liveredge.edge.sources.uri import SourceSpec, SourceURIError, parse_uri
from liveredge.edge.sources.watchdog import WatchedSource, WatchPolicy

__all__ = [
    "Frame",
    "PrerenderedClip",
    "ReadResult",
    "SimOptions",
    "Source",
    "SourceNotSupported",
    "SourceSpec",
    "SourceStatus",
    "SourceURIError",
    "SourceUnavailable",
    "WatchPolicy",
    "WatchedSource",
    "is_frozen",
    "make_source",
    "open_source",
    "parse_uri",
    "sim_options",
    "watched_source",
]

FINITE_KINDS = frozenset({"video", "image", "folder", "dicom"})


def make_source(uri: str, *, rate: str = "realtime", fps: float | None = None, loop: bool = False) -> Source:
    """Build the source a URI names, without opening it. Raises ``ConfigError`` for a bad URI or option."""
    return _build(parse_uri(uri), uri, rate, fps, loop)


def _build(spec: SourceSpec, uri: str, rate: str, fps: float | None, loop: bool) -> Source:
    """The reader for an already parsed URI (a reopen must not re-parse: a vanished file is then a failed
    attempt of the reader's ``open()``, not a bad URI)."""
    if spec.kind == "sim":
        return SimSource(sim_options(spec.params, uri), uri=uri, rate=rate, fps=fps, loop=loop)
    if spec.kind == "video":
        from liveredge.edge.sources.video import VideoFileSource

        return VideoFileSource(spec.target, uri=uri, rate=rate, fps=fps, loop=loop)
    if spec.kind in ("image", "folder"):
        from liveredge.edge.sources.images import FolderSource, ImageSource

        cls = ImageSource if spec.kind == "image" else FolderSource
        return cls(spec.target, uri=uri, rate=rate, fps=fps, loop=loop)
    if spec.kind == "dicom":
        from liveredge.edge.sources.dicom import DicomSource

        return DicomSource(spec.target, uri=uri, rate=rate, fps=fps, loop=loop)
    if spec.kind == "v4l2":
        from liveredge.edge.sources.stream import V4L2Source

        return V4L2Source(spec.target, uri=uri)
    if spec.kind == "stream":
        from liveredge.edge.sources.stream import StreamSource

        return StreamSource(spec.target)
    raise ConfigError(f"source {uri!r}: kind {spec.kind!r} has no reader")


def open_source(uri: str, *, rate: str = "realtime", fps: float | None = None, loop: bool = False) -> Source:
    """Build and open the source a URI names (raises ``SourceError`` / ``ConfigError`` naming it)."""
    source = make_source(uri, rate=rate, fps=fps, loop=loop)
    source.open()
    return source


def watched_source(
    uri: str,
    *,
    rate: str = "realtime",
    fps: float | None = None,
    loop: bool = False,
    policy: WatchPolicy | None = None,
    on_event: Callable[[StateEvent], None] | None = None,
) -> WatchedSource:
    """A :class:`WatchedSource` for ``uri`` (not yet opened). Files give up after 3 failed reopen attempts by
    default; live sources (sim, v4l2, streams) retry forever."""
    spec = parse_uri(uri)
    if policy is None:
        policy = WatchPolicy(max_attempts=3 if spec.kind in FINITE_KINDS else None)
    return WatchedSource(_reopener(uri, spec, rate, fps, loop), policy, on_event=on_event)


def _reopener(uri: str, spec: SourceSpec, rate: str, fps: float | None, loop: bool) -> Callable[[], Source]:
    """A factory that reopens a V4L2 device by the stable identity it had first (its /dev/v4l/by-id link), so
    a probe that re-enumerates as another /dev/videoN after a replug is found again; other kinds by URI."""
    first: list[str] = []

    def factory() -> Source:
        if spec.kind == "v4l2" and first:
            from liveredge.edge.sources.stream import V4L2Source

            return V4L2Source(first[0], uri=uri)
        source = _build(spec, uri, rate, fps, loop)
        first.append(source.identity)
        return source

    return factory
