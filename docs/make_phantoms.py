"""Render docs/img/phantoms.png: each class (rows) x three site profiles (columns), labelled.

Run: ``.venv/bin/python docs/make_phantoms.py [OUT.png]``. SIMULATED images, not for clinical use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.sim import Scanner, get_profile, make_patient

ROWS = (("normal", {}, "normal"), ("steatosis", {"severity": 3}, "steatosis S3"),
        ("fibrosis", {"severity": 4}, "fibrosis F4 (cirrhosis)"), ("focal_lesion", {"lesion": "cyst"}, "simple cyst"))
SITES = ("S1", "S3", "S4")
SIZE = (360, 440)


def render() -> np.ndarray:
    """The labelled grid as one BGR image."""
    rows = []
    for condition, kw, title in ROWS:
        patient = make_patient("demo", condition, seed=3, **kw)  # type: ignore[arg-type]
        tiles = []
        for site in SITES:
            img = Scanner(patient, get_profile(site), size=SIZE, seed=1).frame(12).image.copy()
            cv2.putText(img, f"{title} | {site}", (8, SIZE[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        (0, 200, 255), 1, cv2.LINE_AA)
            cv2.rectangle(img, (0, 0), (SIZE[1] - 1, SIZE[0] - 1), (60, 60, 60), 1)
            tiles.append(img)
        rows.append(np.hstack(tiles))
    grid = np.vstack(rows)
    banner = np.zeros((28, grid.shape[1], 3), np.uint8)
    cv2.putText(banner, "liveredge phantom simulator - SIMULATED images, not for clinical use",
                (8, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return np.vstack([banner, grid])


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent / "img" / "phantoms.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), render()):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
