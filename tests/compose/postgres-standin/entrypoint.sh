#!/bin/sh
# The stand-in's entrypoint: on an empty data directory, initdb with
# POSTGRES_USER as the superuser (password POSTGRES_PASSWORD, scram-sha-256
# for network clients) and create POSTGRES_DB, as the official image does;
# then run PostgreSQL in the foreground as the postgres user, listening on
# every address of the container.
set -eu
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
: "${POSTGRES_PASSWORD:?the stand-in postgres image needs POSTGRES_PASSWORD}"
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  runuser -u postgres -- initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # A private socket directory while the database is made: pg_isready (the
    # healthcheck) must not see this temporary server as ready.
    init_socket=$(mktemp -d)
    chown postgres "$init_socket"
    runuser -u postgres -- pg_ctl -D "$PGDATA" \
      -o "-c listen_addresses='' -c unix_socket_directories=$init_socket" -w start >/dev/null
    runuser -u postgres -- createdb -U "$user" -h "$init_socket" "$db"
    runuser -u postgres -- pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    rm -rf "$init_socket"
  fi
  echo "postgres stand-in: initialised $PGDATA (user $user, database $db)"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
