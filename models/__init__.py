"""liveredge.models — int8-friendly liver classifiers, training and evaluation (Keras 3 / TensorFlow).

Heavy imports (TensorFlow, Keras) happen inside modules that need them, never here.
"""

__all__: list[str] = []
