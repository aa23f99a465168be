#!/usr/bin/env bash
# Candidate recipe for the simulator-v2 reference CNN with the "not a liver" class (ONE command):
#     models/recipe_v2.sh [WORK_DIR]        (default WORK_DIR=out/zoo_v2)
# Everything here is SIMULATED ultrasound from the liveredge phantom simulator: NOT for clinical use.
# Seed discipline (edge/sim/seeds.py, docs/benchmark.md):
#   training   : 180 random profiles from the training range (random:0-180) + named S1-S5, training patient seeds
#   validation : 48 random profiles from the validation range (random:100000-100048) + S6, validation patient seeds
#                (early stopping, temperature, the gate thresholds and the int8 gate all choose on it)
#   benchmark  : never touched here; `liveredge benchmark` reports on it afterwards.
# Labels: normal, steatosis, fibrosis (F2-F4), focal_lesion, not_liver (non-liver scenes: outlier exposure).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-out/zoo_v2}"
LR="${LIVEREDGE:-.venv/bin/liveredge}"
PY="$(dirname "$LR")/python"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
DATA="$WORK/data"
LABELS="normal,steatosis,fibrosis,focal_lesion,not_liver"
mkdir -p "$DATA"
[ -f "$DATA/train/manifest.csv" ] || "$LR" simulate dataset "$DATA/train" --purpose training --seed 2026 \
    --patients 720 --negatives 144 --frames-per-patient 4 --sites "random:0-180,S1,S2,S3,S4,S5" --quiet
[ -f "$DATA/val/manifest.csv" ] || "$LR" simulate dataset "$DATA/val" --purpose validation --seed 2027 \
    --patients 192 --negatives 48 --frames-per-patient 3 --sites "random:100000-100048,S6" --quiet
"$PY" -m liveredge.models.combine "$DATA" train val
RUN="$WORK/runs/cnn"
/usr/bin/time -f "train cnn wall %e s, cpu %P" \
    "$LR" train "$DATA" --arch cnn --out "$RUN" --labels "$LABELS" --epochs 16 --patience 6 --seed 0 --threads 2 \
    --width 2 --head 1280 --last-stage 160
"$LR" calibrate "$RUN/liver_cnn.keras" "$DATA" --split val
echo "recipe v2 done: $RUN (SIMULATED data; not for clinical use)"
