"""liveredge.convert — workstation toolchain: ingest, calibrate, quantise to int8, prove, gate, sign.

Heavy imports (TensorFlow, onnx, onnx2tf) happen inside functions, never here.

Pipeline (:func:`liveredge.convert.pipeline.convert`, CLI ``liveredge convert``)::

    ingest (.keras | .h5 | SavedModel/ | .onnx)  → float32 TFLite, float parity on real frames
    calibration frames (manifest/images/video/DICOM → prepare_frame, stratified, hashed)
    quantise (full-integer int8, per-channel) → prove the contract (FlatBuffer parse) → gate (LiteRT)
    recovery loop on failure (percentile, more data, float islands / 16x8 on cpu|jetson only)
    per-layer error report → OUT.tflite + OUT.float32.tflite (+ metadata, .sha256, .statement.json) + reports

Modules: ``ingest``, ``data``, ``checks``, ``quantize``, ``contract``, ``runner``, ``gate``, ``layers``,
``recover``, ``edgetpu``, ``report``, ``formats`` (bench-formats), ``signing``, ``embed``.

PreprocessSpec sidecar (written by the models part next to every Keras model it makes)::

    path/liver_cnn.keras            → path/liver_cnn.liveredge.json
    path/liver_cnn_savedmodel/      → path/liver_cnn_savedmodel.liveredge.json or path/liver_cnn.liveredge.json
                                      beside it, else path/liver_cnn_savedmodel/liveredge.json inside it
    {"name": str, "labels": [...], "preprocess": PreprocessSpec.to_dict(),
     "cam_output": null | int}      (index of the CAM output among the model outputs; output 0 is always the
                                      softmax probabilities)

A model without a sidecar (a third-party ONNX, say) takes its spec from ``--spec FILE.json`` (a sidecar-shaped
document or a bare PreprocessSpec) or from ``--mean``/``--std`` with input size and channels read from the model.
A model whose input size disagrees with its spec is an error. Grayscale is fed as 1 channel, or replicated to 3
when the model has 3 input channels; the decision is recorded in the report and the model's provenance.

Everything the shipped models learn is SIMULATED data, not for clinical use.
"""

__all__: list[str] = []
