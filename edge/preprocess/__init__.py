"""The one preprocessing definition: how a scanner frame becomes a model input tensor.

Training, calibration, evaluation and the runtime all use :class:`PreprocessSpec` and the code in this
package; each model carries its spec in its metadata (:mod:`liveredge.edge.model_meta`).

- :func:`detect_region` / :func:`detect_region_video` find the ultrasound region (fan) once;
- :class:`Preprocessor` (``Preprocessor.from_region(spec, region)``) applies the spec per frame cheaply;
- :class:`RegionTracker` notices a geometry change (size, depth) so the runtime re-estimates;
- :func:`prepare_frame` is detect + apply in one call, for datasets and calibration (same code path).
"""

from liveredge.edge.preprocess.apply import Placement, Preprocessor
from liveredge.edge.preprocess.detect import as_bgr, detect_region, detect_region_video
from liveredge.edge.preprocess.pipeline import prepare_frame, prepare_gray
from liveredge.edge.preprocess.region import Panel, Region, Sector
from liveredge.edge.preprocess.spec import PreprocessSpec, dequantize, quantize
from liveredge.edge.preprocess.tracker import RegionTracker

__all__ = [
    "Panel",
    "Placement",
    "PreprocessSpec",
    "Preprocessor",
    "Region",
    "RegionTracker",
    "Sector",
    "as_bgr",
    "dequantize",
    "detect_region",
    "detect_region_video",
    "prepare_frame",
    "prepare_gray",
    "quantize",
]
