"""Image measurements used by the simulator tests (what the images MEAN), on screen frames.

Not a test module itself; imported by tests/test_sim*.py.
"""

from __future__ import annotations

import cv2
import numpy as np

from liveredge.edge.sim import Scanner


def grey(scanner: Scanner, i: int) -> np.ndarray:
    return scanner.frame(i).image[:, :, 1].astype(np.float32)


def mean_over(scanner: Scanner, frames: range, fn) -> float:  # type: ignore[no-untyped-def]
    return float(np.mean([fn(scanner, i) for i in frames]))


def hepatorenal_ratio(scanner: Scanner, i: int) -> float:
    """Mean liver grey / mean renal-cortex grey, liver taken in the kidney's depth band (as the HRI)."""
    img, maps = grey(scanner, i), scanner.region_maps(i)
    kid = maps["kidney"]
    rows = np.where(kid.any(axis=1))[0]
    band = np.zeros_like(kid)
    band[rows.min() : rows.max() + 1] = True
    liver = cv2.erode(maps["liver"].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & band
    return float(img[liver].mean() / max(img[kid].mean(), 1.0))


def depth_slope(scanner: Scanner, i: int) -> float:
    """Slope (grey levels per cm of depth) of the mean liver grey level versus depth."""
    img, maps = grey(scanner, i), scanner.region_maps(i)
    liver = cv2.erode(maps["liver"].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    ys, xs = np.nonzero(liver)
    geo = scanner.geometries[0]
    _, depth, _ = geo.to_beam(xs.astype(np.float32), ys.astype(np.float32))
    return float(np.polyfit(depth, img[ys, xs], 1)[0])


def heterogeneity(scanner: Scanner, i: int) -> float:
    """Coefficient of variation of 15x15 local means of the liver around its depth trend (coarse texture)."""
    img, maps = grey(scanner, i), scanner.region_maps(i)
    local = cv2.blur(img, (15, 15))
    inner = cv2.erode(maps["liver"].astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    ys, xs = np.nonzero(inner)
    vals = local[ys, xs]
    trend = np.polyval(np.polyfit(ys, vals, 2), ys)  # remove the depth trend (TGC / attenuation mismatch)
    return float((vals - trend).std() / vals.mean())


def surface_roughness(scanner: Scanner, i: int) -> float:
    """Residual (px) of the liver's deep surface (liver/diaphragm boundary) around a smooth cubic fit."""
    maps = scanner.region_maps(i)
    organ = maps["liver"] | maps["vessel"] | maps["gallbladder"] | maps["lesion"]
    dia = maps["diaphragm"]
    xs, ys = [], []
    for x in range(organ.shape[1]):
        col_d = np.nonzero(dia[:, x])[0]
        col_l = np.nonzero(organ[:, x])[0]
        if len(col_d) and len(col_l) and col_l.max() < col_d.min() + 3:
            xs.append(x)
            ys.append(col_d.min())
    xs_a, ys_a = np.array(xs, float), np.array(ys, float)
    fit = np.polyval(np.polyfit(xs_a, ys_a, 3), xs_a)
    return float(np.sqrt(np.mean((ys_a - fit) ** 2)))


def cyst_contrast(scanner: Scanner, i: int) -> tuple[float, float, float]:
    """(interior, surrounding liver, posterior) mean grey of the (first) lesion."""
    img, maps = grey(scanner, i), scanner.region_maps(i)
    les = maps["lesion"].astype(np.uint8)
    inner = cv2.erode(les, np.ones((5, 5), np.uint8)).astype(bool)
    ring = cv2.dilate(les, np.ones((15, 15), np.uint8)).astype(bool) & ~cv2.dilate(
        les, np.ones((5, 5), np.uint8)
    ).astype(bool)
    ring &= maps["liver"]
    x, y, w, h = cv2.boundingRect(les)
    behind = np.zeros_like(inner)
    behind[y + h + 2 : y + h + 2 + h // 2, x + w // 4 : x + w - w // 4] = True
    behind &= maps["liver"]
    return float(img[inner].mean()), float(img[ring].mean()), float(img[behind].mean())
