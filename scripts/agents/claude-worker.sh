#!/bin/sh
# AGENTQ_AGENT_CMD for Claude Code (headless `claude -p`). See docs/agents.md.
# CLAUDE_ARGS replaces the permission flags; the default lets it edit files
# and run commands without asking — run workers in a sandbox or container.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" work)
# shellcheck disable=SC2086
exec claude -p "$prompt" --output-format text ${CLAUDE_ARGS:---dangerously-skip-permissions}
