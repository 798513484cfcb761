#!/usr/bin/env bash
# Container entrypoint. For the runners (agentq-worker, agentq-reviewer) with
# no token of their own, registers this container as an agent named after its
# host name, using the admin token, so `docker compose up --scale worker=8`
# gives each worker an identity of its own. The admin token is passed to that
# one call in its environment (never in argv) and is not in the environment of
# the runner it execs. The runner's token is kept in the container
# (~/.agentq-runner-token, mode 600) and handed over as AGENTQ_TOKEN_FILE, so a
# restarted container (restart policy, `docker restart`) works on as the same
# agent instead of failing on the name it registered before. Everything else
# runs as given.
set -euo pipefail
token_file=$HOME/.agentq-runner-token
case "${1:-}" in
  agentq)
    # The demo's bare repositories are on the shared /srv/git volume: the
    # server accepts local repository paths only under AGENTQ_REPO_ROOTS.
    if [ "${2:-}" = serve ]; then export AGENTQ_REPO_ROOTS="${AGENTQ_REPO_ROOTS:-/srv/git}"; fi
    ;;
  agentq-worker|agentq-reviewer)
    if [ -z "${AGENTQ_TOKEN:-}" ] && [ -z "${AGENTQ_TOKEN_FILE:-}" ] && [ -s "$token_file" ]; then
      export AGENTQ_TOKEN_FILE=$token_file
    fi
    if [ -z "${AGENTQ_TOKEN:-}" ] && [ -z "${AGENTQ_TOKEN_FILE:-}" ]; then
      role=worker; [ "$1" = agentq-reviewer ] && role=reviewer
      [ -n "${AGENTQ_ADMIN_TOKEN:-}" ] || { echo "set AGENTQ_TOKEN or AGENTQ_ADMIN_TOKEN" >&2; exit 2; }
      name="${role}-$(hostname)"
      until AGENTQ_TOKEN="$AGENTQ_ADMIN_TOKEN" agentq agent add "$name" --role "$role" --json > /tmp/agent.json 2>/tmp/agent.err \
            || grep -q duplicate /tmp/agent.err; do
        echo "waiting for the server to register $name" >&2; sleep 2
      done
      if grep -q duplicate /tmp/agent.err 2>/dev/null && [ ! -s /tmp/agent.json ]; then
        echo "agent $name exists but this container has no token: set AGENTQ_TOKEN" >&2; exit 2
      fi
      (umask 077 && sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' /tmp/agent.json > "$token_file")
      export AGENTQ_TOKEN_FILE=$token_file
      rm -f /tmp/agent.json /tmp/agent.err
    fi
    unset AGENTQ_ADMIN_TOKEN AGENTQ_ADMIN_TOKEN_FILE
    ;;
esac
exec "$@"
