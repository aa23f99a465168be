"""DICOM cine as a source: a real ultrasound cine bundled with pydicom, and damaged copies of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liveredge.edge.errors import SourceError
from liveredge.edge.events import StateEvent
from liveredge.edge.sources import SourceStatus, WatchPolicy, open_source, watched_source

pydicom_data = pytest.importorskip("pydicom.data")
CINE = Path(pydicom_data.get_testdata_file("examples_ybr_color.dcm"))  # US, 30 frames, JPEG baseline, 240x320


def read_all(source, limit: int = 200) -> tuple[list, object]:
    frames, last = [], None
    for _ in range(limit):
        last = source.read(2.0)
        if last.ok:
            frames.append(last.frame)
        elif last.status is SourceStatus.ERROR and not getattr(source, "gave_up", True):
            continue
        elif last.status is not SourceStatus.TIMEOUT:
            break
    return frames, last


def test_cine_frames_match_the_reader(tmp_path: Path) -> None:
    from liveredge.edge.preprocess.dicom import read_dicom

    source = open_source(f"dicom://{CINE}", rate="max")
    frames, last = read_all(source)
    source.close()
    reference = read_dicom(CINE).frames
    assert len(frames) == 30 == len(reference) and last.status is SourceStatus.END
    assert source.nominal_fps == pytest.approx(30.0, rel=1e-3)
    assert all(np.array_equal(f.image, r) for f, r in zip(frames, reference, strict=True))
    assert frames[0].image.shape == (240, 320, 3) and [f.source_index for f in frames] == list(range(30))


def test_damaged_pixel_data_ends_in_reconnect_attempts_and_a_clear_status(tmp_path: Path) -> None:
    data = bytearray(CINE.read_bytes())
    data[120_000:140_000] = np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.dcm"
    damaged.write_bytes(bytes(data))
    events: list[StateEvent] = []
    watched = watched_source(
        str(damaged), rate="max", on_event=events.append, policy=WatchPolicy(initial_s=0.01, max_s=0.02, max_attempts=2)
    )
    watched.open()
    frames, last = read_all(watched)
    watched.close()
    assert 0 < len(frames) < 30
    states = [e.state for e in events]
    assert states[0] == "source_opened" and "source_error" in states and "source_reconnecting" in states
    assert states[-1] == "source_failed" and watched.gave_up and last.status is SourceStatus.ERROR
    error = next(e for e in events if e.state == "source_error")
    assert "damaged.dcm" in error.detail and "cannot decode" in error.detail


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter")
@pytest.mark.parametrize("damage", ["truncated", "header"])
def test_unreadable_dicom_fails_at_open_naming_the_file(tmp_path: Path, damage: str) -> None:
    data = CINE.read_bytes()
    bad = tmp_path / f"{damage}.dcm"
    if damage == "truncated":
        bad.write_bytes(data[: int(len(data) * 0.6)])
    else:
        bad.write_bytes(data[:132] + bytes(range(256)) * 4 + data[1200:])
    with pytest.raises(SourceError, match=f"{damage}.dcm"):
        open_source(str(bad))
    with pytest.raises(SourceError):
        watched_source(str(bad)).open()


def test_not_dicom_at_all(tmp_path: Path) -> None:
    fake = tmp_path / "notes.dcm"
    fake.write_text("this is a text file")
    with pytest.raises(SourceError, match="notes.dcm"):
        open_source(f"dicom://{fake}")
