"""Two int8-friendly liver classifiers built from stock Keras 3 layers (a ``.keras`` file loads without this
module).

Both take the :class:`~liveredge.edge.preprocess.PreprocessSpec` input: float32 (batch, h, w, c), layout NHWC,
values ``(pixel / 255 - mean) / std`` (the default spec: grayscale, [0, 1]; an int8 model input then has
scale 1/255, zero_point -128). Output 0 is ALWAYS the softmax class probabilities (batch, n_classes), named
``probs``. With ``cam=True`` output 1, named ``cam``, is the class-activation map (batch, h/16, w/16, n_classes):
the last convolutional features times the classifier weights (a 1x1 convolution), i.e. the pre-softmax logits
per location. The classifier IS that 1x1 convolution followed by global average pooling (both linear, so
``mean(cam) == logits`` exactly); the map costs nothing extra and quantises like any convolution.

* :func:`edge_cnn` — MobileNetV2-style inverted residuals with ReLU6 (no swish/hard-swish, no SE): every op
  maps to an Edge TPU / int8 kernel (Conv2D, DepthwiseConv2D, Add, Mean, Softmax).
* :func:`hybrid` — MobileViT-style: convolutional stem of inverted residuals, then blocks of
  local 3x3 conv → 1x1 projection → transformer layers over the feature-map positions (tokens) → 1x1
  projection → concat with the block input → 3x3 fusion conv. Quantisation care: normalisation is
  BatchNormalization (an affine op at inference, folded by the converter) instead of LayerNorm, the MLP
  uses ReLU instead of GELU, attention has few heads and small key dims (softmax over <= 256 tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from liveredge.edge.preprocess.spec import PreprocessSpec

ARCHES = ("cnn", "hybrid")
# BatchNorm moving-average momentum. Keras' default 0.99 lags behind the fast-moving activations of a small
# network trained for a few hundred steps: the reference CNN scored 25 % (one class) in inference mode while
# 90 % in training mode after 4 epochs; 0.9 tracks the statistics within an epoch.
BN_MOMENTUM = 0.9


@dataclass(frozen=True)
class ArchConfig:
    """Architecture options. ``width`` multiplies every channel count (rounded to multiples of 8); ``head`` is the
    last 1x1 conv's base channels and ``last_stage`` the CNN's last inverted-residual stage's (MobileNetV2: 1280
    and 160/320)."""

    arch: str = "cnn"
    n_classes: int = 4
    width: float = 1.0
    cam: bool = True
    dropout: float = 0.2
    transformer_dim: int = 64
    transformer_layers: int = 2
    heads: int = 2
    head: int = 160
    last_stage: int = 80


def _ch(base: int, width: float) -> int:
    return max(8, int(round(base * width / 8.0)) * 8)


def conv_bn(
    x: keras.KerasTensor, filters: int, kernel: int, stride: int, name: str, act: bool = True
) -> keras.KerasTensor:
    """Conv (no bias) + BatchNorm (+ ReLU6): folds into one int8 convolution with fused activation."""
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu6")(x) if act else x


def inverted_residual(x: keras.KerasTensor, out_ch: int, stride: int, expand: int, name: str) -> keras.KerasTensor:
    """MobileNetV2 block: 1x1 expand (ReLU6) → 3x3 depthwise (ReLU6) → 1x1 linear project (+ skip)."""
    in_ch = int(x.shape[-1])
    y = conv_bn(x, in_ch * expand, 1, 1, f"{name}_expand") if expand != 1 else x
    y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_dw_relu6")(y)
    y = conv_bn(y, out_ch, 1, 1, f"{name}_project", act=False)
    if stride == 1 and in_ch == out_ch:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


def transformer_layer(t: keras.KerasTensor, dim: int, heads: int, name: str) -> keras.KerasTensor:
    """Pre-norm transformer layer on tokens (batch, n, dim): BN → MHA → add; BN → ReLU MLP (2x) → add."""
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_norm1")(t)
    y = layers.MultiHeadAttention(heads, key_dim=max(8, dim // heads), name=f"{name}_mha")(y, y)
    t = layers.Add(name=f"{name}_add1")([t, y])
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_norm2")(t)
    y = layers.Dense(dim * 2, activation="relu", name=f"{name}_mlp1")(y)
    y = layers.Dense(dim, name=f"{name}_mlp2")(y)
    return layers.Add(name=f"{name}_add2")([t, y])


def mobilevit_block(x: keras.KerasTensor, cfg: ArchConfig, name: str) -> keras.KerasTensor:
    """Local conv → tokens → transformer layers → back to the map → fuse with the input (MobileViT v1)."""
    h, w, ch = (int(v) for v in x.shape[1:])
    dim = _ch(cfg.transformer_dim, cfg.width)
    y = conv_bn(x, ch, 3, 1, f"{name}_local")
    y = layers.Conv2D(dim, 1, name=f"{name}_to_tokens")(y)
    t = layers.Reshape((h * w, dim), name=f"{name}_unfold")(y)
    for i in range(cfg.transformer_layers):
        t = transformer_layer(t, dim, cfg.heads, f"{name}_tf{i}")
    y = layers.Reshape((h, w, dim), name=f"{name}_fold")(t)
    y = conv_bn(y, ch, 1, 1, f"{name}_from_tokens")
    y = layers.Concatenate(name=f"{name}_concat")([x, y])
    return conv_bn(y, ch, 3, 1, f"{name}_fuse")


def _head(x: keras.KerasTensor, cfg: ArchConfig) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Dropout → 1x1 classifier conv (= CAM) → global average → softmax. Returns (probs, cam)."""
    if cfg.dropout > 0:
        x = layers.Dropout(cfg.dropout, name="head_dropout")(x)
    cam = layers.Conv2D(cfg.n_classes, 1, name="cam")(x)
    logits = layers.GlobalAveragePooling2D(name="logits")(cam)
    probs = layers.Softmax(name="probs")(logits)
    return probs, cam


