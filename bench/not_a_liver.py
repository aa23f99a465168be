"""Replay every real ultrasound screen bundled with pydicom (ALL non-liver: obstetric, cardiac, lymph node) through
``liveredge run`` with the shipped model, as a still (the first frame repeated, looped) and as a 3 s clip at 30 fps
with +-1 px jitter and sigma = 2 noise (written with OpenCV), and report per case the fraction of frames the runtime
flags and the exam summary's label. The "not a liver" acceptance: the summary is never a disease label and >= 90 %
of frames are flagged. Second part: simulated LIVER exams on benchmark-suite profiles (benchmark seed range), run
through the runtime with the model's gate and with the gate switched off: the fraction of usable frames the gate
flags (<= 3 %) and the exam accuracy of both (within 1 point). Writes ``bench/results/not_a_liver.json``.

    .venv/bin/python bench/not_a_liver.py [--model M] [--frames 90] [--exams 48] [--out bench/results/not_a_liver.json]

Real DICOM files (pydicom's test data); the model is trained on SIMULATED data and is not for clinical use.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FILES = ("examples_palette.dcm", "examples_rgb_color.dcm", "examples_ybr_color.dcm", "examples_jpeg2k.dcm")
DISEASES = ("steatosis", "fibrosis", "focal_lesion")


def _clip(frames: np.ndarray, out: Path, n: int, seed: int) -> Path:
    """``n`` frames cycling through ``frames`` with +-1 px jitter and sigma = 2 Gaussian noise, as an mp4."""
    rng = np.random.default_rng(seed)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for i in range(n):
        dx, dy = (int(v) for v in rng.integers(-1, 2, 2))
        moved = cv2.warpAffine(frames[i % len(frames)], np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))
        noisy = np.clip(moved.astype(np.float32) + rng.normal(0, 2.0, moved.shape), 0, 255).astype(np.uint8)
        writer.write(noisy)
    writer.release()
    return out


def _run(model: str, source: str, n: int, jsonl: Path, extra: list[str]) -> dict[str, object]:
    from liveredge.cli.main import main

    rc = main(
        [
            "run",
            "--model",
            model,
            "--source",
            source,
            "--rate",
            "max",
            "--max-frames",
            str(n),
            "--exam",
            "E1",
            "--jsonl",
            str(jsonl),
            *extra,
        ]
    )
    events = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    results = [e for e in events if e.get("type") == "result"]
    summary = next((e for e in events if e.get("type") == "exam_summary"), None)
    flagged = sum(1 for r in results if r["quality_flags"] and r["quality_flags"] != ["unverified_model"])
    return {
        "rc": rc,
        "frames": len(results),
        "flagged": flagged / max(len(results), 1),
        "not_liver_frames": sum(r["label"] == "not_liver" for r in results) / max(len(results), 1),
        "summary": None if summary is None else summary["label"],
        "summary_is_disease": bool(summary and summary["label"] in DISEASES),
    }


def measure(model: str, n: int, extra: list[str]) -> dict[str, object]:
    from pydicom.data import get_testdata_file

    from liveredge.edge.preprocess.dicom import read_dicom

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, name in enumerate(FILES):
            frames = read_dicom(get_testdata_file(name), max_frames=90).frames
            still = Path(tmp, f"{k}.png")
            cv2.imwrite(str(still), frames[0])
            clip = _clip(frames, Path(tmp, f"{k}.mp4"), n, k)
            out[name] = {
                "still": _run(model, f"file://{still}", n, Path(tmp, f"s{k}.jsonl"), [*extra, "--loop"]),
                "clip": _run(model, str(clip), n, Path(tmp, f"c{k}.jsonl"), extra),
            }
    cases = [c for f in out.values() for c in f.values()]  # type: ignore[union-attr]
    out["acceptance"] = {
        "never_a_disease": not any(c["summary_is_disease"] for c in cases),
        "min_flagged": min(c["flagged"] for c in cases),
    }
    return out


def _exam(model: object, frames: list[np.ndarray]) -> tuple[str, int, int]:
    """(exam label, usable frames, frames the gate flagged) of one exam through the runtime's processor."""
    from liveredge.edge.events import NOT_LIVER, Quality
    from liveredge.edge.runtime import FrameProcessor
    from liveredge.edge.sources.base import Frame

    proc = FrameProcessor(model)  # type: ignore[arg-type]
    proc.start_exam("bench")
    usable = flagged = 0
    for i, image in enumerate(frames):
        r = proc.process(Frame(image, i, i / 30.0, i), t_media=i / 30.0)
        if not r.quality & (Quality.DARK | Quality.NO_REGION | Quality.FROZEN | Quality.SATURATED):
            usable += 1
            flagged += r.label == NOT_LIVER
    summary = proc.end_exam()
    return (summary.label if summary else "none"), usable, flagged


def liver_exams(model_path: str, n_exams: int, n_frames: int) -> dict[str, object]:
    """Gated vs ungated exam accuracy and the gate's false alarms on benchmark-range liver exams."""
    import dataclasses

    from liveredge.edge.runtime import load_model
    from liveredge.edge.sim import CLASSES, Scanner, get_profile, make_patient
    from liveredge.models.benchmark.suite import condition_of, patient_seed, suite_profiles

    gated = load_model(model_path, commit=False)
    op = dataclasses.replace(gated.meta.operating_point, not_liver_threshold=None, energy_threshold=None)
    ungated = dataclasses.replace(gated, meta=dataclasses.replace(gated.meta, operating_point=op))
    profiles = suite_profiles(24)
    right = {"gated": 0, "ungated": 0}
    usable = flagged = 0
    for k in range(n_exams):
        cls, profile = k % len(CLASSES), get_profile(profiles[k % len(profiles)])
        condition, severity, lesion = condition_of(cls, k // len(CLASSES))
        seed = patient_seed("profile", 5_000_000 + k)  # benchmark range, past the suite's own patients
        patient = make_patient(f"nal-exam-{k}", condition, severity=severity, lesion=lesion, seed=seed, profile=profile)
        scanner = Scanner(patient, profile, seed=seed, size=(360, 480))
        frames = [scanner.frame(i * 3).image for i in range(n_frames)]
        for name, model in (("gated", gated), ("ungated", ungated)):
            label, u, f = _exam(model, frames)
            right[name] += label == condition
            if name == "gated":
                usable, flagged = usable + u, flagged + f
    return {
        "exams": n_exams,
        "frames_per_exam": n_frames,
        "profiles": "benchmark suite (24)",
        "accuracy_gated": right["gated"] / n_exams,
        "accuracy_ungated": right["ungated"] / n_exams,
        "usable_frames": usable,
        "flagged_fraction": flagged / max(usable, 1),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"))
    ap.add_argument("--frames", type=int, default=90, help="frames per case (90 = 3 s at 30 fps)")
    ap.add_argument("--exams", type=int, default=48, help="simulated liver exams for the false-alarm part (0: skip)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "not_a_liver.json")
    args, extra = ap.parse_known_args(argv)
    result = {"model": args.model, "frames": args.frames, **measure(args.model, args.frames, extra)}
    if args.exams:
        result["liver_exams"] = liver_exams(args.model, args.exams, 30)
        print(json.dumps(result["liver_exams"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result["acceptance"]), f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
