#!/bin/sh
# AGENTQ_REVIEW_CMD for Codex CLI: a read-only sandboxed review with a VERDICT line.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" review)
# shellcheck disable=SC2086
exec "$here/llm-verdict.sh" codex exec ${CODEX_REVIEW_ARGS:---sandbox read-only} "$prompt"
