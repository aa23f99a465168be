"""Benchmark the phantom simulator on ONE core: screen frames per second at 256x256 (target >= 150).

Writes bench/results/sim.json. OpenCV and the BLAS/OpenMP pools are pinned to one thread, so the number is
per core. The baseline measured in the same run is the naive way to make the same frame: full-grid FFT
convolution of a 256x256 complex scatterer field, envelope and log compression, without scan conversion or
overlays; the ratio says what the design (small beam-space grid, separable PSF, cached maps) buys here.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from liveredge.edge.sim import Scanner, get_profile, list_profiles, make_patient  # noqa: E402
from liveredge.edge.sim.anatomy import tissue_map  # noqa: E402
from liveredge.edge.sim.phantom import PhantomSpec, render_phantom  # noqa: E402

TARGET = 150.0
N_FRAMES = 120
OUT = Path(__file__).resolve().parent / "results" / "sim.json"


def _fps(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    fn(0)
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for i in range(1, n + 1):
            fn(i)
        best = max(best, n / (time.perf_counter() - start))
    return best


def _naive_fft_frame(rng: np.random.Generator) -> np.ndarray:
    field = (rng.standard_normal((256, 256)) + 1j * rng.standard_normal((256, 256))).astype(np.complex64)
    yy, xx = np.mgrid[-128:128, -128:128]
    psf = np.exp(-((xx / 2.5) ** 2) - (yy / 1.0) ** 2)
    env = np.abs(np.fft.ifft2(np.fft.fft2(field) * np.fft.fft2(np.fft.ifftshift(psf))))
    return np.clip(20 * np.log10(env + 1e-6) * 4 + 128, 0, 255).astype(np.uint8)


def main() -> int:
    cv2.setNumThreads(1)
    conditions = [
        ("normal", {}),
        ("steatosis", {"severity": 2}),
        ("fibrosis", {"severity": 4}),
        ("focal_lesion", {"lesion": "hcc"}),
    ]
    per_profile: dict[str, float] = {}
    for k, site in enumerate(list_profiles()):
        cond, kw = conditions[k % 4]
        scanner = Scanner(make_patient(f"bench{k}", cond, **kw), get_profile(site), size=(256, 256))  # type: ignore[arg-type]
        per_profile[site] = round(_fps(scanner.frame, N_FRAMES), 1)
    fps_256 = len(per_profile) / sum(1.0 / v for v in per_profile.values())  # harmonic mean: frames / total time
    s1 = Scanner(make_patient("bench0", "normal"), get_profile("S1"), size=(256, 256))
    bmode_fps = _fps(s1.bmode, N_FRAMES)
    big = Scanner(make_patient("bench0", "normal"), get_profile("S1"), size=(480, 640))
    fps_big = _fps(big.frame, N_FRAMES // 3)
    start = time.perf_counter()
    for k in range(5):
        tissue_map(make_patient(f"tissue{k}", "fibrosis", severity=3))
    tissue_ms = (time.perf_counter() - start) / 5 * 1000
    start = time.perf_counter()
    for k in range(5):
        render_phantom(PhantomSpec(probe="curvilinear", frequency_mhz=3.5, depth_cm=15.0, seed=k))
    phantom_ms = (time.perf_counter() - start) / 5 * 1000
    rng = np.random.default_rng(0)
    naive_fps = _fps(lambda i: _naive_fft_frame(rng), 30)
    result = {
        "frames_per_s_per_core_256": round(fps_256, 1),
        "target_frames_per_s_per_core_256": TARGET,
        "meets_target": fps_256 >= TARGET,
        "per_profile_256": per_profile,
        "bmode_only_frames_per_s_256": round(bmode_fps, 1),
        "frames_per_s_per_core_480x640": round(fps_big, 1),
        "tissue_map_ms_per_patient": round(tissue_ms, 1),
        "phantom_512_ms": round(phantom_ms, 1),
        "baseline_naive_fft_frames_per_s_256": round(naive_fps, 1),
        "speedup_vs_naive_fft": round(fps_256 / naive_fps, 2),
        "note": "screen frames incl. overlays and ground truth; one OpenCV thread; SIMULATED images",
        "machine": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "opencv": cv2.__version__,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