def _cnn_body(x: keras.KerasTensor, cfg: ArchConfig) -> keras.KerasTensor:
    w = cfg.width
    x = conv_bn(x, _ch(16, w), 3, 2, "stem")
    stages = [(1, 16, 1, 1), (4, 24, 2, 2), (4, 32, 2, 2), (4, 64, 2, 2), (4, cfg.last_stage, 1, 1)]
    for s, (expand, out, stride, repeats) in enumerate(stages):
        for r in range(repeats):
            x = inverted_residual(x, _ch(out, w), stride if r == 0 else 1, expand, f"ir{s}_{r}")
    return conv_bn(x, _ch(cfg.head, w), 1, 1, "features")


def _hybrid_body(x: keras.KerasTensor, cfg: ArchConfig) -> keras.KerasTensor:
    w = cfg.width
    x = conv_bn(x, _ch(16, w), 3, 2, "stem")
    x = inverted_residual(x, _ch(16, w), 1, 1, "ir0")
    x = inverted_residual(x, _ch(24, w), 2, 4, "ir1")
    x = inverted_residual(x, _ch(32, w), 2, 4, "ir2")
    x = inverted_residual(x, _ch(48, w), 2, 4, "ir3")
    x = mobilevit_block(x, cfg, "mvit0")
    return conv_bn(x, _ch(cfg.head, w), 1, 1, "features")


def build(spec: PreprocessSpec, cfg: ArchConfig) -> keras.Model:
    """The classifier for ``spec``'s input shape; outputs ``[probs, cam]`` if ``cfg.cam`` else ``probs``."""
    if cfg.arch not in ARCHES:
        from liveredge.edge.errors import ConfigError

        raise ConfigError(f"unknown architecture {cfg.arch!r}; choose one of {ARCHES}")
    h, w = spec.input_size
    if h % 16 or w % 16:
        from liveredge.edge.errors import ConfigError

        raise ConfigError(f"input size {h}x{w} must be a multiple of 16 (four stride-2 stages)")
    inp = keras.Input(shape=spec.input_shape, name="image")
    body = _cnn_body if cfg.arch == "cnn" else _hybrid_body
    probs, cam = _head(body(inp, cfg), cfg)
    outputs = [probs, cam] if cfg.cam else probs
    return keras.Model(inp, outputs, name=f"liver_{cfg.arch}")


def probs_model(model: keras.Model) -> keras.Model:
    """A view of ``model`` (shared weights) with only the probabilities output, for training."""
    outputs = model.outputs
    return model if len(outputs) == 1 else keras.Model(model.input, outputs[0], name=f"{model.name}_probs")
