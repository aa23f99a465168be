#!/usr/bin/env bash
# Convert the reference models in models/zoo/*.keras to signed, gated int8 TFLite (ONE command):
#     make zoo-int8 [ZOO_DATA=out/zoo/liver_sim] [ZOO_KEY=/work/keys/liveredge-zoo.key] [ZOO_VERSION=N]
# Calibration: sites S1-S5 of the simulator dataset (stratified by class and site, 300 frames);
# gate: the held-out site S6. The dataset is regenerated (as in models/recipe.sh) when missing.
# Outputs: models/zoo/<name>_int8.tflite (+ .float32.tflite, .sha256, .statement.json, .report.json/.html,
# .layers.png). Statements: role release (gate passed) or rejected, the float32 twin dev; ZOO_VERSION (default 1)
# is the release version: raise it for every re-release, devices refuse an older one (docs/security.md).
# Everything here is SIMULATED data: NOT for clinical use.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${ZOO_DATA:-out/zoo/liver_sim}"
KEY="${ZOO_KEY:-/work/keys/liveredge-zoo.key}"
VERSION="${ZOO_VERSION:-1}"
LR="${LIVEREDGE:-.venv/bin/liveredge}"
PY="${PYTHON:-.venv/bin/python}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
shopt -s nullglob
# The reference CNN v2 is converted by models/recipe_v2.sh (validation-range gate); this script keeps the v1 recipe
# for the hybrid (calibration S1-S5, gate S6).
models=(models/zoo/liver_hybrid.keras)
if [ ${#models[@]} -eq 0 ]; then
    echo "zoo-int8: no models/zoo/*.keras yet (run models/recipe.sh first)" >&2
    exit 2
fi
if [ ! -f "$DATA/manifest.csv" ]; then
    "$LR" simulate dataset "$DATA" --patients 432 --frames-per-patient 8 --sites S1,S2,S3,S4,S5,S6 --seed 2026
fi
# Split the manifest by site; the CSVs stay in the dataset folder so its relative paths keep working.
"$PY" - "$DATA" <<'PYEOF'
import csv, sys
from pathlib import Path
root = Path(sys.argv[1])
rows = list(csv.DictReader(open(root / "manifest.csv", newline="")))
for name, keep in (("calib_S1-S5.csv", lambda s: s != "S6"), ("val_S6.csv", lambda s: s == "S6")):
    with open(root / name, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if keep(r["site_id"]))
PYEOF
sign=()
if [ -f "$KEY" ]; then sign=(--key "$KEY" --version "$VERSION"); else
    echo "zoo-int8: $KEY not found: outputs are hashed but NOT signed ('liveredge run' refuses them)" >&2; fi
status=0
for model in "${models[@]}"; do
    name="$(basename "$model" .keras)"
    "$LR" convert "$model" --calib "$DATA/calib_S1-S5.csv" --val "$DATA/val_S6.csv" --target cpu \
        --out "models/zoo/${name}_int8.tflite" "${sign[@]}" || status=$?
done
"$PY" -m liveredge.models.card_int8 models/zoo  # the model card's int8 section, from the reports just written
exit $status
