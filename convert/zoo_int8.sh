#!/usr/bin/env bash
# Re-convert reference models to signed, gated int8 TFLite (ONE command), with the gate their recipes use:
#     make zoo-int8 [MODELS="models/zoo/liver_hybrid.keras"] [ZOO_DATA=out/zoo_v2/data] [ZOO_KEY=...] ZOO_VERSION=N
# Calibration: ZOO_DATA/train (training seed range); gate: ZOO_DATA/val (the validation set every recipe since v2
# uses: seed 2027, random:100000-100048 + S6), budget agreement 0.985 / AUC 0.005, the "not a liver" gate required.
# ZOO_DATA is what `make zoo-v2` makes (models/recipe_v2.sh). The recipes (models/recipe_v3.sh, `make zoo`,
# `make zoo-hybrid`) already convert what they train; use this to re-sign or re-gate a model in models/zoo/.
# Outputs: models/zoo/<name>_int8.tflite (+ .float32.tflite, .sha256, .statement.json, .report.json/.html,
# .layers.png). Statements: role release (gate passed) or rejected, the float32 twin dev. ZOO_VERSION is the release
# version: it must be higher than the shipped one (devices refuse an older one, docs/security.md), so it has no
# default. TensorFlow's converter is not bit-reproducible run to run: a re-conversion is a new release.
# Everything here is SIMULATED data: NOT for clinical use.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${ZOO_DATA:-out/zoo_v2/data}"
KEY="${ZOO_KEY:-/work/keys/liveredge-zoo.key}"
LR="${LIVEREDGE:-.venv/bin/liveredge}"
PY="${PYTHON:-.venv/bin/python}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
read -r -a models <<< "${MODELS:-models/zoo/liver_cnn.keras models/zoo/liver_hybrid.keras}"
if [ -z "${ZOO_VERSION:-}" ]; then
    echo "zoo-int8: set ZOO_VERSION to the new release version (higher than the statement in models/zoo/)" >&2
    exit 2
fi
for f in "$DATA/train/manifest.csv" "$DATA/val/manifest.csv"; do
    [ -f "$f" ] || { echo "zoo-int8: $f is missing: run 'make zoo-v2' (it makes $DATA) or set ZOO_DATA" >&2; exit 2; }
done
sign=()
if [ -f "$KEY" ]; then sign=(--key "$KEY" --version "$ZOO_VERSION"); else
    echo "zoo-int8: $KEY not found: outputs are hashed but NOT signed ('liveredge run' refuses them)" >&2; fi
status=0
for model in "${models[@]}"; do
    name="$(basename "$model" .keras)"
    "$LR" convert "$model" --calib "$DATA/train/manifest.csv" --val "$DATA/val/manifest.csv" --target cpu \
        --require-liver-gate --budget agreement=0.985,auc=0.005 --out "models/zoo/${name}_int8.tflite" \
        "${sign[@]}" || status=$?
done
"$PY" -m liveredge.models.card_int8 models/zoo  # the model card's int8 section, from the reports just written
exit $status
