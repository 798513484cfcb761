#!/bin/sh
# llm-verdict.sh COMMAND... — runs an LLM review command, shows its output as
# it comes (the runner logs it and sends the latest line as progress), and
# turns its last "VERDICT: APPROVE|REJECT" line into the exit code
# agentq-reviewer expects: 0 approve, 1 reject, 3 no verdict (the review is
# released for another reviewer; a CLI that could not run gives no verdict).
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llm-verdict.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
{ "$@" 2>&1; echo $? >"$tmp/status"; } | tee "$tmp/out"
status=$(cat "$tmp/status" 2>/dev/null || echo 1)
[ "$status" -eq 0 ] || exit 3
verdict=$(grep -o 'VERDICT: *\(APPROVE\|REJECT\)' "$tmp/out" | tail -n 1)
case "$verdict" in
  *APPROVE) exit 0 ;;
  *REJECT) exit 1 ;;
  *) echo "llm-verdict: no VERDICT line in the output"; exit 3 ;;
esac
