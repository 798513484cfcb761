#!/usr/bin/env bash
# compose's `demo-repo` service: makes the shared bare repository the demo
# works on (once), registers it with the server, and adds the demo tasks.
set -euo pipefail
repo=/srv/git/demo.git
if [ ! -d "$repo" ]; then
  work=$(mktemp -d)
  git -C "$work" init -q -b main
  mkdir -p "$work/src"
  printf '#!/bin/sh\n# The demo project'"'"'s tests: every file in src/ must be non-empty.\nfor f in src/*; do [ -s "$f" ] || { echo "empty: $f"; exit 1; }; done\necho ok\n' > "$work/test.sh"
  chmod +x "$work/test.sh"
  echo "# demo" > "$work/README.md"
  echo "hello" > "$work/src/hello.txt"
  git -C "$work" add -A
  git -C "$work" -c user.name=agentq -c user.email=agentq@localhost commit -q -m "demo project"
  git clone -q --bare "$work" "$repo"
  rm -rf "$work"
fi
export AGENTQ_TOKEN=$AGENTQ_ADMIN_TOKEN
until agentq repo list >/dev/null 2>&1; do echo "waiting for the server" >&2; sleep 2; done
agentq repo add demo "$repo" --base-branch main 2>/dev/null || true
for i in $(seq 1 6); do
  agentq task add "demo task $i" --repo demo --body "create src/file-$i.txt demo $i" \
    --idempotency-key "compose-demo-$i" >/dev/null
done
echo "demo repository and tasks are ready"
