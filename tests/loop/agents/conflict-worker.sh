#!/bin/sh
# conflict-worker.sh — a worker agent (AGENTQ_AGENT_CMD) for the merge-conflict
# test in tests/loop. The task body is one line "PATH TEXT".
#
# First attempt: it waits until every task of the test has been claimed (each
# leaves a marker in $AGENTQ_TEST_DIR; AGENTQ_LOOP_PARTIES of them, default
# 2), so that all of them start from the same base and collide, then writes
# TEXT to PATH.
#
# After a merge conflict (the task file's feedback has an entry with source
# "merge_conflict"): the new base already holds PATH from the task that
# landed first. It keeps that and appends TEXT, which merges cleanly.
set -eu
: "${AGENTQ_TASK_FILE:?conflict-worker: run me from agentq-worker}"
: "${AGENTQ_TEST_DIR:?conflict-worker: AGENTQ_TEST_DIR is not set}"

id=$(jq -r '.task.id' "$AGENTQ_TASK_FILE")
line=$(jq -r '.task.body' "$AGENTQ_TASK_FILE" | head -n 1)
path=${line%% *}
text=${line#* }
conflicts=$(jq '[.feedback[]? | select(.source == "merge_conflict")] | length' "$AGENTQ_TASK_FILE")

if [ "$conflicts" -gt 0 ]; then
  printf '%s\n' "$text" >> "$path"
  echo "task $id: merge conflict on $path resolved: kept the base's text, added mine"
  exit 0
fi

touch "$AGENTQ_TEST_DIR/started-$id"
tries=0
while [ "$(ls "$AGENTQ_TEST_DIR" | grep -c '^started-')" -lt "${AGENTQ_LOOP_PARTIES:-2}" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 1200 ]; then
    echo "task $id: the other tasks were never claimed" >&2
    exit 3
  fi
  sleep 0.1
done
printf '%s\n' "$text" > "$path"
echo "task $id: wrote $path"
