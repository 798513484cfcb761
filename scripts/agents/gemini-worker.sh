#!/bin/sh
# AGENTQ_AGENT_CMD for Google Gemini CLI (headless `gemini --prompt`). See
# docs/agents.md. --approval-mode yolo approves every tool call (edits and
# shell commands): run workers in a sandbox or container. --skip-trust trusts
# the fresh checkout for this session only. GEMINI_ARGS replaces
# --approval-mode yolo (e.g. '--approval-mode auto_edit --sandbox').
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" work)
# shellcheck disable=SC2086
exec gemini --prompt="$prompt" --output-format text --skip-trust ${GEMINI_ARGS:---approval-mode yolo}
