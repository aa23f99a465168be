"""Manifest datasets and patient-level splits (pure Python + numpy; no TensorFlow).

A dataset is a folder with ``manifest.csv`` (from ``liveredge simulate dataset``, or written by hand for real
images) with at least the columns ``path, label, patient_id, site_id``; optional ``mask_path`` (the ultrasound
region mask, uint8 {0, 255}) and ``split`` (train | val | test | holdout, to fix the split yourself). Paths are
relative to the dataset folder (or absolute). ``label`` is a class name (e.g. ``steatosis``) or a class index.

Splits are by PATIENT: every frame of a patient lands in one split, and :func:`check_splits` proves it (frames
of one patient are near-duplicates; image-level splits inflate AUC — see docs of Byra 2018 / Zamanian 2021).
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveredge.edge.errors import DataError
from liveredge.edge.events import CLASSES

DEFAULT_LABELS: tuple[str, ...] = CLASSES
SPLITS: tuple[str, ...] = ("train", "val", "test", "holdout")
REQUIRED = ("path", "label", "patient_id", "site_id")
_SHOW = 10  # offending rows listed in an error message


@dataclass(frozen=True)
class Record:
    """One manifest row: ``row`` is the 1-based CSV line number (header = line 1)."""

    row: int
    path: Path
    label: int
    patient_id: str
    site_id: str
    mask_path: Path | None = None
    split: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A validated dataset: records, class names and the manifest's SHA-256 (for caches and provenance)."""

    root: Path
    records: tuple[Record, ...]
    labels: tuple[str, ...]
    sha256: str

    @property
    def y(self) -> np.ndarray:
        return np.array([r.label for r in self.records], dtype=np.int64)

    @property
    def patients(self) -> np.ndarray:
        return np.array([r.patient_id for r in self.records])

    @property
    def sites(self) -> np.ndarray:
        return np.array([r.site_id for r in self.records])


def _rows_text(rows: Sequence[str]) -> str:
    more = f" (+{len(rows) - _SHOW} more)" if len(rows) > _SHOW else ""
    return "; ".join(rows[:_SHOW]) + more


def parse_label(value: str, labels: Sequence[str]) -> int | None:
    """Class index for a name (case-insensitive) or an index string; None if unknown."""
    text = value.strip()
    lowered = [name.lower() for name in labels]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    if text.isdigit() and int(text) < len(labels):
        return int(text)
    return None


def read_manifest(dataset: str | Path, labels: Sequence[str] = DEFAULT_LABELS, *, check_files: bool = True) -> Manifest:
    """Read and validate ``DATASET/manifest.csv`` (or a CSV path). Raises :class:`DataError` listing bad rows."""
    path = Path(dataset)
    csv_path = path / "manifest.csv" if path.is_dir() else path
    if not csv_path.is_file():
        raise DataError(
            f"{csv_path}: no manifest found; make one with 'liveredge simulate dataset' or write a CSV "
            f"with columns {', '.join(REQUIRED)}"
        )
    raw = csv_path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    header = set(rows[0]) if rows else set()
    missing = [c for c in REQUIRED if c not in header]
    if not rows or missing:
        raise DataError(f"{csv_path}: manifest is empty or lacks columns {missing}; needs {', '.join(REQUIRED)}")
    records, bad_label, bad_split, bad_file = [], [], [], []
    for i, row in enumerate(rows, start=2):
        label = parse_label(row["label"] or "", labels)
        split = (row.get("split") or "").strip() or None
        if label is None:
            bad_label.append(f"row {i}: {row['label']!r}")
        if split is not None and split not in SPLITS:
            bad_split.append(f"row {i}: {split!r}")
        img = _resolve(csv_path.parent, row["path"])
        mask = _resolve(csv_path.parent, row["mask_path"]) if (row.get("mask_path") or "").strip() else None
        if check_files:
            bad_file += [f"row {i}: {p}" for p in (img, mask) if p is not None and not p.is_file()]
        records.append(Record(i, img, label or 0, row["patient_id"].strip(), row["site_id"].strip(), mask, split))
    if bad_label:
        raise DataError(f"{csv_path}: unknown labels (known: {', '.join(labels)}): {_rows_text(bad_label)}")
    if bad_split:
        raise DataError(f"{csv_path}: unknown split values (use {', '.join(SPLITS)}): {_rows_text(bad_split)}")
    if bad_file:
        raise DataError(f"{csv_path}: {len(bad_file)} files are missing: {_rows_text(bad_file)}")
    empty = [f"row {r.row}" for r in records if not r.patient_id or not r.site_id]
    if empty:
        raise DataError(f"{csv_path}: empty patient_id or site_id: {_rows_text(empty)}")
    return Manifest(csv_path.parent, tuple(records), tuple(labels), hashlib.sha256(raw).hexdigest())


