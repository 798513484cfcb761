#!/usr/bin/env bash
# What each part of one claim + submit cycle costs: pgbench runs the store's
# own claim and submit SQL (as the `floor` row of agentq-bench does) on fresh
# copies of the schema, each copy with one part taken away, and prints
# cycles/s and the server's CPU per cycle beside the unchanged schema. The
# CPU column (one client: a psql session running the same claim and submit,
# each committed, reading its backend's utime+stime from /proc, so it needs a
# superuser on a local Linux server) does not move with other load on the
# machine, unlike cycles/s. Variants are schema changes made on a
# scratch database (an index dropped, a trigger dropped, a BEFORE INSERT
# trigger that skips a table's rows, a function that builds no JSON), never
# edited copies of the SQL files, so the numbers follow sql/ as it changes.
# Not a test and not part of CI: a tool for docs/benchmarks-profile.md.
#
#   bench/profile/claim_submit_parts.sh "host=/tmp/pg port=5432 user=postgres" [seconds] [repeats] [clients...]
#   VARIANTS="baseline no_events" bench/profile/claim_submit_parts.sh ...   only these
#
# The server's role must be allowed to CREATE DATABASE; databases named
# agentq_prof_* are created and dropped. Needs psql and pgbench on PATH (or
# PG_BIN=/usr/lib/postgresql/15/bin).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
server=${1:?usage: $0 SERVER_URL [seconds] [repeats] [clients...]}
seconds=${2:-5}
repeats=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
clients=("${@:-1}")
[ ${#clients[@]} -eq 0 ] && clients=(1 8)
bin=${PG_BIN:+$PG_BIN/}
work=$(mktemp -d /tmp/agentq-prof.XXXXXX)
trap 'rm -rf "$work"' EXIT
psql_on() { "${bin}psql" -X -q -v ON_ERROR_STOP=1 "$server dbname=$1" "${@:2}"; }

# The cycle, from the embedded SQL: comment lines dropped, $N bound as the
# store binds them (null queues and clock).
strip() { grep -v '^[[:space:]]*--' "$1"; }
{
  echo 'BEGIN;'
  strip "$root/sql/queries/tasks_claim_worker.sql" |
    sed -e 's/\$1/:agent_id/g; s/\$2/:agent_name/g; s/\$3/null/g; s/\$4/1/g' \
        -e 's/\$5/:lease_s/g; s/\$6/null/g; s/\$7/:lease_s/g'
  printf '\\gset c_\nCOMMIT;\nBEGIN;\n'
  strip "$root/sql/queries/tasks_submit.sql" |
    sed -e 's/\$1/:c_id/g; s/\$2/:c_token/g; s/\$3/:agent_id/g; s/\$4/:branch/g' \
        -e 's/\$5/:commit/g; s/\$6/:summary/g; s/\$7/:agent_name/g; s/\$8/null/g'
  printf ';\nCOMMIT;\n'
} > "$work/cycle.sql"

# The same cycle for psql (prepared once, each statement its own commit), n
# times, between two readings of the backend's CPU time.
claim_sql=$(strip "$root/sql/queries/tasks_claim_worker.sql")
submit_sql=$(strip "$root/sql/queries/tasks_submit.sql")
cpu_ms="select (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint)
          * 1000.0 / $(getconf CLK_TCK) as ms
        from pg_read_file('/proc/' || pg_backend_pid() || '/stat') s"
cpu_per_cycle() {  # database, cycles
  {
    echo "prepare c(bigint, text, text[], int, int, timestamptz, int) as $claim_sql;"
    echo "prepare s(bigint, bigint, bigint, text, text, text, text, timestamptz) as $submit_sql;"
    echo "set plan_cache_mode = force_generic_plan;"
    echo "$cpu_ms \\gset a_"
    for _ in $(seq "$2"); do
      echo "execute c(1, 'prof-worker', null, 1, 600, null, 600) \\gset c_"
      echo "execute s(:c_id, :c_token, 1, 'agentq/prof', '0123456789abcdef0123456789abcdef01234567', 'profiled', 'prof-worker', null);"
    done
    echo "select round((:b_ms - :a_ms) / $2, 3) from (select 1) one, lateral ($cpu_ms) b \\gset b_" | sed 's/:b_ms/b.ms/'
    echo "\\echo CPU :b_round"
  } > "$work/cpu.sql"
  "${bin}psql" -X -q -tA "$server dbname=$1" -f "$work/cpu.sql" | sed -n 's/^CPU //p'
}

# A template with every migration, one repository and one worker.
tpl=agentq_prof_tpl
psql_on postgres -c "drop database if exists $tpl" -c "create database $tpl" 2>/dev/null
for migration in "$root"/sql/migrations/*.sql; do psql_on $tpl -f "$migration"; done
psql_on $tpl -c "insert into repos (name, url) values ('prof', 'file:///nowhere')" \
             -c "insert into agents (name, role, token_hash) values ('prof-worker', 'worker', '\x00')"

# What each variant changes (run after the template is copied, before the load).
skip_rows() {  # a BEFORE INSERT trigger that drops every row of table $1
  echo "create function prof_skip() returns trigger language plpgsql as 'begin return null; end';
        create trigger prof_skip before insert on $1 for each row execute function prof_skip();"
}
variant_sql() {
  case $1 in
    baseline) echo "select 1" ;;
    no_events) skip_rows events ;;
    no_claims_rows) echo "alter table submissions drop constraint submissions_token_fkey;"; skip_rows claims ;;
    no_submission_row) skip_rows submissions ;;
    no_task_json) echo "create or replace function agentq_task_json(t tasks) returns jsonb
                         language sql stable as 'select ''{}''::jsonb'" ;;
    no_notify) echo "drop trigger tasks_notify_claimable on tasks" ;;
    no_state_id) echo "drop index tasks_state_id" ;;
    no_0001_claimable) echo "drop index tasks_claimable_worker; drop index tasks_claimable_reviewer" ;;
    no_idempotency_idx) echo "alter table tasks drop constraint tasks_idempotency_key_key" ;;
    no_fkeys) echo "alter table tasks drop constraint tasks_claim_agent_id_fkey;
                    alter table claims drop constraint claims_task_id_fkey, drop constraint claims_agent_id_fkey;
                    alter table events drop constraint events_task_id_fkey;
                    alter table submissions drop constraint submissions_task_id_fkey,
                      drop constraint submissions_token_fkey, drop constraint submissions_agent_id_fkey" ;;
    fillfactor_70) echo "alter table tasks set (fillfactor = 70)" ;;
    sync_commit_off) echo "alter database current_database_placeholder set synchronous_commit = off" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
variants=(${VARIANTS:-baseline no_events no_claims_rows no_submission_row no_task_json no_notify
          no_state_id no_0001_claimable no_idempotency_idx no_fkeys fillfactor_70 sync_commit_off})

printf '%-20s %7s %6s %10s %9s %8s %14s\n' variant clients run cycles/s avg_ms hot_upd% cpu_ms/cycle
for rep in $(seq 1 "$repeats"); do
  for n in "${clients[@]}"; do
    for v in "${variants[@]}"; do
      db=agentq_prof_$v
      psql_on postgres -c "drop database if exists $db" -c "create database $db template $tpl" 2>/dev/null
      psql_on $db -o /dev/null -c "$(variant_sql "$v" | sed "s/current_database_placeholder/$db/")"
      psql_on $db -c "insert into tasks (title, body, repo_id) select 'prof task ' || g,
                        'a profile task', 1 from generate_series(1, 20000) g" -c "vacuum analyze"
      out=$("${bin}pgbench" -n -M prepared -c "$n" -j "$(( n < 2 ? n : 2 ))" -T "$seconds" \
              -D agent_id=1 -D agent_name=prof-worker -D lease_s=600 -D branch=agentq/prof \
              -D commit=0123456789abcdef0123456789abcdef01234567 -D summary=profiled \
              -f "$work/cycle.sql" "$server dbname=$db" 2>&1) || { echo "$out" >&2; exit 1; }
      tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
      lat=$(sed -n 's/^latency average = \([0-9.]*\).*/\1/p' <<<"$out")
      cpu=-
      [ "$n" = 1 ] && cpu=$(cpu_per_cycle "$db" "${CPU_CYCLES:-1000}")
      hot=$(psql_on $db -tAc "select round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1))
                                from pg_stat_user_tables where relname = 'tasks'")
      printf '%-20s %7s %6s %10.0f %9s %8s %14s\n' "$v" "$n" "$rep" "$tps" "$lat" "$hot" "$cpu"
      psql_on postgres -c "drop database $db"
    done
  done
done
psql_on postgres -c "drop database $tpl"
