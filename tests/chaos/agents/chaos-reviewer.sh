#!/bin/sh
# chaos-reviewer.sh — the chaos run's reviewer agent (AGENTQ_REVIEW_CMD):
# takes a random while (0.1 to AGENTQ_CHAOS_MAX_S seconds, default 2), then
#   - a task labelled "reject-twice" is rejected in its first two review
#     rounds (review_round 0 and 1) and approved after;
#   - anything else is judged by scripts/agents/example-reviewer.sh (which
#     rejects a "reject-once" task once: AGENTQ_CHAOS_EXAMPLES is its folder).
set -eu
: "${AGENTQ_CHAOS_EXAMPLES:?chaos-reviewer: AGENTQ_CHAOS_EXAMPLES is not set}"
max_ms=$(( ${AGENTQ_CHAOS_MAX_S:-2} * 1000 ))
r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
ms=$(( 100 + r % max_ms ))
sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
round=$(jq -r '.task.review_round // 0' "$AGENTQ_TASK_FILE")
if jq -e '(.task.labels // []) | index("reject-twice") != null' "$AGENTQ_TASK_FILE" >/dev/null &&
   [ "$round" -lt 2 ]; then
  echo "round $round: not yet, this task is rejected twice on purpose"
  exit 1
fi
exec sh "$AGENTQ_CHAOS_EXAMPLES/example-reviewer.sh"
