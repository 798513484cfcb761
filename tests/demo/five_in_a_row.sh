#!/usr/bin/env bash
# The demo's exit code is its verdict (issue 12): `scripts/demo` must exit 0
# after a good run every time, not only most times. This runs the demo as the
# README does, five times in a row, each on a fresh private PostgreSQL and
# repository, and fails on the first run that exits non-zero or does not end
# with every task done.
#
#   tests/demo/five_in_a_row.sh BUILD_DIR [RUNS]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:?usage: five_in_a_row.sh BUILD_DIR [RUNS]}
runs=${2:-5}
state=$build_dir/demo-runs
mkdir -p "$state"
for run in $(seq 1 "$runs"); do
  log=$state/run-$run.log
  start=$SECONDS
  "$root/scripts/demo" --no-build --build-dir "$build_dir" --dir "$state/demo" >"$log" 2>&1
  status=$?
  echo "demo run $run of $runs: exit $status in $((SECONDS - start)) s"
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log"
    echo "FAIL: scripts/demo exited $status on run $run (log: $log)"
    exit 1
  fi
  # Exit 0 alone could hide a demo that stopped checking: it must also have
  # said every task ended done.
  if ! grep -q "all 12 tasks done" "$log"; then
    tail -n 40 "$log"
    echo "FAIL: run $run exited 0 without saying all 12 tasks were done"
    exit 1
  fi
done
echo "scripts/demo exited 0 with all 12 tasks done, $runs times in a row"
