#!/bin/sh
# AGENTQ_REVIEW_CMD for Google Gemini CLI: a review in plan (read-only) mode
# with a VERDICT line (see llm-verdict.sh). GEMINI_REVIEW_ARGS replaces
# --approval-mode plan.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" review)
# shellcheck disable=SC2086
exec "$here/llm-verdict.sh" gemini --prompt="$prompt" --output-format text --skip-trust \
  ${GEMINI_REVIEW_ARGS:---approval-mode plan}
