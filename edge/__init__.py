"""liveredge.edge — the on-device runtime (no TensorFlow, Keras or onnx).

Also home of the contracts every part shares (see docs/architecture.md):
the exception root (:mod:`liveredge.edge.errors`), the phantom simulator
(:mod:`liveredge.edge.sim`), ``PreprocessSpec`` (:mod:`liveredge.edge.preprocess`)
and the model-metadata schema (:mod:`liveredge.edge.model_meta`).

Importing this package must stay cheap: no heavy imports at module level here.
"""

__all__: list[str] = []

# OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, when cv2 loads: set our backstop before any module imports cv2.
from liveredge.edge import bounds as _bounds  # noqa: F401  (standard library only)