def _resolve(root: Path, value: str) -> Path:
    p = Path(value.strip())
    return p if p.is_absolute() else root / p


def split_patients(
    manifest: Manifest, *, holdout_site: str | None = None, val_frac: float = 0.2, test_frac: float = 0.0, seed: int = 0
) -> dict[str, list[str]]:
    """Patient ids per split ("train", "val", "test", "holdout"), stratified by the patient's label and site.

    A manifest ``split`` column wins when present. ``holdout_site`` moves every patient of that site to
    "holdout"; a patient seen at the held-out site AND elsewhere is rejected (it would leak across splits).
    """
    if any(r.split for r in manifest.records):
        return _given_splits(manifest)
    patient_label = _patient_labels(manifest)
    patient_sites: dict[str, set[str]] = defaultdict(set)
    for r in manifest.records:
        patient_sites[r.patient_id].add(r.site_id)
    if holdout_site is not None and holdout_site not in {r.site_id for r in manifest.records}:
        raise DataError(f"held-out site {holdout_site!r} is not in the manifest (sites: {sorted(set(manifest.sites))})")
    mixed = sorted(p for p, s in patient_sites.items() if holdout_site in s and len(s) > 1)
    if mixed:
        raise DataError(
            f"patients appear at the held-out site {holdout_site!r} and at other sites, which would leak "
            f"across splits: {_rows_text(mixed)}; give them one site or hold out another site"
        )
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    strata: dict[tuple[int, str], list[str]] = defaultdict(list)
    for pid in sorted(patient_label):
        site = min(patient_sites[pid])
        if site == holdout_site:
            out["holdout"].append(pid)
        else:
            strata[(patient_label[pid], site)].append(pid)
    rng = np.random.default_rng(seed)
    for key in sorted(strata):
        pids = list(rng.permutation(strata[key]))
        n_val = int(round(len(pids) * val_frac))
        n_test = int(round(len(pids) * test_frac))
        out["val"] += pids[:n_val]
        out["test"] += pids[n_val : n_val + n_test]
        out["train"] += pids[n_val + n_test :]
    return {k: sorted(v) for k, v in out.items()}


def _patient_labels(manifest: Manifest) -> dict[str, int]:
    """The majority label of each patient (used only to stratify)."""
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for r in manifest.records:
        counts[r.patient_id][r.label] += 1
    return {p: c.most_common(1)[0][0] for p, c in counts.items()}


def _given_splits(manifest: Manifest) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {s: set() for s in SPLITS}
    unsplit = [f"row {r.row}" for r in manifest.records if not r.split]
    if unsplit:
        raise DataError(f"the manifest's split column is filled only in part; empty at {_rows_text(unsplit)}")
    for r in manifest.records:
        out[str(r.split)].add(r.patient_id)
    check_splits({k: sorted(v) for k, v in out.items()})
    return {k: sorted(v) for k, v in out.items()}


def check_splits(splits: dict[str, list[str]]) -> None:
    """Raise :class:`DataError` if any patient is in more than one split."""
    seen: dict[str, list[str]] = defaultdict(list)
    for name, pids in splits.items():
        for pid in pids:
            seen[pid].append(name)
    leaked = sorted(f"{pid} in {'+'.join(names)}" for pid, names in seen.items() if len(names) > 1)
    if leaked:
        raise DataError(f"patient leakage: {len(leaked)} patients are in more than one split: {_rows_text(leaked)}")


def split_indices(manifest: Manifest, splits: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Frame indices per split (after :func:`check_splits`)."""
    check_splits(splits)
    where = {pid: name for name, pids in splits.items() for pid in pids}
    names = np.array([where.get(r.patient_id, "") for r in manifest.records])
    return {name: np.flatnonzero(names == name) for name in splits}


def check_classes(manifest: Manifest, idx: dict[str, np.ndarray], required: Sequence[str] = ("train", "val")) -> None:
    """Raise if a required (non-empty) split lacks a class: a model cannot learn or be checked on it."""
    problems = []
    for name in required:
        present = set(manifest.y[idx.get(name, np.array([], dtype=int))].tolist())
        lacking = [manifest.labels[k] for k in range(len(manifest.labels)) if k not in present]
        if lacking:
            problems.append(f"split {name!r} ({len(idx.get(name, []))} frames) has no {', '.join(lacking)}")
    if problems:
        raise DataError(
            "a split is left without a class: "
            + "; ".join(problems)
            + ". Add patients of those classes or change --val-frac / --holdout-site"
        )
