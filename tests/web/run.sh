#!/usr/bin/env bash
# CTest's entry for the browser test: installs the pinned npm packages (npm ci,
# into the build directory, from package-lock.json) and runs page_test.mjs
# against Debian's chromium. scripts/test installs chromium (AGENTQ_TEST_PACKAGES);
# without it a developer's box skips (exit 77), but CI never does.
#   run.sh AGENTQ_BINARY WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
agentq=$1
work=$2
browser=${AGENTQ_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$browser" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: $browser is missing; scripts/test installs Debian's chromium" >&2
    exit 1
  fi
  echo "skipped: $browser is missing (apt-get install chromium, or scripts/test installs it)" >&2
  exit 77
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (apt-get install nodejs npm)" >&2; exit 1; }
done

mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/page_test.mjs" "$work/"
cd "$work"
# npm ci only when the lock changed since the last install here.
if ! cmp -s package-lock.json node_modules/.agentq-installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.agentq-installed-lock
fi
exec node page_test.mjs "$agentq" "$work/artifacts"
