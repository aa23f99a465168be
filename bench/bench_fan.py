"""Fan detection on real-screen failure modes (issue 18) and the no-regression numbers, on ONE core.

Writes bench/results/fan.json. All frames are SIMULATED (not for clinical use):

- ``sim_screens``: IoU of the detected panels' union against the simulator's fan mask over the cases of
  tests/test_preprocess_detect.py (every named site, single/dual, Doppler or not, three sizes; 360 frames);
- ``touching_dual``: the touching dual-panel screen of tests/real_screens.py, one still and a 12-frame window
  (and the still through JPEG quality 60): panels found, pixels of each mask outside its own panel, grey-bar
  and icon pixels inside any mask, share of each panel covered;
- ``fluid_far_field``: IoU against the true sector of 30-frame windows and single stills, by far-field echo
  density (0 = black: the JSON must say why, unless the screen's depth ruler gives the depth);
- ``apply_ms``: ``Preprocessor.apply`` per 640x480 frame into 128x128 (best of 5 x 200 calls).
About 1 minute.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic screens and the simulated cases are the tests' own

from real_screens import fluid_far_field_sector, rect_truth, touching_dual_linear  # noqa: E402
from test_preprocess_detect import _cases, _union  # noqa: E402

from liveredge.edge.preprocess import Preprocessor, PreprocessSpec, detect_region, detect_region_video  # noqa: E402
from liveredge.edge.preprocess.fit import iou  # noqa: E402
from liveredge.edge.sim import CLASSES, Scanner, get_profile, make_patient  # noqa: E402

OUT = ROOT / "bench" / "results" / "fan.json"


def sim_screens() -> dict[str, float]:
    ious = []
    for site, dual, doppler, size, k in _cases():
        patient = make_patient(f"T{k}", CLASSES[k % 4], seed=k, view=("subcostal", "sagittal")[k % 2])
        scanner = Scanner(patient, get_profile(site), size=size, dual_panel=dual, doppler=doppler, seed=k)
        for i in (0, 9, 23, 41, 66):
            frame = scanner.frame(i)
            region = detect_region(frame.image)
            ious.append(iou(_union(region), frame.fan_mask) if region.ok else 0.0)
    return {"frames": len(ious), "mean_iou": round(float(np.mean(ious)), 5), "min_iou": round(float(np.min(ious)), 4)}


def _dual_report(region: Any, screen: Any) -> dict[str, Any]:
    furniture = np.zeros(region.frame_shape, bool)
    for x, y, w, h in (screen.greybar, screen.icon):
        furniture[y : y + h, x : x + w] = True
    out: dict[str, Any] = {"panels": len(region.panels), "live_panel": region.live_panel, "per_panel": []}
    for panel, box in zip(region.panels, screen.panels, strict=True):
        truth, mask = rect_truth(box) > 0, panel.mask > 0
        out["per_panel"].append(
            {
                "bbox": list(panel.bbox),
                "px_outside_own_panel": int(np.count_nonzero(mask & ~truth)),
                "bar_or_icon_px_in_mask": int(np.count_nonzero(mask & furniture)),
                "panel_covered": round(float(np.count_nonzero(mask & truth) / np.count_nonzero(truth & ~furniture)), 4),
            }
        )
    return out


def touching_dual() -> dict[str, Any]:
    screen = touching_dual_linear()
    jpeg = cv2.imdecode(cv2.imencode(".jpg", screen.frames[0], [cv2.IMWRITE_JPEG_QUALITY, 60])[1], cv2.IMREAD_COLOR)
    return {
        "still": _dual_report(detect_region(screen.frames[0]), screen),
        "window_12": _dual_report(detect_region_video(screen.frames), screen),
        "still_jpeg60": _dual_report(detect_region(jpeg), screen),
    }


def fluid_far_field() -> list[dict[str, Any]]:
    rows = []
    for density, seed, ruler in (
        (0.0, 1, False),
        (0.0, 1, True),
        (0.0005, 3, False),
        (0.001, 2, False),
        (0.002, 5, False),
        (0.004, 0, False),
    ):
        screen = fluid_far_field_sector(n_frames=30, seed=seed, echo_density=density, ruler=ruler)
        window, still = detect_region_video(screen.frames), detect_region(screen.frames[0])
        for mode, region in (("window_30", window), ("still", still)):
            rows.append(
                {
                    "echo_density": density,
                    "seed": seed,
                    "ruler": ruler,
                    "input": mode,
                    "status": region.status,
                    "iou": round(iou(region.mask, screen.mask), 4),
                    **region.to_dict()["panels"][0],
                }
                if region.ok
                else {
                    "echo_density": density,
                    "seed": seed,
                    "ruler": ruler,
                    "input": mode,
                    "status": region.status,
                    "iou": 0.0,
                    "why": region.partial,
                }
            )
    return rows


def _best_ms(pre: Preprocessor, frames: list[np.ndarray]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for i in range(200):
            pre.apply(frames[i % len(frames)])
        best = min(best, (time.perf_counter() - start) / 200 * 1000.0)
    return round(best, 4)


def apply_ms() -> dict[str, float]:
    dual = touching_dual_linear().frames
    fluid = fluid_far_field_sector(n_frames=30).frames
    sim = Scanner(make_patient("b", "normal", view="subcostal"), get_profile("S1"), size=(480, 640))
    sim_frames = [sim.frame(i).image for i in range(10)]
    spec = PreprocessSpec()
    return {
        "touching_dual_live_panel": _best_ms(Preprocessor.from_region(spec, detect_region(dual[0])), dual),
        "fluid_sector_window": _best_ms(Preprocessor.from_region(spec, detect_region_video(fluid)), fluid),
        "sim_S1": _best_ms(Preprocessor.from_region(spec, detect_region(sim_frames[0])), sim_frames),
    }


def main() -> int:
    cv2.setNumThreads(1)
    result = {
        "benchmark": "fan",
        "note": "SIMULATED screens, not for clinical use; one core",
        "sim_screens": sim_screens(),
        "touching_dual": touching_dual(),
        "fluid_far_field": fluid_far_field(),
        "apply_ms": apply_ms(),
        "opencv": cv2.__version__,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("sim_screens", "apply_ms")}, indent=2))
    for row in result["fluid_far_field"]:
        print(
            f"fluid density {row['echo_density']:<6} ruler {row['ruler']!s:<5} {row['input']:<9} "
            f"{row['status']:<13} IoU {row['iou']:.3f} "
            f"{row.get('partial_evidence') or row.get('why') or ''}"[:160]
        )
    for mode, rep in result["touching_dual"].items():
        print(f"touching dual {mode:<12} panels {rep['panels']} live {rep['live_panel']} {rep['per_panel']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
