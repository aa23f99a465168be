"""liveredge.convert — workstation toolchain: ingest, calibrate, quantize to int8, prove, gate, sign.

Heavy imports (TensorFlow, onnx, onnx2tf) happen inside functions, never here.
"""

__all__: list[str] = []
