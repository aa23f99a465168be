"""Dataset and clip writers for the phantom simulator (thin I/O shells over a pure plan).

``plan_dataset`` decides, without I/O, which patients exist: classes round-robin over patients
(so they are balanced), severities and lesion kinds cycled, one site per patient with sites spread
so that every site sees every class. ``write_dataset`` renders SCREEN frames (with overlays: training
must go through the same fan crop the runtime uses) to PNG, one fan-mask PNG per patient, and writes
``manifest.csv`` last, inside a temporary folder that is renamed to OUT only when complete.
All data written is SIMULATED, not for clinical use.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
from tqdm import tqdm

from liveredge.edge.errors import ConfigError, DataError, InputError
from liveredge.edge.events import NOT_LIVER
from liveredge.edge.progress import bar_disabled
from liveredge.edge.sim.patient import CLASSES, LESIONS, make_patient
from liveredge.edge.sim.profiles import get_profile
from liveredge.edge.sim.scanner import Scanner, SimFrame
from liveredge.edge.sim.scenes import SCENES, make_scene
from liveredge.edge.sim.seeds import check_profile, seed_range

MANIFEST_COLUMNS = (
    "path",
    "mask_path",
    "label",
    "severity",
    "patient_id",
    "site_id",
    "condition",
    "lesion",
    "frame",
    "frozen",
    "lesion_boxes",
    "depth_cm",
    "mm_per_px",
    "view",
    "probe",
    "lesion_diameters_mm",
)
FRAME_STRIDE = 7  # frames between dataset samples of one patient (0.23 s at 30 fps)
NOTE = "SIMULATED ultrasound from the liveredge phantom simulator; not for clinical use."


@dataclass(frozen=True)
class PatientSpec:
    """One planned patient: ``index``, ``patient_id``, ``condition``, ``severity``, ``lesion``, ``site``
    (profile name), ``seed``; ``scene`` (one of ``scenes.SCENES``) for a non-liver negative."""

    index: int
    patient_id: str
    condition: str
    severity: int | None
    lesion: str | None
    site: str
    seed: int
    scene: str | None = None


def plan_dataset(
    n_patients: int,
    sites: Sequence[str],
    seed: int,
    fibrosis_stages: Sequence[int] = (2, 3, 4),
    negatives: int = 0,
    purpose: str | None = None,
) -> list[PatientSpec]:
    """Plan ``n_patients`` liver patients over ``sites`` (validated with ``get_profile``), then
    ``negatives`` non-liver scenes (label ``not_liver``, kinds cycled over ``scenes.SCENES``, sites
    cycled too, so no probe type marks them). With a ``purpose`` ("training" | "validation" |
    "benchmark", see ``seeds``) every site must belong to that purpose and every patient seed is drawn
    from its patient-seed range; without one, seeds are unassigned (tests, ad hoc use)."""
    if n_patients < 0 or negatives < 0:
        raise ConfigError(f"--patients and --negatives must be >= 0, got {n_patients} and {negatives}")
    if not sites:
        raise ConfigError("--sites needs at least one profile name")
    for s in sites:
        get_profile(s)
        if purpose is not None:
            check_profile(s, purpose)
    out = _plan_liver(n_patients, sites, seed, fibrosis_stages, purpose)
    for k in range(negatives):
        i = n_patients + k
        kind = SCENES[k % len(SCENES)]
        site = sites[(k // len(SCENES) + k) % len(sites)]
        out.append(
            PatientSpec(i, f"s{seed}-n{k:05d}", NOT_LIVER, None, None, site, _patient_seed(seed, i, purpose), kind)
        )
    return out


def _patient_seed(seed: int, index: int, purpose: str | None) -> int:
    h = zlib.crc32(f"{seed}:{index}".encode())
    if purpose is None:
        return h
    r = seed_range("patient", purpose)
    return r.start + h % (r.stop - r.start)


def _plan_liver(
    n_patients: int, sites: Sequence[str], seed: int, fibrosis_stages: Sequence[int], purpose: str | None
) -> list[PatientSpec]:
    if not fibrosis_stages or any(st not in (1, 2, 3, 4) for st in fibrosis_stages):
        raise ConfigError(f"fibrosis stages must be in 1..4, got {list(fibrosis_stages)}")
    out = []
    for p in range(n_patients):
        group = p // len(CLASSES)
        condition = CLASSES[p % len(CLASSES)]
        cycle = group  # severities / lesion kinds rotate over groups, so many sites still see every grade
        severity = lesion = None
        if condition == "steatosis":
            severity = 1 + cycle % 3
        elif condition == "fibrosis":
            severity = fibrosis_stages[cycle % len(fibrosis_stages)]
        elif condition == "focal_lesion":
            lesion = LESIONS[cycle % len(LESIONS)]
        pseed = _patient_seed(seed, p, purpose)
        out.append(PatientSpec(p, f"s{seed}-p{p:05d}", condition, severity, lesion, sites[group % len(sites)], pseed))
    return out


def _tmp_next_to(out: Path) -> Path:
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: already exists and is not an empty folder; choose a new output folder")
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        tmp.mkdir(parents=False, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{out}: cannot create the output folder next to it ({exc.strerror}); "
            "check that the parent folder exists and is writable"
        ) from exc
    return tmp


def _finish(tmp: Path, out: Path) -> None:
    out = out.resolve()
    if out.exists():
        out.rmdir()
    tmp.rename(out)


def _imwrite(path: Path, img: object) -> None:
    if not cv2.imwrite(str(path), img):
        raise DataError(f"{path}: OpenCV could not write this PNG; check disk space and permissions")


def exam_columns(scanner: Scanner) -> dict[str, str | float]:
    """The manifest's per-exam ground truth: imaging depth, isotropic screen scale, view, probe kind and
    the diameters of the patient's lesions (visible or not; boxes say what is visible)."""
    geo = scanner.geometries[0]
    return {
        "depth_cm": round(geo.depth_cm, 3),
        "mm_per_px": round(10.0 / geo.px_per_cm, 4),
        "view": scanner.patient.view.name,
        "probe": scanner.profile.kind,  # a scene's view is its name
        "lesion_diameters_mm": json.dumps([round(les.diameter_mm, 1) for les in scanner.patient.lesions]),
    }


