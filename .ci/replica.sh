#!/usr/bin/env bash
# A streaming standby of the local PostgreSQL cluster, for the read-replica tests
# (tests/config/test_replicas.py) and `make run` (docs/scaling.md, "Read replicas").
# Idempotent; called by .ci/setup.sh, as root. Records what it starts in $STARTED
# ("pg-replica <data dir>") so .ci/stop-started.sh stops it.
#   env: REPLICA_PORT (5433), REPLICA_DIR (var/pg-replica), DB_PORT (the primary's, 5432),
#        STARTED (the file of started services; default var/run/started.new)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
REPLICA_PORT="${REPLICA_PORT:-5433}"
REPLICA_DIR="${REPLICA_DIR:-$ROOT/var/pg-replica}"
DB_PORT="${DB_PORT:-5432}"
STARTED="${STARTED:-$ROOT/var/run/started.new}"
PG_MAJOR="$(ls /usr/lib/postgresql | sort -n | tail -1)"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

say() { printf '\033[1;34m[replica]\033[0m %s\n' "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }
primary_sql() { as_postgres psql -h 127.0.0.1 -p "$DB_PORT" -XAtqc "$1"; }
standby_sql() { as_postgres psql -h 127.0.0.1 -p "$REPLICA_PORT" -d postgres -XAtqc "$1" 2>/dev/null; }
streaming() { [ "$(standby_sql "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")" = 1 ]; }
wait_streaming() {
    for _ in $(seq "$1"); do streaming && return 0; sleep 0.5; done
    return 1
}

# Already there (this checkout's, or another checkout's standby of the same cluster)?
if [ "$(standby_sql 'SELECT pg_is_in_recovery()')" = t ]; then
    say "standby on $REPLICA_PORT is up"
    exit 0
fi

# Replication connections from loopback only (pg_hba's "all" does not match them).
HBA="$(primary_sql 'SHOW hba_file')"
if ! grep -Eq '^\s*host\s+replication\s+all\s+127\.0\.0\.1/32' "$HBA"; then
    say "allowing replication from 127.0.0.1 in $HBA"
    printf '\n# Placemap: the local read-replica standby (.ci/replica.sh)\nhost replication all 127.0.0.1/32 trust\n' >> "$HBA"
    primary_sql 'SELECT pg_reload_conf()' >/dev/null
fi

start_standby() {
    as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/standby.log" -w -t 60 start >/dev/null
    # Once, however often it is (re)started here: stop-started.sh stops it once.
    grep -qxF "pg-replica $REPLICA_DIR" "$STARTED" 2>/dev/null || echo "pg-replica $REPLICA_DIR" >> "$STARTED"
}

if [ -f "$REPLICA_DIR/standby.signal" ]; then
    say "starting the standby in $REPLICA_DIR on $REPLICA_PORT"
    start_standby
    # A standby stopped for long may need WAL the primary no longer keeps: copy again.
    if wait_streaming 40; then exit 0; fi
    say "the standby does not stream (WAL gone?); copying it again"
    as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null || true
fi

say "copying the cluster on $DB_PORT into $REPLICA_DIR (pg_basebackup -R)"
rm -rf "$REPLICA_DIR"
mkdir -p "$(dirname "$REPLICA_DIR")"
install -d -o postgres -g postgres -m 700 "$REPLICA_DIR"
as_postgres pg_basebackup -h 127.0.0.1 -p "$DB_PORT" -U postgres -D "$REPLICA_DIR" \
    -R -X stream --checkpoint=fast --no-sync
# Debian keeps the configuration outside the data directory: the standby gets its own.
# A hot standby needs these at least as high as on the primary.
{
    echo "# Written by .ci/replica.sh: a local hot standby of the cluster on port $DB_PORT."
    echo "port = $REPLICA_PORT"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '/var/run/postgresql'"
    echo "hot_standby = on"
    echo "hot_standby_feedback = on"
    echo "shared_buffers = 128MB"
    echo "fsync = off"
    for name in max_connections max_worker_processes max_wal_senders \
        max_prepared_transactions max_locks_per_transaction; do
        echo "$name = $(primary_sql "SHOW $name")"
    done
    echo "hba_file = '$REPLICA_DIR/pg_hba.conf'"
    echo "ident_file = '$REPLICA_DIR/pg_ident.conf'"
} > "$REPLICA_DIR/postgresql.conf"
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$REPLICA_DIR/pg_hba.conf"
: > "$REPLICA_DIR/pg_ident.conf"
chown postgres:postgres "$REPLICA_DIR"/postgresql.conf "$REPLICA_DIR"/pg_hba.conf "$REPLICA_DIR"/pg_ident.conf
say "starting the standby on $REPLICA_PORT"
start_standby
wait_streaming 60 || { say "the standby does not stream: see $REPLICA_DIR/standby.log"; exit 1; }
say "standby on $REPLICA_PORT streams from $DB_PORT"
