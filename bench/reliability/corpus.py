"""The bad-input corpus: damaged models, videos, DICOM files of every bundled transfer syntax, black, frozen and
non-ultrasound frames and serial garbage, each run through the entry points that accept it.

Inputs are made fresh in a temporary folder from real parts: the fixture/reference model, a real MP4/AVI written
with OpenCV from simulated frames, pydicom's bundled DICOM files, a real pty. ``quick`` runs every case through the
Python APIs and a representative subset through the CLI (the CLI children cost ~1.5 s each).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from common import Case, run_api, run_cli

from liveredge.edge.events import NOT_LIVER, UNCERTAIN

DICOM_FILES = (  # pydicom's bundled files: one or more per transfer syntax the preprocessing decodes
    "MR_small_implicit.dcm",
    "CT_small.dcm",
    "MR_small_bigendian.dcm",
    "image_dfl.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "JPGExtended.dcm",
    "SC_rgb_jpeg_gdcm.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "SC_rgb_jls_lossy_sample.dcm",
    "MR_small_jp2klossless.dcm",
    "SC_rgb_gdcm_KY.dcm",
    "SC_rgb_rle_16bit_2frame.dcm",
    "examples_ybr_color.dcm",
)
DICOM_DAMAGES = ("truncated", "flipped", "wrong_frames")
SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=3&size=240x320"


class Corpus:
    """Builds the inputs under ``work`` and runs the cases; ``cases`` collects every outcome."""

    def __init__(
        self, work: Path, model: Path, model_flags: list[str], quick: bool, progress: Callable[[str], None]
    ) -> None:
        self.work, self.model, self.flags, self.quick, self.progress = work, model, model_flags, quick, progress
        self.cases: list[Case] = []
        work.mkdir(parents=True, exist_ok=True)

    def add(self, case: Case) -> None:
        self.cases.append(case)
        self.progress(f"{case.entry} {case.input}: {case.observed}{' CRASH' if case.crash else ''}")

    def run_cmd(self, source: str, extra: list[str] | None = None) -> list[str]:
        return [
            "run",
            "--model",
            str(self.model),
            *self.flags,
            "--source",
            source,
            "--threads",
            "1",
            "--timeout",
            "0.5",
            "--jsonl",
            "-",
            *(extra or []),
        ]

    # --- models ----------------------------------------------------------------------------------------
    def models(self) -> None:
        from liveredge.edge.runtime import LoadOptions, TrustPolicy, load_model

        unverified = LoadOptions(trust=TrustPolicy(allow_unverified=True))
        for name, path in self._bad_models():
            # flipped weight bytes with a re-made sidecar parse as a model: with --allow-unverified it loads (and
            # is flagged); without it, it has no signed statement and is refused
            loads = name == "flipped_bytes"
            expect = "loads unverified or ModelError" if loads else "error: ModelError/VerificationError"
            self.add(
                run_api(
                    "load_model",
                    lambda p=path: load_model(p, unverified, commit=False),
                    f"model:{name}",
                    expect,
                    accept_ok=loads,
                )
            )
            if not self.quick or name == "truncated":
                args = ["run", "--model", str(path), "--source", SIM, "--max-frames", "3", "--jsonl", "-"]
                self.add(run_cli("liveredge run", args, f"model:{name}", {1}, "exit 1 (refused: no signed statement)"))
                self.add(
                    run_cli(
                        "liveredge verify",
                        ["verify", str(path)],
                        f"model:{name}",
                        {1},
                        "exit 1 (refused, as run)",
                        timeout_s=120,
                    )
                )

    def _bad_models(self) -> Iterator[tuple[str, Path]]:
        from liveredge.edge.integrity import write_sidecar

        good = self.model.read_bytes()
        folder = self.work / "models"
        folder.mkdir(exist_ok=True)
        damaged = bytearray(good)
        for i in range(len(good) // 3, len(good) // 3 + 64):
            damaged[i] ^= 0x5A
        variants = {
            "truncated": good[: len(good) // 2],
            "flipped_bytes": bytes(damaged),
            "empty": b"",
            "not_tflite": b"this is not a model\n" * 50,
            "wrong_shape": wrong_shape(good),
        }
        for name, data in variants.items():
            path = folder / f"{name}.tflite"
            path.write_bytes(data)
            write_sidecar(path)  # the hash matches: the damage must be caught by parsing, not by the hash
            yield name, path
        tampered = folder / "tampered.tflite"
        tampered.write_bytes(bytes(damaged))
        (folder / "tampered.tflite.sha256").write_text(
            self.model.with_name(self.model.name + ".sha256").read_text().replace(self.model.name, tampered.name)
        )
        yield "tampered_hash_mismatch", tampered

    # --- videos --------------------------------------------------------------------------------------
    def videos(self, frames: list[np.ndarray]) -> None:
        from liveredge.edge.sources import open_source

        for name, path in self._bad_videos(frames):
            self.add(
                run_api(
                    "open_source+read",
                    lambda p=path: drain(open_source(str(p), rate="max")),
                    f"video:{name}",
                    "frames then END/ERROR, or SourceError",
                )
            )
            if not self.quick or name in ("mp4_truncated_half", "avi_truncated_half"):
                self.add(
                    run_cli(
                        "liveredge run",
                        self.run_cmd(str(path), ["--rate", "max"]),
                        f"video:{name}",
                        {0, 1, 2},
                        "exit 0 (end) or 1/2 with a clear status",
                    )
                )
                self.add(
                    run_cli(
                        "liveredge crop",
                        ["crop", str(path), "--out", str(self.work / "crop" / name), "--warmup", "10"],
                        f"video:{name}",
                        {0, 1, 2},
                        "exit 0 or 2 with a message",
                    )
                )

    def _bad_videos(self, frames: list[np.ndarray]) -> Iterator[tuple[str, Path]]:
        folder = self.work / "videos"
        folder.mkdir(exist_ok=True)
        for ext, fourcc in (("mp4", "mp4v"), ("avi", "MJPG")):
            whole = folder / f"whole.{ext}"
            writer = cv2.VideoWriter(
                str(whole), cv2.VideoWriter_fourcc(*fourcc), 30.0, (frames[0].shape[1], frames[0].shape[0])
            )
            for f in frames:
                writer.write(f)
            writer.release()
            data = whole.read_bytes()
            for name, cut in (
                (f"{ext}_truncated_half", data[: len(data) // 2]),
                (f"{ext}_truncated_header", data[:200]),
                (f"{ext}_garbage", np.random.default_rng(5).bytes(4096)),
            ):
                path = folder / f"{name}.{ext}"
                path.write_bytes(cut)
                yield name, path
        empty = folder / "empty.mp4"
        empty.write_bytes(b"")
        yield "mp4_empty", empty

    # --- frames: black, frozen, non-ultrasound ----------------------------------------------------------
    def frames(self, frames: list[np.ndarray]) -> None:
        from liveredge.edge.preprocess import detect_region

        rng = np.random.default_rng(7)
        h, w = frames[0].shape[:2]
        noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        photo = np.zeros((h, w, 3), np.uint8)  # a colourful non-ultrasound scene: gradient sky, shapes, text
        photo[..., 0] = np.linspace(80, 250, w, dtype=np.uint8)[None, :]
        photo[..., 2] = np.linspace(250, 40, h, dtype=np.uint8)[:, None]
        cv2.circle(photo, (w // 3, h // 2), h // 4, (0, 200, 255), -1)
        cv2.putText(photo, "HELLO", (10, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3)
        kinds = {
            "black": (np.zeros((h, w, 3), np.uint8), "no_region"),
            "noise": (noise, "uncertain"),
            "photo": (photo, "uncertain"),
            "saturated": (np.full((h, w, 3), 255, np.uint8), "uncertain"),
        }
        for name, (img, _) in kinds.items():
            self.add(
                run_api(
                    "detect_region",
                    lambda i=img, n=name: detect_region(i, n),
                    f"frame:{name}",
                    "status != ok",
                    check=lambda r: None if r.status != "ok" else "region found",
                )
            )
            folder = self.work / "frames" / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(8):
                cv2.imwrite(str(folder / f"f{i:03d}.png"), img)
            if self.quick and name in ("noise", "saturated"):
                continue
            self.add(
                run_cli(
                    "liveredge run",
                    self.run_cmd(str(folder), ["--rate", "max"]),
                    f"frames:{name}",
                    {0},
                    "exit 0, no diagnosis (every result uncertain or not_liver)",
                    check=no_diagnosis,
                )
            )
            if not self.quick or name == "black":
                self.add(
                    run_cli(
                        "liveredge crop",
                        ["crop", str(folder / "f000.png"), "--out", str(self.work / "crop" / name)],
                        f"frame:{name}",
                        {0, 1, 2},
                        "exit 0/1/2 with 'no ultrasound region'",
                    )
                )
        frozen = self.work / "frames" / "frozen"
        frozen.mkdir(parents=True, exist_ok=True)
        for i in range(12):
            cv2.imwrite(str(frozen / f"f{i:03d}.png"), frames[0])
        self.add(
            run_cli(
                "liveredge run",
                self.run_cmd(str(frozen), ["--rate", "max"]),
                "frames:frozen",
                {0},
                "exit 0, repeats flagged frozen and uncertain",
                check=frozen_flagged,
            )
        )

    # --- DICOM -------------------------------------------------------------------------------------------
    def dicoms(self) -> None:
        from liveredge.edge.preprocess.dicom import read_dicom
        from liveredge.edge.sources import open_source

        cli_left = {d: 1 for d in DICOM_DAMAGES} if self.quick else None
        for name, damage, path in self._bad_dicoms():
            label = f"dicom:{damage}:{name}"
            self.add(run_api("read_dicom", lambda p=path: read_dicom(p), label, "frames or DataError"))
            self.add(
                run_api(
                    "open_source+read",
                    lambda p=path: drain(open_source(f"dicom://{p}", rate="max")),
                    label,
                    "frames then END/ERROR, or SourceError",
                )
            )
            if cli_left is None or cli_left[damage] > 0:
                if cli_left is not None:
                    cli_left[damage] -= 1
                self.add(
                    run_cli(
                        "liveredge run",
                        self.run_cmd(f"dicom://{path}", ["--rate", "max"]),
                        label,
                        {0, 1, 2},
                        "exit 0 (end) or 1/2 with a clear status",
                    )
                )
                if cli_left is None and name in ("examples_ybr_color.dcm", "SC_rgb_rle_16bit_2frame.dcm"):
                    self.add(
                        run_cli(
                            "liveredge crop",
                            ["crop", str(path), "--out", str(path.with_suffix(".crop"))],
                            label,
                            {0, 1, 2},
                            "exit 0 or 2 with a message",
                        )
                    )

    def _bad_dicoms(self) -> Iterator[tuple[str, str, Path]]:
        import pydicom
        from pydicom.data import get_testdata_file

        folder = self.work / "dicom"
        folder.mkdir(exist_ok=True)
        for name in DICOM_FILES:
            src = Path(get_testdata_file(name))
            data = src.read_bytes()
            start = pixel_offset(data)
            cut = folder / f"truncated_{name}"
            cut.write_bytes(data[: start + max(16, (len(data) - start) // 2)])
            yield name, "truncated", cut
            flipped = bytearray(data)
            at = start + (len(data) - start) * 3 // 5
            for i in range(at, min(len(data), at + 96)):
                flipped[i] ^= 0xA5
            path = folder / f"flipped_{name}"
            path.write_bytes(bytes(flipped))
            yield name, "flipped", path
            ds = pydicom.dcmread(src)
            ds.NumberOfFrames = int(getattr(ds, "NumberOfFrames", 1) or 1) + 4
            path = folder / f"frames_{name}"
            ds.save_as(path)
            yield name, "wrong_frames", path

    # --- serial garbage ----------------------------------------------------------------------------------
    def serial(self) -> None:
        from liveredge.firmware_bridge.codec import FrameDecoder

        rng = random.Random(11)
        blob = bytes(rng.getrandbits(8) for _ in range(1 << 16))
        self.add(
            run_api(
                "FrameDecoder.feed",
                lambda: feed_chunks(FrameDecoder(), blob, rng),
                "serial:random 64 KiB",
                "decode errors counted, no exception",
            )
        )
        self.add(
            run_api(
                "SerialBridge+PtyEmulator",
                lambda: bridge_survives_garbage(blob),
                "serial:garbage on link",
                "link stays up, results delivered",
                check=lambda r: None if r else "link did not recover",
            )
        )
        for handshake in (False, True):
            self.add(monitor_garbage(blob, handshake, 0.8 if self.quick else 2.0))


def wrong_shape(model: bytes) -> bytes:
    """The model with metadata that claims a 96x96 input (the tensor is 128x128): a wrong-shape model."""
    import dataclasses

    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.model_meta import read_metadata

    meta = read_metadata(model)
    if meta is None:
        return model
    spec = dataclasses.replace(meta.preprocess, input_size=(96, 96))
    return embed_metadata(model, dataclasses.replace(meta, preprocess=spec))


def pixel_offset(data: bytes) -> int:
    """Byte offset of the PixelData value (after its tag), little- or big-endian; the middle if not found."""
    for tag in (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10"):
        at = data.rfind(tag)
        if at > 0:
            return at + 12
    return len(data) // 2


def drain(source: object, limit: int = 2000) -> str:
    """Read a source until END/ERROR (bounded); returns 'N frames, STATUS: detail'."""
    from liveredge.edge.sources import SourceStatus

    n, status = 0, None
    try:
        for _ in range(limit):
            res = source.read(1.0)  # type: ignore[attr-defined]
            if res.status is SourceStatus.OK:
                n += 1
                continue
            status = res
            if res.status in (SourceStatus.END, SourceStatus.ERROR):
                break
    finally:
        source.close()  # type: ignore[attr-defined]
    return f"{n} frames, {status.status.name if status else 'limit'}: {status.detail[:80] if status else ''}"


def results_of(stdout: str) -> list[dict[str, object]]:
    return [e for e in (json.loads(x) for x in stdout.splitlines() if x.startswith("{")) if e.get("type") == "result"]


def no_diagnosis(stdout: str, _err: str) -> str | None:
    """None when every result is ``uncertain`` or ``not_liver`` (a frame that is not a liver scan must never
    become a diagnosis; saying "not a liver" is the right answer for it), else what went wrong."""
    res = results_of(stdout)
    diagnoses = [r["label"] for r in res if r["label"] not in (UNCERTAIN, NOT_LIVER)]
    if not res:
        return "no results"
    return f"{len(diagnoses)}/{len(res)} diagnoses ({diagnoses[0]})" if diagnoses else None


def frozen_flagged(stdout: str, _err: str) -> str | None:
    res = results_of(stdout)[1:]
    bad = [r for r in res if "frozen" not in r["quality_flags"] or r["label"] != "uncertain"]
    return None if res and not bad else f"{len(bad)}/{len(res)} repeats not flagged frozen+uncertain"


def feed_chunks(decoder: object, blob: bytes, rng: random.Random) -> str:
    i = 0
    while i < len(blob):
        n = rng.randint(1, 300)
        decoder.feed(blob[i : i + n])  # type: ignore[attr-defined]
        i += n
    return f"counts {dict(decoder.counts)}"  # type: ignore[attr-defined]


def bridge_survives_garbage(blob: bytes) -> bool:
    """Garbage on a live link (real pty, emulated MCU): afterwards a RESULT still reaches the MCU."""
    from liveredge.firmware_bridge.emulator import PtyEmulator
    from liveredge.firmware_bridge.messages import Result
    from liveredge.firmware_bridge.runtime import SerialBridge

    with PtyEmulator() as mcu, SerialBridge.open(mcu.path, wait_s=5.0) as bridge:
        for i in range(0, 8192, 512):
            mcu.inject(blob[i : i + 512])
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            bridge.publish_result(frame_seq=1, timestamp_ns=time.monotonic_ns(), class_index=1, confidence=0.5)
            time.sleep(0.05)
            if any(isinstance(e, Result) for e in mcu.take_received()):
                return True
    return False


def monitor_garbage(blob: bytes, handshake: bool, seconds: float) -> Case:
    """``liveredge bridge monitor`` on a real pty whose other end writes 32 KiB of garbage."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    stop = threading.Event()

    def feed() -> None:
        i = 0
        while not stop.is_set() and i < 32768:
            try:
                os.write(master, blob[i : i + 256])
            except OSError:
                return
            i += 256
            time.sleep(0.005)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        args = ["bridge", "monitor", path, "--duration", str(seconds), *(["--handshake"] if handshake else [])]
        return run_cli(
            "liveredge bridge monitor",
            args,
            f"serial:garbage{' +handshake' if handshake else ''}",
            {0},
            "exit 0, errors counted",
            timeout_s=30,
        )
    finally:
        stop.set()
        thread.join(2)
        os.close(master)
        os.close(slave)
