#!/bin/sh
# AGENTQ_AGENT_CMD for Aider (one message, then exit). Aider's own files go
# under .agentq/ (never committed), and it must not commit or touch
# .gitignore: the runner commits. AIDER_ARGS adds e.g. --model. See docs/agents.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" work)
mkdir -p .agentq
# shellcheck disable=SC2086
exec aider --yes-always --no-auto-commits --no-gitignore --no-pretty --no-stream \
  --chat-history-file .agentq/aider.chat.md --input-history-file .agentq/aider.input \
  ${AIDER_ARGS:-} --message "$prompt"
