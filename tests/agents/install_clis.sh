#!/bin/sh
# install_clis.sh DEST — installs the pinned agent CLIs (package.json and
# package-lock.json beside this script) into DEST/node_modules with `npm ci`;
# DEST/node_modules/.bin then holds claude, codex and gemini. Skipped when DEST
# already holds exactly this lockfile's install. Of the install scripts only
# Claude Code's runs (it puts its native program, shipped in a platform
# package, in place); the others build optional native add-ons Gemini CLI
# does without.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: install_clis.sh DEST}
command -v npm >/dev/null 2>&1 || { echo "install_clis: npm is required (apt-get install nodejs)" >&2; exit 1; }
mkdir -p "$dest"
if cmp -s "$here/package-lock.json" "$dest/installed-lock.json" &&
   [ -x "$dest/node_modules/.bin/claude" ] && [ -x "$dest/node_modules/.bin/codex" ] &&
   [ -x "$dest/node_modules/.bin/gemini" ]; then
  echo "install_clis: $dest already holds the pinned CLIs"
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dest/"
rm -f "$dest/installed-lock.json"
cd "$dest"
# Every registry call has a deadline (npm's own retries included).
npm ci --ignore-scripts --no-audit --no-fund --fetch-timeout=120000 --fetch-retries=2
node node_modules/@anthropic-ai/claude-code/install.cjs
cp package-lock.json installed-lock.json
for cli in claude codex gemini; do
  printf '%s: %s\n' "$cli" "$("node_modules/.bin/$cli" --version 2>/dev/null | tail -n 1)"
done
