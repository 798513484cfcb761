#!/bin/sh
# AGENTQ_REVIEW_CMD for Codex CLI: a read-only sandboxed review with a VERDICT
# line (see llm-verdict.sh). CODEX_REVIEW_ARGS replaces --sandbox read-only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if ! "$here/codex-ready.sh"; then exit 3; fi  # no verdict: the review is released
prompt=$("$here/prompt.sh" review)
# shellcheck disable=SC2086
exec "$here/llm-verdict.sh" codex exec ${CODEX_REVIEW_ARGS:---sandbox read-only} --color never -- "$prompt"
