#!/bin/sh
# AGENTQ_AGENT_CMD for OpenAI Codex CLI (`codex exec`, non-interactive; it
# never asks for approval). By default its commands run in the
# workspace-write sandbox (the checkout and temp dirs are writable).
# CODEX_ARGS replaces --sandbox workspace-write. See docs/agents.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/codex-ready.sh"
prompt=$("$here/prompt.sh" work)
# shellcheck disable=SC2086
exec codex exec ${CODEX_ARGS:---sandbox workspace-write} --color never -- "$prompt"
