"""Helpers (no tests) for the models tests: tiny real datasets rendered by the phantom simulator, PNG + manifest."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2

from liveredge.edge.sim import CLASSES, Scanner, get_profile, make_patient

FIELDS = ["path", "mask_path", "label", "severity", "patient_id", "site_id"]


def write_dataset(root: Path, sites: dict[str, int], frames: int = 2, size: tuple[int, int] = (256, 256)) -> Path:
    """``sites`` maps site id -> patients per class. Returns ``root`` holding PNGs and ``manifest.csv``."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for s, (site, per_class) in enumerate(sites.items()):
        for c, cls in enumerate(CLASSES):
            for k in range(per_class):
                pid = f"{site}-{cls[:3]}-{k}"
                seed = 1000 * s + 10 * c + k
                scanner = Scanner(make_patient(pid, cls, seed=seed), get_profile(site), size=size, seed=seed)
                for f in scanner.frames(frames):
                    img, mask = f"img/{pid}_{f.index}.png", f"mask/{pid}_{f.index}.png"
                    for rel, arr in ((img, f.image), (mask, f.fan_mask)):
                        (root / rel).parent.mkdir(exist_ok=True)
                        cv2.imwrite(str(root / rel), arr)
                    rows.append(
                        {
                            "path": img,
                            "mask_path": mask,
                            "label": f.label,
                            "severity": f.severity,
                            "patient_id": pid,
                            "site_id": site,
                        }
                    )
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return root


def rewrite_manifest(src: Path, dst: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """Copy ``src/manifest.csv`` to ``dst`` (absolute paths) after ``edit(rows) -> rows``."""
    with open(src / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["path"], r["mask_path"] = str(src / r["path"]), str(src / r["mask_path"])
    rows = edit(rows)
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    return dst
