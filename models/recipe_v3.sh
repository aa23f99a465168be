#!/usr/bin/env bash
# Recipe of the reference CNN v3: the v2 recipe (models/recipe_v2.sh) with ~9x the simulated training data drawn
# from 3x as many random scanner profiles, trained on many cores / a GPU. Usage:
#     models/recipe_v3.sh [WORK_DIR]            (default out/zoo_v3)
# Environment: SHARDS (parallel simulator processes, default: the CPU count), PATIENTS (training liver patients in
# all, default 6000), NEGATIVES (non-liver scenes in all, default 1500), EPOCHS (24), TRAIN_MINUTES (wall-time budget
# of the training step, keeping the best epoch), THREADS (CPU threads for
# preprocessing/augmentation, default: the CPU count), ARCH (cnn, default, or hybrid: the CNN-Transformer, small
# enough to train on 2 cores: `ARCH=hybrid PATIENTS=2000 NEGATIVES=500 EPOCHS=18 models/recipe_v3.sh out/zoo_v3h`,
# see the model card), VERSION (release version it is signed as; default 3), KERAS_BACKEND (any Keras 3
# backend: jax or torch run where TensorFlow is not installed, e.g. on a GPU machine; the .keras it writes loads anywhere), LIVEREDGE (the CLI).
# Where TensorFlow is installed, calibrate, convert (int8 gate), sign and benchmark follow as in recipe_v2.sh;
# elsewhere (a GPU machine with JAX) it stops after training and prints those commands. The shipped v3 was trained
# on one H200 (16 cores, KERAS_BACKEND=jax) in two calls of ~5 min (the second resumed the first's checkpoint), then
# calibrated/converted/benchmarked on the 2-core workstation. Everything is SIMULATED ultrasound: NOT for clinical use.
# Seed discipline as v2 (edge/sim/seeds.py, docs/benchmark.md): training profiles random:0-600 + S1-S5 with training
# patient seeds; validation = the v2 validation set exactly (seed 2027, random:100000-100048 + S6); the benchmark
# range is never touched here.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-out/zoo_v3}"
LR="${LIVEREDGE:-.venv/bin/liveredge}"
PY="${PYTHON:-$(dirname "$LR")/python}"
NCPU="$(nproc)"
SHARDS="${SHARDS:-$NCPU}"; THREADS="${THREADS:-$NCPU}"
PATIENTS="${PATIENTS:-6000}"; NEGATIVES="${NEGATIVES:-1500}"; EPOCHS="${EPOCHS:-24}"
PROFILES=600
ARCH="${ARCH:-cnn}"; VERSION="${VERSION:-3}"
case "$ARCH" in
    cnn) SHAPE=(--width 2 --head 1280 --last-stage 160) ;;
    hybrid) SHAPE=(--width 1.5 --head 640) ;;
    *) echo "ARCH must be cnn or hybrid, not '$ARCH'" >&2; exit 2 ;;
esac
NAME="liver_$ARCH"
LABELS="normal,steatosis,fibrosis,focal_lesion,not_liver"
DATA="$WORK/data"
mkdir -p "$DATA/shards"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
pids=()
for ((k = 0; k < SHARDS; k++)); do
    lo=$((k * PROFILES / SHARDS)); hi=$(((k + 1) * PROFILES / SHARDS))
    sites="random:$lo-$hi"
    for ((j = k; j < 5; j += SHARDS)); do sites="$sites,S$((j + 1))"; done   # S1-S5 spread over the shards
    out="$DATA/shards/train_$k"
    [ -f "$out/manifest.csv" ] && continue
    rm -rf "$out"
    "$LR" simulate dataset "$out" --purpose training --seed $((3000 + k)) --patients $((PATIENTS / SHARDS)) \
        --negatives $((NEGATIVES / SHARDS)) --frames-per-patient 4 --sites "$sites" --quiet &
    pids+=($!)
done
[ -f "$DATA/val/manifest.csv" ] || "$LR" simulate dataset "$DATA/val" --purpose validation --seed 2027 \
    --patients 192 --negatives 48 --frames-per-patient 3 --sites "random:100000-100048,S6" --quiet
for p in "${pids[@]}"; do wait "$p"; done
# One training manifest over the shards (paths relative to DATA/train), then train + val as v2.
"$PY" - "$DATA" <<'EOF'
import csv, sys
from pathlib import Path
root = Path(sys.argv[1]); rows = []; fields = []
for shard in sorted((root / "shards").glob("train_*"), key=lambda p: int(p.name.split("_")[1])):
    with open(shard / "manifest.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        fields += [f for f in reader.fieldnames or [] if f not in fields]
        for row in reader:
            for key in ("path", "mask_path"):
                if row.get(key):
                    row[key] = f"../shards/{shard.name}/{row[key]}"
            rows.append(row)
(root / "train").mkdir(exist_ok=True)
with open(root / "train" / "manifest.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=fields); w.writeheader(); w.writerows(rows)
print(f"{len(rows)} training frames from {len(list((root / 'shards').glob('train_*')))} shards")
EOF
"$PY" -m liveredge.models.combine "$DATA" train val
RUN="$WORK/runs/$ARCH"
/usr/bin/time -f "train $ARCH wall %e s, cpu %P" \
    "$LR" train "$DATA" --arch "$ARCH" --out "$RUN" --labels "$LABELS" --epochs "$EPOCHS" --patience 8 --seed 0 \
    --threads "$THREADS" "${SHAPE[@]}" ${TRAIN_MINUTES:+--time-budget "$TRAIN_MINUTES"}
KEY="${ZOO_KEY:-/work/keys/liveredge-zoo.key}"
if ! "$PY" -c "import tensorflow" 2>/dev/null; then
    cat <<EOF
recipe v3 trained: $RUN (SIMULATED data; not for clinical use). No TensorFlow here: on a workstation with it run
  liveredge calibrate $RUN/$NAME.keras $DATA --split val
  liveredge convert $RUN/$NAME.keras --calib $DATA/train/manifest.csv --val $DATA/val/manifest.csv \\
      --target cpu --out $WORK/int8/${NAME}_int8.tflite --require-liver-gate --budget agreement=0.985,auc=0.005 \\
      --key KEY --version $VERSION
  liveredge benchmark $WORK/int8/${NAME}_int8.tflite --out $WORK/bench/int8
EOF
    exit 0
fi
# As v2: temperature + gate thresholds on validation; int8 calibrated on training frames, gated on validation.
"$LR" calibrate "$RUN/$NAME.keras" "$DATA" --split val
sign=(); [ -f "$KEY" ] && sign=(--key "$KEY" --version "$VERSION")
"$LR" convert "$RUN/$NAME.keras" --calib "$DATA/train/manifest.csv" --val "$DATA/val/manifest.csv" \
    --target cpu --out "$WORK/int8/${NAME}_int8.tflite" --require-liver-gate --budget agreement=0.985,auc=0.005 \
    "${sign[@]}"
"$LR" benchmark "$WORK/int8/${NAME}_int8.tflite" --out "$WORK/bench/int8"
"$LR" benchmark "$RUN/$NAME.keras" --out "$WORK/bench/keras"
echo "recipe v3 done: $RUN, $WORK/int8, $WORK/bench (SIMULATED data; not for clinical use)"
