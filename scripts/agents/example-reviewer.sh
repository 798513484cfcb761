#!/bin/sh
# example-reviewer.sh — a scripted stand-in for a reviewing agent (AGENTQ_REVIEW_CMD).
#
# agentq-reviewer runs it in a checkout of exactly the submitted commit, with
# AGENTQ_TASK_FILE holding the task, the submission and its diff stats. Exit 0
# approves; exit 1 rejects, and what it printed becomes the reasons.
#
# It rejects a submission when:
#   - the repository's ./test.sh exists and fails (its output is the reason);
#   - the submission changes no file;
#   - the task is labelled "reject-once" (or its body has a line
#     "reject-once") and the change lacks changes/<task-id>.md. The reasons
#     then carry the line "REQUEST: create changes/<id>.md ...", which
#     example-worker.sh carries out on its next attempt — so such a task is
#     rejected once and approved after the worker addressed the feedback;
#   - the task is labelled "reject-always" (a disagreement for people to judge).
# Otherwise it approves. Needs jq.
set -eu

command -v jq >/dev/null 2>&1 || { echo "example-reviewer: jq is required" >&2; exit 2; }
: "${AGENTQ_TASK_FILE:?example-reviewer: AGENTQ_TASK_FILE is not set (run me from agentq-reviewer)}"

id=$(jq -r '.task.id' "$AGENTQ_TASK_FILE")
worker=$(jq -r '.submission.worker // "?"' "$AGENTQ_TASK_FILE")
files=$(jq -r '.diff_stats.files_changed // 0' "$AGENTQ_TASK_FILE")
has_label() {
  jq -e --arg l "$1" '(.task.labels // []) | index($l) != null' "$AGENTQ_TASK_FILE" >/dev/null 2>&1 ||
    jq -r '.task.body // ""' "$AGENTQ_TASK_FILE" | grep -qx "[[:space:]]*$1[[:space:]]*"
}

# The verdict's reason comes first (people read the first line in
# `agentq disagreements list`); what was checked follows it.
checked="checked: task $id by $worker, $files file(s) changed"
reject() {  # reject REASON [MORE LINES...]
  printf '%s\n' "$@" "$checked"
  exit 1
}

if [ -f ./test.sh ]; then
  if ! out=$(sh ./test.sh 2>&1); then
    reject "The repository's tests fail on this submission:" "$(printf '%s\n' "$out" | tail -n 20)"
  fi
  checked="$checked; tests pass"
fi

[ "$files" -eq 0 ] && reject "The submission changes nothing."

has_label reject-always &&
  reject "I do not agree with this change at all (task labelled reject-always)."

if has_label reject-once && [ ! -f "changes/$id.md" ]; then
  reject "The change works, but it is not documented: every change needs a note." \
    "REQUEST: create changes/$id.md Documented change for task $id"
fi

echo "approved: tests pass, $files file(s) changed"
exit 0
