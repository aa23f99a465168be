"""The one preprocessing definition: how a scanner frame becomes a model input tensor.

Training, calibration, evaluation and the runtime all use :class:`PreprocessSpec` and the code in this
package; each model carries its spec in its metadata (:mod:`liveredge.edge.model_meta`).
"""

from liveredge.edge.preprocess.spec import PreprocessSpec

__all__ = ["PreprocessSpec"]
