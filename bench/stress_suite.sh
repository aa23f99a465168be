#!/usr/bin/env bash
# The suite under CPU load (issue 17): two busy loops beside N runs of pytest, stopping at the first failure.
#   bench/stress_suite.sh [N] [pytest args...]    default: 20 runs of the whole main-venv suite (tests/)
# e.g. bench/stress_suite.sh 20 tests/test_bridge_*.py tests/test_sources_*.py tests/test_runtime*.py
# WORKERS=K (default 2, as `make test`): pytest-xdist workers, one test file each (-n K --dist loadfile); 0 = serial.
#   More workers than cores is HARSHER per test, not kinder: K workers + 2 loops share the 2 cores, each process
#   gets about 2/(K+2) of a core (serial: 2/3).
# DEVICE=1 (default, when .venv-device exists): the device venv's suite (`make test-device`'s files, tflite-runtime,
#   no TF) runs AT THE SAME TIME as each main run, as more load; a run passes only if both pass.
# One line per run in bench/results/stress_suite.txt (rc, seconds, load average, pytest's summary lines).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}; shift || true
workers=${WORKERS:-2}
device=${DEVICE:-1}; [ -x .venv-device/bin/python ] || device=0
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(tests)
device_tests=$(make -s -f - print-device-tests <<'MK'
include Makefile
print-device-tests: ; @echo $(DEVICE_TESTS)
MK
)
bash -c "while :; do :; done" & b1=$!
bash -c "while :; do :; done" & b2=$!
trap 'kill $b1 $b2 2>/dev/null' EXIT
mkdir -p bench/results; out=bench/results/stress_suite.txt; : > "$out"
echo "$(date -u +%FT%TZ) $(git rev-parse --short HEAD) workers=$workers device=$device runs=$runs" | tee -a "$out"
for i in $(seq 1 "$runs"); do
  start=$(date +%s); drc=0
  if [ "$device" = 1 ]; then
    # shellcheck disable=SC2086
    LIVEREDGE_DEVICE_VENV=1 .venv-device/bin/python -m pytest -q -p no:cacheprovider $device_tests \
      > /tmp/liveredge-stress-device-$i.log 2>&1 & dpid=$!
  fi
  .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile --durations=25 "${targets[@]}" \
    > /tmp/liveredge-stress-$i.log 2>&1
  rc=$?
  if [ "$device" = 1 ]; then wait $dpid; drc=$?; fi
  line="run $i rc=$rc $(( $(date +%s) - start ))s load=$(cut -d' ' -f1 /proc/loadavg) $(tail -1 /tmp/liveredge-stress-$i.log)"
  [ "$device" = 1 ] && line="$line | device rc=$drc $(tail -1 /tmp/liveredge-stress-device-$i.log)"
  echo "$line" | tee -a "$out"
  [ $rc -ne 0 ] && { echo "run $i failed: /tmp/liveredge-stress-$i.log"; exit 1; }
  [ $drc -ne 0 ] && { echo "run $i failed: /tmp/liveredge-stress-device-$i.log"; exit 1; }
done
echo "$runs runs passed under two busy loops" | tee -a "$out"
