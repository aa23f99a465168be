#!/bin/bash
# Harmonisation measured once (docs/harmonisation.md): the shipped int8 CNN's balanced accuracy per scanner profile
# without and with a site file fitted from 150 unlabeled frames. SIMULATED data only, not for clinical use.
#
#   bench/harmonisation.sh OUT_DIR            # datasets from this checkout's simulator
#   SIM="env PYTHONPATH=/path/to/old/tree python -m liveredge.cli.main simulate" bench/harmonisation.sh OUT_DIR
#                                             # datasets from another simulator version (adapt/evaluate stay here)
set -u
D=${1:?usage: bench/harmonisation.sh OUT_DIR}
L=${L:-.venv/bin/liveredge}; M=${M:-models/zoo/liver_cnn_int8.tflite}; SIM=${SIM:-$L simulate}
mkdir -p "$D"
[ -f "$D/ref/manifest.csv" ] || $SIM dataset "$D/ref" --patients 40 --frames-per-patient 2 --sites S1,S2,S3,S4,S5 --seed 101 --quiet
for P in random:905 random:933 random:934 random:907 S6; do
  K=${P//:/_}
  [ -f "$D/eval_$K/manifest.csv" ] || $SIM dataset "$D/eval_$K" --patients 40 --frames-per-patient 2 --sites "$P" --seed 301 --quiet
  [ -f "$D/unl_$K/manifest.csv" ] || $SIM dataset "$D/unl_$K" --patients 75 --frames-per-patient 2 --sites "$P" --seed 701 --quiet
  [ -f "$D/clip_$K.mp4" ] || $SIM clip "$D/clip_$K.mp4" --condition normal --seconds 5 --fps 30 --site "$P" --seed 11 --quiet
  echo "== $P"
  for S in folder clip; do
    src="$D/unl_$K/frames"; [ $S = clip ] && src="$D/clip_$K.mp4"
    $L adapt --model "$M" --source "$src" --frames 150 --reference "$D/ref" --out "$D/site_${S}_$K.json" 2>&1 | grep -E "median|refused"
  done
  echo -n "none:         "; $L evaluate "$M" "$D/eval_$K" --out "$D/ev_${K}_none" --n-boot 0 2>/dev/null | head -1
  for S in folder clip; do
    [ -f "$D/site_${S}_$K.json" ] || continue
    echo -n "site($S): "; $L evaluate "$M" "$D/eval_$K" --out "$D/ev_${K}_$S" --n-boot 0 --site "$D/site_${S}_$K.json" 2>/dev/null | head -1
  done
done
