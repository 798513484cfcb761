#!/usr/bin/env bash
# Checks the protocol model docs/model/agentq.pml with spin (docs/model/README.md):
#   - the model itself: an exhaustive search must end with "errors: 0" and
#     must not be cut short (depth or memory);
#   - each mutant (a deliberately broken server) must make spin report an
#     assertion violation: the model is able to fail;
#   - each witness (a situation the model must reach: a crash then a
#     reconcile, a reject with rounds left, ...) must be reached: the passing
#     run did not pass in vain.
# Prints one line per run and exits non-zero on any unexpected result.
#
# Environment: AGENTQ_MODEL_MAXTOK (claims handed out in all, default 6),
# AGENTQ_MODEL_PROGRESS_MAXTOK (the same for the progress runs, default 4),
# AGENTQ_MODEL_KEEP (a directory to keep pan's output and trails in).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model="$here/agentq.pml"
maxtok="${AGENTQ_MODEL_MAXTOK:-6}"
progress_maxtok="${AGENTQ_MODEL_PROGRESS_MAXTOK:-4}"  # ~170 thousand states, fairness included
# The full search at MAXTOK=6 reaches depth ~95 and stores ~3 million states
# of 92 bytes (~450 MiB, plain hash table; no -DCOLLAPSE or -DHC needed).
# MEMLIM stops pan at 2 GiB instead of letting it swap; -w25 sizes the hash
# table for that many states; -m is far beyond the depth the search reaches,
# and a run that hits it anyway counts as failed.
# Runs expected to fail stop at their first violation within seconds, so
# their pan is built without optimisation (gcc -O2 on pan.c takes ~20 s), and
# a mutant's searches breadth first (-DBFS): its trail is a shortest
# counterexample.
pan_cflags=(-DSAFETY -DMEMLIM=2048)
pan_flags=(-m100000 -w25)

if ! command -v spin >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "model: installing spin" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q spin >/dev/null
  else
    echo "model: spin is not installed (Debian package 'spin'; run as root to install it)" >&2
    exit 2
  fi
fi
cc="${CC:-gcc}"
command -v "$cc" >/dev/null 2>&1 || { echo "model: no C compiler ($cc) for pan" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
keep="${AGENTQ_MODEL_KEEP:-}"
[ -n "$keep" ] && mkdir -p "$keep"

failures=0

# run NAME EXPECT [spin -D options...]; EXPECT is pass or fail. With
# PROGRESS set (fair or unfair) the run checks the progress property instead:
# pan is built without -DSAFETY and searches for acceptance cycles (-a),
# with weak fairness (-f) when fair, at the smaller bound progress_maxtok.
run() {
  local name=$1 expect=$2
  shift 2
  local build=(-O0 -DBFS) cflags=("${pan_cflags[@]}") flags=("${pan_flags[@]}") bound=$maxtok
  [ "$expect" = pass ] && build=(-O2)
  [[ $name == witness-* ]] && build=(-O0)  # any path will do, and depth first finds one sooner
  if [ -n "${PROGRESS:-}" ]; then
    build=(-O0 -DNFAIR=3)
    cflags=(-DMEMLIM=2048)
    flags=(-a -m100000 -w24)
    [ "$PROGRESS" = fair ] && flags+=(-f)
    bound=$progress_maxtok
  fi
  local dir="$work/$name"
  mkdir -p "$dir"
  cp "$model" "$dir/agentq.pml"
  local started=$SECONDS verdict detail
  (
    cd "$dir"
    spin -a -DMAXTOK="$bound" "$@" agentq.pml >spin.log 2>&1 &&
      "$cc" "${build[@]}" "${cflags[@]}" -o pan pan.c >cc.log 2>&1 &&
      { ./pan "${flags[@]}" >pan.out 2>&1 || true; }
  ) || { echo "FAIL  $name: spin or cc failed ($(tail -n 3 "$dir"/*.log | tr '\n' ' '))"; failures=$((failures + 1)); return; }
  local out="$dir/pan.out"
  local errors states memory elapsed truncated=""
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -n 1)
  states=$(awk '/states, stored/ {print $1; exit}' "$out")
  memory=$(awk '/total actual memory usage/ {print $1; exit}' "$out")
  elapsed=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\).*/\1/p' "$out" | tail -n 1)
  grep -q "search depth too small" "$out" && truncated="depth limit reached"
  grep -qi "out of memory\|MEMLIM bound" "$out" && truncated="memory limit reached"
  [ -z "$errors" ] && errors="?"
  detail="errors: $errors, ${states:-?} states, ${memory:-?} MB, ${elapsed:-?} s"
  if [ "$expect" = pass ]; then
    if [ "$errors" = 0 ] && [ -z "$truncated" ]; then
      verdict="ok    $name: passes ($detail)"
    else
      verdict="FAIL  $name: expected errors: 0 over the full state space (${truncated:-$detail})"
      failures=$((failures + 1))
    fi
  else
    local violated
    violated=$(grep -m 1 -o "assertion violated.*\|acceptance cycle.*" "$out" || true)
    if [ "$errors" != 0 ] && [ "$errors" != "?" ] && [ -n "$violated" ]; then
      verdict="ok    $name: rejected as expected: $violated"
    else
      verdict="FAIL  $name: expected an assertion violation, got $detail ${truncated}"
      failures=$((failures + 1))
    fi
  fi
  echo "$verdict ($((SECONDS - started)) s wall)"
  if [ -n "$keep" ]; then
    mkdir -p "$keep/$name"
    cp "$dir"/pan.out "$dir"/agentq.pml "$keep/$name/"
    [ -f "$dir/agentq.pml.trail" ] && cp "$dir/agentq.pml.trail" "$keep/$name/"
  fi
  return 0
}

echo "model: spin $(spin -V | sed -n 's/Spin Version \([^ ]*\).*/\1/p'), MAXTOK=$maxtok, cc -O2 (model) | -O0 -DBFS (mutants) | -O0 (witnesses) ${pan_cflags[*]}, pan ${pan_flags[*]}"
run model pass
run mutant-submit-no-token fail -DMUTANT_SUBMIT_NO_TOKEN
run mutant-merge-branch-tip fail -DMUTANT_MERGE_BRANCH_TIP
run mutant-reconcile-blind fail -DMUTANT_RECONCILE_BLIND
run mutant-claim-no-bump fail -DMUTANT_CLAIM_NO_BUMP
run mutant-retry-any-token fail -DMUTANT_RETRY_ANY_TOKEN
for witness in TAKEOVER STALE_SUBMIT REJECT_BACK NEEDS_HUMAN RECONCILE BOTH_DONE OVERRIDE_DONE; do
  run "witness-$(echo "$witness" | tr 'A-Z_' 'a-z-')" fail "-DREACH_$witness"
done
PROGRESS=fair run progress-weak-fairness pass -DPROGRESS
PROGRESS=unfair run progress-without-fairness fail -DPROGRESS

if [ "$failures" -ne 0 ]; then
  echo "model: $failures unexpected result(s)"
  exit 1
fi
echo "model: the protocol holds, every mutant is rejected, every witness is reached, merges finish"
