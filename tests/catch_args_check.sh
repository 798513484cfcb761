#!/usr/bin/env bash
# The guard of AGENTQ_CATCH_ARGS (tests/CMakeLists.txt): with those arguments
# a Catch2 binary must fail when its spec matches no test case, so a CTest
# entry whose name CTest mangled can never pass by running nothing. Checks
# both sides on a real test binary and says what it saw:
#   a spec naming a real case passes (exit 0, at least one assertion);
#   a spec naming no case fails (non-zero exit).
#   catch_args_check.sh BINARY REAL_CASE ARGS...
set -u
binary=$1 real_case=$2
shift 2
out=$("$binary" "$@" "$real_case" 2>&1); rc=$?
if [ $rc -ne 0 ] || ! grep -q "All tests passed" <<<"$out"; then
  echo "FAIL: '$real_case' with '$*' did not pass (exit $rc):"; echo "$out"; exit 1
fi
echo "ok: '$real_case' ran and passed with '$*'"
"$binary" "$@" "agentq-catch-args-check: a spec that names nothing" >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ]; then
  echo "FAIL: a spec that names no case exited 0 with '$*': empty runs would count as passed"
  exit 1
fi
echo "ok: a spec that names no case exits $rc with '$*'"
