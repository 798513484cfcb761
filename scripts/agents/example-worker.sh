#!/bin/sh
# example-worker.sh — a scripted stand-in for a coding agent (AGENTQ_AGENT_CMD).
#
# agentq-worker runs it in a fresh checkout of the task's repository with
# AGENTQ_TASK_FILE pointing at the claim answer (JSON). It does what the task
# body says, one directive per line (other lines are ignored):
#
#   create PATH TEXT    write TEXT (and a newline) to PATH, making folders
#   append PATH TEXT    add the line TEXT to PATH
#   delete PATH         remove PATH
#   sleep SECONDS       take its time (for lease and cancel demos)
#   fail [CODE]         give up with exit CODE (default 3): the task is released
#   noop                change nothing: the task is released ("no change")
#
# With no create/append/delete/noop directive it records the task in
# tasks/<id>.md, so every task makes a real change.
#
# Review feedback: every line "REQUEST: <directive>" in the reasons of earlier
# review rounds (the task file's `feedback`) is carried out as well — that is
# how a rejected task gets fixed on its next attempt (see example-reviewer.sh).
#
# It writes .agentq/summary.md (the submission's summary) and prints what it
# did. PATHs must be relative and stay inside the checkout. Needs jq.
set -eu
set -f  # directives are data: no globbing

command -v jq >/dev/null 2>&1 || { echo "example-worker: jq is required" >&2; exit 2; }
: "${AGENTQ_TASK_FILE:?example-worker: AGENTQ_TASK_FILE is not set (run me from agentq-worker)}"

id=$(jq -r '.task.id' "$AGENTQ_TASK_FILE")
title=$(jq -r '.task.title // ""' "$AGENTQ_TASK_FILE")
done_list=""
changed=0
noop=0

note() { done_list="$done_list
- $*"; echo "$*"; }

safe_path() {
  case "$1" in
    ""|/*|..|../*|*/..|*/../*|.agentq|.agentq/*|.git|.git/*)
      echo "example-worker: refusing path '$1'" >&2; exit 2 ;;
  esac
}

apply() {  # apply one directive line
  line=$1
  verb=${line%% *}
  rest=""
  [ "$verb" != "$line" ] && rest=${line#* }
  case "$verb" in
    create|append)
      path=${rest%% *}
      text=""
      [ "$path" != "$rest" ] && text=${rest#* }
      safe_path "$path"
      mkdir -p "$(dirname "$path")"
      if [ "$verb" = create ]; then printf '%s\n' "$text" > "$path"; else printf '%s\n' "$text" >> "$path"; fi
      changed=1
      note "$verb $path" ;;
    delete)
      safe_path "$rest"
      rm -f -- "$rest"
      changed=1
      note "delete $rest" ;;
    sleep)
      echo "sleeping $rest s"
      i=0
      while [ "$i" -lt "$rest" ]; do sleep 1; i=$((i + 1)); echo "still working ($i/$rest)"; done ;;
    fail)
      code=${rest:-3}
      echo "example-worker: giving up as the task says (exit $code)"
      exit "$code" ;;
    noop)
      noop=1
      note "nothing to change" ;;
  esac
}

echo "example-worker: task $id: $title"
# The body's directives, then the requests of earlier review rounds.
body=$(jq -r '.task.body // ""' "$AGENTQ_TASK_FILE")
requests=$(jq -r '[.feedback[]?.text // empty] | join("\n")' "$AGENTQ_TASK_FILE" |
           sed -n 's/^[[:space:]]*REQUEST:[[:space:]]*//p')
rounds=$(jq '[.feedback[]?] | length' "$AGENTQ_TASK_FILE")
[ "$rounds" -gt 0 ] && echo "example-worker: addressing feedback of $rounds earlier round(s)"

# Scratch files live in .agentq/, which the runner never commits.
mkdir -p .agentq
printf '%s\n' "$body" > .agentq/body
while IFS= read -r l || [ -n "$l" ]; do apply "$l"; done < .agentq/body
if [ -n "$requests" ]; then
  printf '%s\n' "$requests" > .agentq/requests
  while IFS= read -r l || [ -n "$l" ]; do [ -n "$l" ] && apply "$l"; done < .agentq/requests
fi

if [ "$changed" -eq 0 ] && [ "$noop" -eq 0 ]; then
  mkdir -p tasks
  printf '# %s\n\n%s\n' "$title" "$body" > "tasks/$id.md"
  note "create tasks/$id.md"
fi

{
  echo "Task $id: $title"
  [ "$rounds" -gt 0 ] && echo "Addressed the feedback of $rounds review round(s)."
  printf '%s\n' "$done_list"
} > .agentq/summary.md
echo "example-worker: done"
