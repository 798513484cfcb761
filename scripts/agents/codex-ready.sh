#!/bin/sh
# codex-ready.sh — exits 0 when Codex CLI has credentials, else prints the
# CLI's own words on one line ("codex: Not logged in — …") and exits 1.
# Without it `codex exec` with no login does not stop: it keeps reconnecting
# to the API until the runner's --task-timeout. CODEX_API_KEY (which `codex
# exec` reads) counts as credentials; otherwise `codex login status` decides.
[ -n "${CODEX_API_KEY:-}" ] && exit 0
if status=$(codex login status 2>&1); then exit 0; fi
said=$(printf '%s\n' "$status" | grep -v '^WARNING: proceeding' | tail -n 1)
echo "codex: ${said:-no login} — run \`codex login\` (or set CODEX_API_KEY) as the runner's user"
exit 1
