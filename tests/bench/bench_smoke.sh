#!/usr/bin/env bash
# A tiny run of agentq-bench (about 40 s on 2 cores) over every kind of row
# that needs no npm peers, against the test PostgreSQL
# ($AGENTQ_TEST_DATABASE_URL: a role that may CREATE DATABASE). Fails unless
# the JSON holds every requested kind, each row with a rate (wake: with
# wakes) and no MISMATCH or error in its note: a broken bench fails CI.
# Timings are not asserted.
#
#   tests/bench/bench_smoke.sh build/bench/agentq-bench
set -euo pipefail
bench=${1:?usage: bench_smoke.sh PATH/TO/agentq-bench}
: "${AGENTQ_TEST_DATABASE_URL:?set AGENTQ_TEST_DATABASE_URL (source /work/devpg.sh, or run scripts/test)}"
command -v jq >/dev/null || { echo "bench_smoke: jq is required (scripts/lib/common.sh installs it)" >&2; exit 1; }

# pgbench (the floor and minimal rows): Debian keeps the real one out of PATH
# (/usr/bin/pgbench is a wrapper that wants a cluster of its own).
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1 || true)
[ -n "$pgbench" ] || pgbench=$(command -v pgbench || true)
[ -x "$pgbench" ] || { echo "bench_smoke: pgbench not found (package postgresql)" >&2; exit 1; }

out=$(mktemp -d /tmp/agentq-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
kinds=floor,minimal,store,batch,http,wake,index,fleet,loop
"$bench" --database-url "$AGENTQ_TEST_DATABASE_URL" --pgbench "$pgbench" --only "$kinds" \
  --duration 1 --tasks 200 --clients 1 --batch 8 --floor-modes prepared --finished 1000 \
  --fleet-agents 20 --fleet-lease 5 --fleet-active 2 --fleet-idle 1 --fleet-rate 5 \
  --loop-tasks 5 --loop-files 100 --json "$out/bench.json" >"$out/table.txt"
cat "$out/table.txt"

failed=0
for kind in ${kinds//,/ }; do
  rows=$(jq --arg k "$kind" '[.rows[] | select(.kind == $k)] | length' "$out/bench.json")
  if [ "$rows" -eq 0 ]; then echo "FAIL: no $kind row"; failed=1; continue; fi
  # wake rows measure a latency (tasks = wakes); every other row a rate.
  bad=$(jq -r --arg k "$kind" '.rows[] | select(.kind == $k)
          | select((if .kind == "wake" then .tasks else .tasks_per_s end) <= 0
                   or (.note | test("MISMATCH|error"; "i")))
          | "\(.kind) \(.method) \(.clients): tasks/s \(.tasks_per_s), tasks \(.tasks), note: \(.note)"' \
        "$out/bench.json")
  if [ -n "$bad" ]; then echo "FAIL: $bad"; failed=1; fi
done
# The fleet and loop rows' own numbers are there.
for field in rss_mb cpu_pct_idle stmts_per_s_idle wake_p99_ms; do
  jq -e --arg f "$field" '.rows[] | select(.kind == "fleet") | has($f)' "$out/bench.json" >/dev/null ||
    { echo "FAIL: the fleet row has no $field"; failed=1; }
done
for field in merge_p50_ms git_floor_ms_per_task overhead_ratio review_wait_p50_ms; do
  jq -e --arg f "$field" '.rows[] | select(.kind == "loop") | has($f)' "$out/bench.json" >/dev/null ||
    { echo "FAIL: the loop row has no $field"; failed=1; }
done
[ "$failed" -eq 0 ] && echo "ok: every row of $kinds present, with a rate and no error"
exit "$failed"
