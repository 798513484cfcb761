#!/bin/sh
# chaos-worker.sh — the chaos run's worker agent (AGENTQ_AGENT_CMD): takes a
# random while (0.1 to AGENTQ_CHAOS_MAX_S seconds, default 2), gives up now
# and then (AGENTQ_CHAOS_FAIL_PERCENT, default 15: exit 3, so the runner
# releases the task for a retry), and otherwise does what the task body says
# with scripts/agents/example-worker.sh (AGENTQ_CHAOS_EXAMPLES: that folder).
set -eu
: "${AGENTQ_CHAOS_EXAMPLES:?chaos-worker: AGENTQ_CHAOS_EXAMPLES is not set}"
max_ms=$(( ${AGENTQ_CHAOS_MAX_S:-2} * 1000 ))
r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
ms=$(( 100 + r % max_ms ))
sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
if [ $(( (r / 7) % 100 )) -lt "${AGENTQ_CHAOS_FAIL_PERCENT:-15}" ]; then
  echo "chaos-worker: giving up on purpose" >&2
  exit 3
fi
exec sh "$AGENTQ_CHAOS_EXAMPLES/example-worker.sh"
