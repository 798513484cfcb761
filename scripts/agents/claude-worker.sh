#!/bin/sh
# AGENTQ_AGENT_CMD for Claude Code (headless `claude -p`). See docs/agents.md.
# The default permissions work as root and as an ordinary user (Claude Code
# refuses --dangerously-skip-permissions as root): file edits are accepted,
# the listed tools (every shell command included) run without asking, and
# anything else that would ask is denied, never left waiting for a person.
# That is still an agent that runs commands: run workers in a sandbox or
# container. CLAUDE_ARGS replaces the permission flags.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prompt=$("$here/prompt.sh" work)
# shellcheck disable=SC2086
exec claude -p "$prompt" --output-format text \
  ${CLAUDE_ARGS:---permission-mode acceptEdits --permission-prompts none --allowedTools Bash Edit Write Read Glob Grep}
