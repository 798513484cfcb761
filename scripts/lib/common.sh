# Shared by scripts/test and scripts/demo. Source it; it defines functions only.

# Debian packages agentq builds and runs with.
AGENTQ_PACKAGES=(g++ cmake make pkg-config ccache git
  libpqxx-dev libboost-dev libboost-system-dev nlohmann-json3-dev
  libgit2-dev libspdlog-dev catch2 postgresql jq)
# Only the tests need these: docker-compose validates compose.yaml, spin checks
# the model, python3 drives the chaos run (tests/chaos/chaos.py), chromium
# shows the people's page to tests/web (node and npm: the machine's).
AGENTQ_TEST_PACKAGES=(docker-compose spin python3 chromium)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whatever of the named packages (default: AGENTQ_PACKAGES) is
# missing (root only; otherwise says what to install).
ensure_packages() {
  local wanted=("$@") missing=()
  [ ${#wanted[@]} -eq 0 ] && wanted=("${AGENTQ_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    # No pipe into grep -q: under pipefail, grep quitting early can fail the line.
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
  fi
  say "installing ${missing[*]}"
  # One apt at a time: CI prepares the compose test's packages while
  # scripts/test installs its own (.ci/run), and apt does not wait for a lock.
  (
    flock 9
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ) 9>/var/lock/agentq-apt.lock
}

# Configures $1 and builds into $2 (default: build/): every target, or only
# the targets named after it. CI turns warnings into errors.
build_agentq() {
  local root=$1 dir=${2:-$1/build}
  shift $(($# < 2 ? $# : 2))
  local werror=OFF
  [ "${CI:-}" = "true" ] && werror=ON
  say "building ${*:-everything} into $dir"
  cmake -S "$root" -B "$dir" -DAGENTQ_WERROR=$werror >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build "$dir" -j "$(nproc)" --target "$@"
  else
    cmake --build "$dir" -j "$(nproc)"
  fi
}

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$dir"
}

# Runs a command as the owner of the PostgreSQL data directory: PostgreSQL
# refuses to run as root, so as root we use Debian's `postgres` user.
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts a private PostgreSQL in directory $1 (created), listening only on a
# Unix socket inside it. Sets PG_DIR and PG_URL (a libpq key=value string).
# extra settings: $2 (e.g. "-c fsync=off").
start_private_postgres() {
  PG_DIR=$1
  local settings=${2:-}
  local bin; bin=$(pg_bindir)
  mkdir -p "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    as_pg_user "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
      || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  local options="-k $PG_DIR -c listen_addresses='' -c max_connections=400 $settings"
  as_pg_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "$options" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  PG_URL="host=$PG_DIR port=5432 user=postgres dbname=postgres"
  # How tests stop and start this very server (the database-restart tests):
  # a shell command to which they append "stop -m fast" or "start".
  local prefix=""
  [ "$(id -u)" -eq 0 ] && prefix="runuser -u postgres --"
  export AGENTQ_TEST_PG_CTL="$prefix $bin/pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w -t 60 -o \"$options\""
}

stop_private_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  as_pg_user "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}
