"""Render the simulator figures in docs/img/:

- ``phantoms.png``: each class (rows) x four probes / views (columns), labelled;
- ``sim_vs_real.png``: the real scanner screens bundled with pydicom (top; all NON-liver: they show what
  real speckle, grey maps and screens look like) above simulated liver screens of similar probes (bottom).

Run: ``.venv/bin/python docs/make_phantoms.py [OUT_DIR]``. SIMULATED images, not for clinical use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.sim import Scanner, get_profile, make_patient

ROWS = (("normal", {}, "normal"), ("steatosis", {"severity": 3}, "steatosis S3"),
        ("fibrosis", {"severity": 4}, "fibrosis F4 (cirrhosis)"), ("focal_lesion", {"lesion": "cyst"}, "cyst"),
        ("focal_lesion", {"lesion": "metastasis"}, "metastases"))
COLUMNS = (("S1", "subcostal"), ("S6", "intercostal"), ("S2", "sagittal"), ("S4", "subcostal"))
SIZE = (360, 440)
REAL = (("examples_ybr_color.dcm", "real: SonoSite cardiac (phased)"),
        ("examples_palette.dcm", "real: Philips obstetric (curvilinear)"),
        ("examples_rgb_color.dcm", "real: GE lymph node + power Doppler"))
SIMULATED = (("S3", "intercostal", "steatosis", {"severity": 1}), ("S1", "subcostal", "normal", {}),
             ("S4", "sagittal", "focal_lesion", {"lesion": "hcc"}))
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
    return np.vstack([_banner(grid.shape[1], "liveredge phantom simulator - SIMULATED images, not for clinical use"),
                      grid])


def _fit(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(SIZE[0] / h, SIZE[1] / w)
    small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((*SIZE, 3), np.uint8)
    y, x = (SIZE[0] - small.shape[0]) // 2, (SIZE[1] - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def render_sim_vs_real() -> np.ndarray:
    """Real pydicom example screens (top) above simulated screens (bottom)."""
    from pydicom.data import get_testdata_file

    from liveredge.edge.preprocess.dicom import read_dicom

    top = [_label(_fit(read_dicom(get_testdata_file(name), max_frames=1).frames[0]), title) for name, title in REAL]
    bottom = []
    for site, view, condition, kw in SIMULATED:
        profile = get_profile(site)
        patient = make_patient("compare", condition, seed=2, view=view, profile=profile, **kw)  # type: ignore[arg-type]
        img = Scanner(patient, profile, size=(480, 640), seed=1).frame(5).image
        bottom.append(_label(_fit(img), f"SIMULATED liver: {site} {profile.kind}, {condition}"))
    grid = np.vstack([np.hstack(top), np.hstack(bottom)])
    return np.vstack([_banner(grid.shape[1], "top: real scanner screens (pydicom examples, not liver) | "
                                             "bottom: SIMULATED, not for clinical use"), grid])


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    for name, img in (("phantoms.png", render_grid()), ("sim_vs_real.png", render_sim_vs_real())):
        if not cv2.imwrite(str(out / name), img):
            print(f"could not write {out / name}", file=sys.stderr)
            return 1
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
