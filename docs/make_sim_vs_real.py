"""Render docs/img/sim_vs_real.png: real scanner screens (pydicom's bundled examples) beside simulated ones.

Top row: the Philips curvilinear palette example and the phased-array YBR cine (frame 0), as read by
``liveredge.edge.preprocess.dicom.read_dicom``. Bottom row: simulated normal livers through a curvilinear (S1)
and a phased (S6) profile at the same screen sizes, plus the homogeneous phantom. Real images: pydicom test data
(not liver). Simulated images: SIMULATED, not for clinical use.

Run: ``.venv/bin/python docs/make_sim_vs_real.py [OUT.png]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.preprocess.dicom import read_dicom
from liveredge.edge.sim import Scanner, get_profile, make_patient
from liveredge.edge.sim.phantom import PhantomSpec, render_phantom

TILE = (300, 400)  # (height, width) of every tile


def _fit(img: np.ndarray, title: str) -> np.ndarray:
    """Letterbox ``img`` into a TILE, titled."""
    h, w = img.shape[:2]
    s = min(TILE[0] / h, TILE[1] / w)
    small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    tile = np.zeros((*TILE, 3), np.uint8)
    y, x = (TILE[0] - small.shape[0]) // 2, (TILE[1] - small.shape[1]) // 2
    tile[y : y + small.shape[0], x : x + small.shape[1]] = small if small.ndim == 3 else small[:, :, None]
    cv2.putText(tile, title, (6, TILE[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 220, 255), 1, cv2.LINE_AA)
    return tile


def render() -> np.ndarray:
    """The 2 x 3 comparison as one BGR image."""
    from pydicom.data import get_testdata_file

    real = [
        read_dicom(get_testdata_file(n), max_frames=1).frames[0]
        for n in ("examples_palette.dcm", "examples_ybr_color.dcm")
    ]
    patient = make_patient("compare", "normal", seed=3)
    sim = [
        Scanner(patient, get_profile(site), size=real[k].shape[:2], seed=1).frame(0).image
        for k, site in enumerate(("S1", "S6"))
    ]
    ph = render_phantom(PhantomSpec(probe="curvilinear", frequency_mhz=3.5, depth_cm=15.0, size=(350, 420)))
    top = [
        _fit(real[0], "REAL curvilinear (pydicom palette)"),
        _fit(real[1], "REAL phased, THI (pydicom YBR)"),
        _fit(ph.image[:, :, None].repeat(3, 2), "SIM homogeneous phantom 3.5 MHz"),
    ]
    mode = {s: "THI" if get_profile(s).harmonic else "fundamental" for s in ("S1", "S6")}
    bottom = [
        _fit(sim[0], f"SIM S1 curvilinear {mode['S1']} (SIMULATED)"),
        _fit(sim[1], f"SIM S6 phased {mode['S6']} (SIMULATED)"),
        _fit(cv2.cvtColor(ph.image[60:200, 130:290], cv2.COLOR_GRAY2BGR), "SIM phantom, zoom"),
    ]
    return np.vstack([np.hstack(top), np.hstack(bottom)])


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent / "img" / "sim_vs_real.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), render())
    print(f"wrote {out} (real: pydicom example files; simulated: SIMULATED, not for clinical use)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
