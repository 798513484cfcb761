#!/bin/sh
# no_credentials.sh CLI_DIR COMMAND... — runs COMMAND with the pinned agent
# CLIs first on PATH and nothing of this machine's credentials: a fresh, empty
# HOME (no ~/.claude, ~/.codex, ~/.gemini, ~/.config) under TMPDIR, and an
# environment emptied of everything but PATH, the locale, TMPDIR and the
# runner's AGENTQ_TASK_FILE, AGENTQ_TASK_ID, AGENTQ_RUN_ID, AGENTQ_WORKDIR (so
# no API key of the host gets through). BROWSER and NO_BROWSER keep any CLI
# from opening a browser for a login.
set -eu
cli_dir=$1
shift
tmp=${TMPDIR:-/tmp}
home=$(mktemp -d "$tmp/nocreds-home.XXXXXX")
for name in AGENTQ_TASK_FILE AGENTQ_TASK_ID AGENTQ_RUN_ID AGENTQ_WORKDIR; do
  eval "value=\${$name-}"
  # shellcheck disable=SC2154
  [ -n "$value" ] && set -- "$name=$value" "$@"
done
exec env -i PATH="$cli_dir/node_modules/.bin:/usr/local/bin:/usr/bin:/bin" HOME="$home" \
  LANG=C.UTF-8 TMPDIR="$tmp" BROWSER=/bin/false NO_BROWSER=true "$@"
