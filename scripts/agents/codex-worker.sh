#!/bin/sh
# AGENTQ_AGENT_CMD for OpenAI Codex CLI (`codex exec`, non-interactive).
# --full-auto: edits and commands inside the workspace sandbox. See docs/agents.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" work)
# shellcheck disable=SC2086
exec codex exec ${CODEX_ARGS:---full-auto} "$prompt"
