#!/bin/sh
# AGENTQ_REVIEW_CMD for Claude Code: reviews the checked-out submission and
# answers with a VERDICT line (see llm-verdict.sh). Read-only tools plus the
# repository's tests by default (works as root too); anything else that would
# ask is denied. CLAUDE_REVIEW_ARGS replaces the permission flags.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" review)
if [ -n "${CLAUDE_REVIEW_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  exec "$here/llm-verdict.sh" claude -p "$prompt" --output-format text $CLAUDE_REVIEW_ARGS
fi
exec "$here/llm-verdict.sh" claude -p "$prompt" --output-format text --permission-prompts none \
  --allowedTools "Read" "Grep" "Glob" "Bash(git diff:*)" "Bash(git log:*)" "Bash(sh ./test.sh)"
