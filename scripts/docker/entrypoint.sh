#!/usr/bin/env bash
# Container entrypoint. For the runners (agentq-worker, agentq-reviewer) with
# no AGENTQ_TOKEN, registers this container as an agent named after its host
# name, using the admin token, so `docker compose up --scale worker=8` gives
# each worker an identity of its own. The token is kept in the container
# (~/.agentq-runner-token, mode 600), so a restarted container (restart
# policy, `docker restart`) works on as the same agent instead of failing on
# the name it registered before. Everything else runs as given.
set -euo pipefail
token_file=$HOME/.agentq-runner-token
case "${1:-}" in
  agentq-worker|agentq-reviewer)
    if [ -z "${AGENTQ_TOKEN:-}" ] && [ -s "$token_file" ]; then
      AGENTQ_TOKEN=$(cat "$token_file")
      export AGENTQ_TOKEN
    fi
    if [ -z "${AGENTQ_TOKEN:-}" ]; then
      role=worker; [ "$1" = agentq-reviewer ] && role=reviewer
      [ -n "${AGENTQ_ADMIN_TOKEN:-}" ] || { echo "set AGENTQ_TOKEN or AGENTQ_ADMIN_TOKEN" >&2; exit 2; }
      name="${role}-$(hostname)"
      until agentq agent add "$name" --role "$role" --json --token "$AGENTQ_ADMIN_TOKEN" > /tmp/agent.json 2>/tmp/agent.err \
            || grep -q duplicate /tmp/agent.err; do
        echo "waiting for the server to register $name" >&2; sleep 2
      done
      if grep -q duplicate /tmp/agent.err 2>/dev/null && [ ! -s /tmp/agent.json ]; then
        echo "agent $name exists but this container has no token: set AGENTQ_TOKEN" >&2; exit 2
      fi
      AGENTQ_TOKEN=$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' /tmp/agent.json)
      export AGENTQ_TOKEN
      (umask 077 && printf '%s\n' "$AGENTQ_TOKEN" > "$token_file")
      rm -f /tmp/agent.json /tmp/agent.err
    fi
    ;;
esac
exec "$@"