def _scanner_for(spec: PatientSpec, size: tuple[int, int]) -> Scanner:
    """The simulated exam of one manifest entry: a liver patient, or a non-liver scene."""
    profile = get_profile(spec.site)
    patient = (
        make_scene(spec.patient_id, spec.scene, seed=spec.seed)
        if spec.scene
        else make_patient(
            spec.patient_id, spec.condition, severity=spec.severity, lesion=spec.lesion, seed=spec.seed, profile=profile
        )
    )
    return Scanner(patient, profile, seed=spec.seed, size=size)


def _frame_row(f: SimFrame, rel: str, mask_rel: str, exam: dict[str, str | float]) -> dict[str, object]:
    """One manifest row: the frame's ground truth and its exam's."""
    return {
        "path": rel,
        "mask_path": mask_rel,
        "label": f.label,
        "severity": f.severity,
        "patient_id": f.patient_id,
        "site_id": f.site_id,
        "condition": f.condition,
        "lesion": f.lesion or "",
        "frame": f.index,
        "frozen": int(f.frozen),
        "lesion_boxes": json.dumps([[kind, list(box)] for kind, box in f.lesions]),
        **exam,
    }


def _write_patient(
    tmp: Path, spec: PatientSpec, frames_per_patient: int, size: tuple[int, int]
) -> list[dict[str, object]]:
    """Render one entry's fan mask and frames into ``tmp``; return their manifest rows."""
    scanner = _scanner_for(spec, size)
    exam = exam_columns(scanner)
    mask_rel = f"masks/{spec.patient_id}.png"
    _imwrite(tmp / mask_rel, scanner.fan_mask)
    rows = []
    for k in range(frames_per_patient):
        f = scanner.frame(k * FRAME_STRIDE)
        rel = f"frames/{spec.patient_id}_{k:03d}.png"
        _imwrite(tmp / rel, f.image)
        rows.append(_frame_row(f, rel, mask_rel, exam))
    return rows


def write_dataset(
    out: Path,
    specs: Sequence[PatientSpec],
    frames_per_patient: int,
    size: tuple[int, int] = (256, 256),
    *,
    progress: bool = True,
) -> Path:
    """Render ``specs`` to ``out`` (see module doc); return the manifest path."""
    if frames_per_patient < 1:
        raise ConfigError(f"--frames-per-patient must be >= 1, got {frames_per_patient}")
    tmp = _tmp_next_to(out)
    rows: list[dict[str, object]] = []
    try:
        (tmp / "frames").mkdir()
        (tmp / "masks").mkdir()
        bar = tqdm(total=len(specs) * frames_per_patient, desc="simulate", unit="frame", disable=bar_disabled(progress))
        for spec in specs:
            rows += _write_patient(tmp, spec, frames_per_patient, size)
            bar.update(frames_per_patient)
        bar.close()
        (tmp / "README.txt").write_text(NOTE + "\n")
        with open(tmp / "manifest.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        _finish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Path(out).resolve() / "manifest.csv"


def write_clip(out: Path, scanner: Scanner, n_frames: int, *, progress: bool = True) -> Path:
    """Write ``n_frames`` screen frames to ``out`` (mp4, 'mp4v') and ground truth to ``out`` + '.json'
    (``OUT.json`` next to ``OUT.mp4``); return the JSON path."""
    if n_frames < 1:
        raise ConfigError(f"a clip needs at least one frame, got {n_frames}")
    out = Path(out)
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
        raise InputError(f"{out}: the folder {out.parent} does not exist or is not writable")
    h, w = scanner.size
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), scanner.fps, (w, h))
    if not writer.isOpened():
        raise InputError(f"{out}: OpenCV cannot open an mp4 writer here; check the path and the codec")
    frames = []
    try:
        for f in tqdm(
            scanner.frames(n_frames), total=n_frames, desc="clip", unit="frame", disable=bar_disabled(progress)
        ):
            writer.write(f.image)
            frames.append(
                {
                    "index": f.index,
                    "time_s": round(f.time_s, 4),
                    "label": f.label,
                    "severity": f.severity,
                    "frozen": f.frozen,
                    "lesions": [{"kind": k, "box": list(b)} for k, b in f.lesions],
                }
            )
    finally:
        writer.release()
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(_clip_meta(scanner, frames), indent=1))
    return json_path


def _clip_meta(scanner: Scanner, frames: list[dict[str, object]]) -> dict[str, object]:
    """A clip's ground truth: the patient, the exam, the fan geometry, the panels and every frame's labels."""
    h, w = scanner.size
    p = scanner.patient
    return {
        "note": NOTE,
        "fps": scanner.fps,
        "size": [h, w],
        "site_id": scanner.profile.site_id,
        "patient": {
            "patient_id": p.patient_id,
            "condition": p.condition,
            "label": p.label,
            "severity": p.severity,
            "lesion": p.lesion,
            "seed": p.seed,
        },
        "exam": exam_columns(scanner),
        "fan_geometry": [asdict(g) for g in scanner.geometries],
        "panels": [list(b) for b in scanner.panels],
        "frames": frames,
    }
