#!/bin/sh
# llm-verdict.sh COMMAND... — runs an LLM review command, shows its output,
# and turns its last "VERDICT: APPROVE|REJECT" line into the exit code
# agentq-reviewer expects: 0 approve, 1 reject, 3 no verdict (the review is
# released for another reviewer).
set -u
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
[ "$status" -eq 0 ] || exit 3
verdict=$(printf '%s\n' "$out" | grep -o 'VERDICT: *\(APPROVE\|REJECT\)' | tail -n 1)
case "$verdict" in
  *APPROVE) exit 0 ;;
  *REJECT) exit 1 ;;
  *) echo "llm-verdict: no VERDICT line in the output"; exit 3 ;;
esac
