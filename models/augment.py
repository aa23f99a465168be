"""Ultrasound-aware augmentation on preprocessed 8-bit images (numpy + OpenCV, cheap, deterministic per seed).

Works on the uint8 (B, h, w) images the runtime's preprocessing produces (pixel values 0..255, black outside
the fan) and returns float32 pixel values 0..255 of the same shape; :func:`to_model_input` then applies the
spec's normalisation. Every photometric change is multiplicative, so the masked background stays 0 as it is
on the device:

* geometry: horizontal flip (probe orientation), small rotation / scale / shift (probe placement);
* gain: one factor per image (``exp(U(-g, g))``);
* TGC: a smooth depth ramp (rows are depth: ``exp(a * (row/h - 0.5))``);
* dynamic range / grey map: a gamma ``255 * (x/255) ** exp(U(-d, d))`` and a contrast change about the mean
  grey of the fan (``m + c (x - m)``, c = exp(U(-k, k)), only inside the fan);
* resolution (probe frequency / PSF size): a Gaussian blur with sigma ~ U(0, max) pixels;
* speckle noise: multiplicative Gaussian noise (1 + s * N(0, 1)), s ~ U(0, max).

Why the contrast and blur terms: held-out site S6 (2.2 MHz, 70 dB) lies outside the training sites' ranges;
without them the reference CNN called 14 % of S6 focal-lesion frames "normal".
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.preprocess.spec import PreprocessSpec


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of each augmentation (0 disables it). Angles in degrees, shifts as a fraction of the size."""

    flip: bool = True
    rotate_deg: float = 8.0
    scale: float = 0.1
    shift: float = 0.06
    gain: float = 0.3
    tgc: float = 0.5
    gamma: float = 0.3
    contrast: float = 0.25
    blur_px: float = 1.2
    speckle: float = 0.15


def _geometry(img: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape
    if cfg.flip and rng.random() < 0.5:
        img = img[:, ::-1]
    if cfg.rotate_deg == 0 and cfg.scale == 0 and cfg.shift == 0:
        return np.ascontiguousarray(img)
    angle = rng.uniform(-cfg.rotate_deg, cfg.rotate_deg)
    scale = 1.0 + rng.uniform(-cfg.scale, cfg.scale)
    mat = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, scale)
    mat[:, 2] += rng.uniform(-cfg.shift, cfg.shift, size=2) * (w, h)
    return cv2.warpAffine(np.ascontiguousarray(img), mat, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def augment(batch: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """uint8 (B, h, w) → augmented float32 (B, h, w) pixel values in [0, 255]."""
    b, h, _ = batch.shape
    out = np.stack([_geometry(img, cfg, rng) for img in batch]).astype(np.float32)
    gain = np.exp(rng.uniform(-cfg.gain, cfg.gain, size=(b, 1, 1)))
    depth = (np.arange(h, dtype=np.float32) / max(h - 1, 1) - 0.5)[None, :, None]
    tgc = np.exp(rng.uniform(-cfg.tgc, cfg.tgc, size=(b, 1, 1)) * depth)
    out *= (gain * tgc).astype(np.float32)
    np.clip(out, 0.0, 255.0, out=out)
    gamma = np.exp(rng.uniform(-cfg.gamma, cfg.gamma, size=(b, 1, 1))).astype(np.float32)
    out = 255.0 * np.power(out / 255.0, gamma)
    out = _contrast_blur(out, cfg, rng)
    if cfg.speckle > 0:
        sigma = rng.uniform(0.0, cfg.speckle, size=(b, 1, 1)).astype(np.float32)
        out *= 1.0 + sigma * rng.standard_normal(out.shape, dtype=np.float32)
    return np.clip(out, 0.0, 255.0).astype(np.float32)


def _contrast_blur(out: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Per image: contrast about the fan's mean grey (inside the fan only), then a Gaussian blur."""
    for i in range(len(out)):
        fan = out[i] > 0
        if cfg.contrast > 0 and fan.any():
            mean = float(out[i][fan].mean())
            c = float(np.exp(rng.uniform(-cfg.contrast, cfg.contrast)))
            out[i] = np.where(fan, np.maximum(mean + c * (out[i] - mean), 0.5), 0.0)
        if cfg.blur_px > 0:
            sigma = float(rng.uniform(0.0, cfg.blur_px))
            if sigma > 0.3:
                out[i] = cv2.GaussianBlur(out[i], (0, 0), sigma) * fan
    return out


def to_model_input(pixels: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """Pixel values (B, h, w) (uint8 or float 0..255) → float32 (B, h, w, channels) per the spec's step 5.

    For uint8 input this equals ``spec.normalize`` frame by frame (same table); for augmented float pixels it
    is the same formula without rounding to 8 bits first.
    """
    if pixels.dtype == np.uint8:
        x = spec.float_lut()[pixels]
    else:
        x = ((pixels.astype(np.float32) / 255.0 - np.float32(spec.mean)) / np.float32(spec.std)).astype(np.float32)
    x = x[..., None]
    return np.repeat(x, spec.channels, axis=-1) if spec.channels != 1 else x
