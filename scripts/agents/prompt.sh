#!/bin/sh
# prompt.sh work|review — prints the prompt for an LLM agent from
# AGENTQ_TASK_FILE: the task, the reviewers' feedback of earlier rounds
# (work), or the submission and its diff stats (review). Used by the
# claude-*, codex-* and aider-* wrappers; needs jq.
set -eu
: "${AGENTQ_TASK_FILE:?AGENTQ_TASK_FILE is not set}"
mode=${1:-work}
f=$AGENTQ_TASK_FILE

jq -r '"# Task \(.task.id): \(.task.title)\n\n\(.task.body)\n"' "$f"
if [ "$mode" = work ]; then
  jq -r 'if ((.feedback // []) | length) > 0 then
           "## Feedback from earlier review rounds (address all of it)\n" +
           ([.feedback[] | "### Round \(.round) (\(.source // "review"), \(.author // "?"))\n\(.text)\n"] | join("\n"))
         else empty end' "$f"
  cat <<'TEXT'
## How to work
You are in a git checkout of the repository on a branch made for this task.
Make the change the task asks for, run the repository's tests if there are
any, and leave the result in the working tree. Do not commit, push or switch
branches: the runner commits and pushes your work. Finally write a short
summary of what you did (and how you addressed any feedback) to
.agentq/summary.md.
TEXT
else
  jq -r '"## Submission\nBranch \(.submission.branch), commit \(.submission.commit), by \(.submission.worker).\nWorker summary:\n\(.submission.summary)\n\n## Diff stats\n\(.diff_stats.files_changed // "?") files, +\(.diff_stats.insertions // "?") -\(.diff_stats.deletions // "?")\n" + ([.diff_stats.files[]? | "- \(.status) \(.path) (+\(.insertions // 0) -\(.deletions // 0))"] | join("\n")) + "\n"' "$f"
  cat <<TEXT
## How to review
You are in a checkout of exactly the submitted commit. The change is
\`git diff $(jq -r '.diff_stats.base // "HEAD~1"' "$f") HEAD\`. Check that it does
what the task asks, that the tests pass, and that nothing else changed. Do not
modify files. Explain your findings briefly, then end with exactly one line:
VERDICT: APPROVE    or    VERDICT: REJECT
TEXT
fi
