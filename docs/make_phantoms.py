"""Render docs/img/phantoms.png: each class (rows) x four probes / views (columns), labelled (the comparison
with real scanner screens is docs/make_sim_vs_real.py).

Run: ``.venv/bin/python docs/make_phantoms.py [OUT_DIR]``. SIMULATED images, not for clinical use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.sim import Scanner, get_profile, make_patient

ROWS = (
    ("normal", {}, "normal"),
    ("steatosis", {"severity": 3}, "steatosis S3"),
    ("fibrosis", {"severity": 4}, "fibrosis F4 (cirrhosis)"),
    ("focal_lesion", {"lesion": "cyst"}, "cyst"),
    ("focal_lesion", {"lesion": "metastasis"}, "metastases"),
)
COLUMNS = (("S1", "subcostal"), ("S6", "intercostal"), ("S2", "sagittal"), ("S4", "subcostal"))
SIZE = (360, 440)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _label(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    cv2.putText(img, text, (8, img.shape[0] - 10), FONT, 0.5, (0, 200, 255), 1, cv2.LINE_AA)
    cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), (60, 60, 60), 1)
    return img


def _banner(width: int, text: str) -> np.ndarray:
    banner = np.zeros((28, width, 3), np.uint8)
    cv2.putText(banner, text, (8, 19), FONT, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return banner


def render_grid() -> np.ndarray:
    """Classes x probes/views as one BGR image."""
    rows = []
    for condition, kw, title in ROWS:
        tiles = []
        for site, view in COLUMNS:
            profile = get_profile(site)
            patient = make_patient("demo", condition, seed=3, view=view, profile=profile, **kw)  # type: ignore[arg-type]
            img = Scanner(patient, profile, size=SIZE, seed=1).frame(12).image
            tiles.append(_label(img, f"{title} | {site} {profile.kind} | {view}"))
        rows.append(np.hstack(tiles))
    grid = np.vstack(rows)
    return np.vstack(
        [_banner(grid.shape[1], "liveredge phantom simulator - SIMULATED images, not for clinical use"), grid]
    )


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out / "phantoms.png"), render_grid()):
        print(f"could not write {out / 'phantoms.png'}", file=sys.stderr)
        return 1
    print(out / "phantoms.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
