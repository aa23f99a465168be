#!/usr/bin/env bash
# The suite under CPU load (issue 17): two busy loops beside N runs of pytest, stopping at the first failure.
#   bench/stress_suite.sh [N] [pytest args...]    default: 20 runs of the whole main-venv suite (tests/)
# e.g. bench/stress_suite.sh 20 tests/test_bridge_*.py tests/test_sources_*.py tests/test_runtime*.py
# One line per run in bench/results/stress_suite.txt (rc, seconds, load average, pytest's summary line).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}; shift || true
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(tests)
bash -c "while :; do :; done" & b1=$!
bash -c "while :; do :; done" & b2=$!
trap 'kill $b1 $b2 2>/dev/null' EXIT
mkdir -p bench/results; out=bench/results/stress_suite.txt; : > "$out"
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  .venv/bin/python -m pytest -q -p no:cacheprovider "${targets[@]}" > /tmp/liveredge-stress-$i.log 2>&1
  rc=$?
  echo "run $i rc=$rc $(( $(date +%s) - start ))s load=$(cut -d' ' -f1 /proc/loadavg) $(tail -1 /tmp/liveredge-stress-$i.log)" | tee -a "$out"
  [ $rc -ne 0 ] && { echo "run $i failed: /tmp/liveredge-stress-$i.log"; exit 1; }
done
echo "$runs runs passed under two busy loops" | tee -a "$out"
