"""``PreprocessSpec`` — a frozen, JSON-serialisable definition of how a frame is fed to a model.

Pipeline (applied by :mod:`liveredge.edge.preprocess` code, never re-implemented elsewhere):

1. crop to the detected ultrasound region's bounding box (``crop="region"``) or keep the frame (``"full"``);
2. set pixels outside the region mask to 0 when ``mask_outside`` is true;
3. convert to 8-bit grayscale (BGR → luma; colour overlays inside the fan become grey);
4. resize to ``input_size`` = (height, width): ``"letterbox"`` keeps the aspect ratio and pads with 0,
   ``"stretch"`` does not keep it; OpenCV ``INTER_AREA`` when shrinking, ``INTER_LINEAR`` when enlarging;
5. normalise: ``x = (pixel / 255 - mean) / std`` as float32, layout (H, W, C) with C = ``channels``
   (1 = grayscale; 3 = the grayscale replicated, for models that expect RGB);
6. optionally quantise for an integer model input: ``q = clip(round(x / scale) + zero_point)``. Because
   step 5 is a function of the 8-bit pixel alone, :meth:`PreprocessSpec.lut` turns 5+6 into one
   256-entry table applied with ``cv2.LUT`` (exactly the same numbers, O(pixels)).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError

SPEC_VERSION = 1
_RESIZE = ("letterbox", "stretch")
_CROP = ("region", "full")
_QDTYPES = {"int8": np.int8, "uint8": np.uint8}


@dataclass(frozen=True)
class PreprocessSpec:
    """How a frame becomes a tensor. See the module docstring for the exact steps."""

    input_size: tuple[int, int] = (128, 128)
    channels: int = 1
    resize: str = "letterbox"
    crop: str = "region"
    mask_outside: bool = True
    mean: float = 0.0
    std: float = 1.0
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        size = tuple(int(v) for v in self.input_size)
        object.__setattr__(self, "input_size", size)
        if len(size) != 2 or min(size) < 8 or max(size) > 2048:
            raise ConfigError(f"PreprocessSpec.input_size must be (height, width) in 8..2048, got {self.input_size}")
        if self.channels not in (1, 3):
            raise ConfigError(f"PreprocessSpec.channels must be 1 or 3, got {self.channels}")
        if self.resize not in _RESIZE:
            raise ConfigError(f"PreprocessSpec.resize must be one of {_RESIZE}, got {self.resize!r}")
        if self.crop not in _CROP:
            raise ConfigError(f"PreprocessSpec.crop must be one of {_CROP}, got {self.crop!r}")
        if not (self.std > 0 and np.isfinite(self.std) and np.isfinite(self.mean)):
            raise ConfigError(f"PreprocessSpec needs a finite mean and std > 0, got mean={self.mean} std={self.std}")
        if self.version != SPEC_VERSION:
            raise ConfigError(
                f"PreprocessSpec version {self.version} is not supported (this build reads {SPEC_VERSION})"
            )

    # --- serialisation -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able dict."""
        data = asdict(self)
        data["input_size"] = list(self.input_size)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessSpec:
        """Build from :meth:`to_dict` output; unknown keys are an error (they would be silently ignored)."""
        if not isinstance(data, dict):
            raise ConfigError(f"PreprocessSpec must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"PreprocessSpec has unknown keys {unknown}; known keys: {sorted(known)}")
        kwargs = dict(data)
        if "input_size" in kwargs:
            kwargs["input_size"] = tuple(kwargs["input_size"])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"PreprocessSpec: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PreprocessSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"PreprocessSpec JSON is invalid: {exc}") from exc
        return cls.from_dict(data)

    # --- numbers -------------------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Model input shape without the batch axis: (height, width, channels)."""
        return (self.input_size[0], self.input_size[1], self.channels)

    def normalize(self, gray: np.ndarray) -> np.ndarray:
        """uint8 (H, W) grayscale → float32 (H, W, channels) per step 5."""
        if gray.dtype != np.uint8 or gray.ndim != 2:
            raise ConfigError(f"normalize expects a uint8 (H, W) image, got {gray.dtype} {gray.shape}")
        x = self.float_lut()[gray]
        return with_channels(x, self.channels)

    def float_lut(self) -> np.ndarray:
        """256-entry float32 table: pixel value → normalised value."""
        return ((np.arange(256, dtype=np.float32) / 255.0 - np.float32(self.mean)) / np.float32(self.std)).astype(
            np.float32
        )

    def lut(self, scale: float, zero_point: int, dtype: str) -> np.ndarray:
        """256-entry table: pixel value → quantised model input (steps 5 and 6 in one)."""
        return quantize(self.float_lut(), scale, zero_point, dtype)

    def quantize_array(self, gray: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
        """uint8 (H, W) grayscale → quantised (H, W, channels) through :meth:`lut`."""
        if gray.dtype != np.uint8 or gray.ndim != 2:
            raise ConfigError(f"quantize_array expects a uint8 (H, W) image, got {gray.dtype} {gray.shape}")
        return with_channels(self.lut(scale, zero_point, dtype)[gray], self.channels)


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """Affine quantisation ``q = clip(round(x / scale) + zero_point)`` to int8 or uint8."""
    if dtype not in _QDTYPES:
        raise ConfigError(f"quantisation dtype must be one of {sorted(_QDTYPES)}, got {dtype!r}")
    if not (scale > 0 and np.isfinite(scale)):
        raise ConfigError(f"quantisation scale must be > 0, got {scale}")
    info = np.iinfo(_QDTYPES[dtype])
    q = np.round(np.asarray(x, dtype=np.float64) / scale) + int(zero_point)
    return np.clip(q, info.min, info.max).astype(_QDTYPES[dtype])


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Inverse of :func:`quantize`: ``x = (q - zero_point) * scale`` as float32."""
    return ((np.asarray(q, dtype=np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)


def with_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """(H, W) → (H, W, channels): a trailing axis, the grey replicated when channels is 3."""
    if channels == 1:
        return x[..., None]
    return np.repeat(x[..., None], channels, axis=-1)
