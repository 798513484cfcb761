#!/usr/bin/env bash
# wrappers_test.sh CLI_DIR SCRIPTS_DIR — runs every LLM wrapper of
# scripts/agents/ against the pinned real CLI (install_clis.sh put them in
# CLI_DIR) with no credentials (no_credentials.sh), as the user running the
# tests (root in CI), each under a deadline, in a real checkout with a real
# task file. A case passes when the CLI got past its argument parsing to its
# credential check: its own words are in the output and no argument error
# is. The control cases give the CLIs a flag they do not take and pass only
# when the check notices: a check that cannot fail would prove nothing.
set -uo pipefail
cli_dir=$1
scripts=$2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d /tmp/agentq-wrappers.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

# What a CLI prints when it refuses its command line (clap, commander, yargs)
# or a flag for the user it runs as.
arg_errors='unknown option|unexpected argument|unknown argument|invalid value|argument missing|usage:|cannot be used with root'

# A checkout with one commit and the task files the runners would write.
repo=$scratch/checkout
git init -q -b main "$repo"
printf 'hello\n' >"$repo/README.md"
git -C "$repo" -c user.name=t -c user.email=t@t add -A
git -C "$repo" -c user.name=t -c user.email=t@t commit -q -m seed
base=$(git -C "$repo" rev-parse HEAD)
jq -n --arg base "$base" '{task: {id: 7, title: "Add a greeting", body: "Create hello.txt with hi.",
  labels: [], attempt: 1, review_round: 0}, claim: {token: 11, agent: "w1"},
  repo: {name: "demo"}, feedback: [{round: 1, source: "review", author: "r1",
  text: "Say hello politely."}], token: 11, branch: "agentq/7/11", base_commit: $base}' \
  >"$scratch/work.json"
jq -n --arg base "$base" '{task: {id: 7, title: "Add a greeting", body: "Create hello.txt with hi.",
  labels: [], attempt: 1, review_round: 1}, claim: {token: 12, agent: "r1"}, repo: {name: "demo"},
  submission: {branch: "agentq/7/11", commit: $base, summary: "added it", worker: "w1"},
  diff_stats: {base: $base, files_changed: 1, insertions: 1, deletions: 0,
  files: [{path: "hello.txt", status: "added", insertions: 1, deletions: 0}]}, token: 12}' \
  >"$scratch/review.json"

passed=0
failed=0
# run_case NAME KIND DEADLINE_S EXPECT WANT [VAR=VALUE...] — WANT: "credentials" (the
# CLI's words EXPECT are in the output, no argument error) or "arg-error" (a
# control: an argument error must be seen).
run_case() {
  local name=$1 kind=$2 deadline=$3 expect=$4 want=$5 wrapper=${1%% *}
  shift 5
  local out status verdict=ok why=""
  out=$(cd "$repo" && AGENTQ_TASK_FILE=$scratch/$kind.json AGENTQ_TASK_ID=7 \
        timeout -k 5 "$deadline" sh "$here/no_credentials.sh" "$cli_dir" \
        env "$@" sh "$scripts/$wrapper" </dev/null 2>&1)
  status=$?
  if [ "$want" = credentials ]; then
    if printf '%s' "$out" | grep -Eiq "$arg_errors"; then verdict=FAIL; why="an argument error"
    elif ! printf '%s' "$out" | grep -Fq "$expect"; then verdict=FAIL; why="no '$expect' in the output"
    elif [ "$expect" != "sandbox:" ] && [ "$status" -eq 0 ]; then verdict=FAIL; why="exit 0 without credentials"
    fi
  else
    printf '%s' "$out" | grep -Eiq "$arg_errors" || { verdict=FAIL; why="the bad flag went unnoticed"; }
  fi
  if [ "$verdict" = ok ]; then
    passed=$((passed + 1))
    local said
    if [ "$want" = credentials ]; then said=$(printf '%s\n' "$out" | grep -Fm1 "$expect")
    else said=$(printf '%s\n' "$out" | grep -Eim1 "$arg_errors"); fi
    printf 'ok    %-50s exit %-3s %s\n' "$name" "$status" "$said"
  else
    failed=$((failed + 1))
    printf 'FAIL  %-50s exit %-3s %s; output:\n%s\n' "$name" "$status" "$why" "$out"
  fi
}

echo "CLIs: $(cat "$cli_dir/installed-lock.json" >/dev/null && for c in claude codex gemini; do
  printf '%s ' "$("$cli_dir/node_modules/.bin/$c" --version 2>/dev/null | tail -n 1)"; done)"
#        wrapper (and what differs)                      task   deadline expect                      want
run_case "claude-worker.sh"                              work   60 "Not logged in"                  credentials
run_case "claude-reviewer.sh"                            review 60 "Not logged in"                  credentials
run_case "codex-worker.sh"                               work   60 "Not logged in"                  credentials
run_case "codex-reviewer.sh"                             review 60 "Not logged in"                  credentials
# With a (dummy) key the login check passes and `codex exec` starts: its banner
# shows the sandbox the flags chose. Without a reachable API it then retries
# until the deadline ends it.
run_case "codex-worker.sh (exec, dummy CODEX_API_KEY)"   work   20 "sandbox: workspace-write"       credentials CODEX_API_KEY=dummy
run_case "codex-reviewer.sh (exec, dummy CODEX_API_KEY)" review 20 "sandbox: read-only"             credentials CODEX_API_KEY=dummy
run_case "gemini-worker.sh"                              work   90 "Please set an Auth method"      credentials
run_case "gemini-reviewer.sh"                            review 90 "Please set an Auth method"      credentials
# Controls: each CLI's refusal of a flag it does not take is noticed.
run_case "claude-worker.sh (control: --no-such-flag)"    work   60 "" arg-error CLAUDE_ARGS=--no-such-flag
run_case "claude-worker.sh (control: skip permissions)"  work   60 "" arg-error CLAUDE_ARGS=--dangerously-skip-permissions
run_case "codex-worker.sh (control: old --full-auto)"    work   60 "" arg-error CODEX_API_KEY=dummy CODEX_ARGS=--full-auto
run_case "gemini-worker.sh (control: --no-such-flag)"    work   90 "" arg-error GEMINI_ARGS=--no-such-flag

echo "wrappers: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
