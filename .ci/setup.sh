#!/usr/bin/env bash
# Shared set-up for `make run` and `make test` on Debian 12/13 (as root), idempotent:
# installs what is missing, starts what is not running, and records what it started
# (var/run/started) so `make run` can stop exactly that on Ctrl-C.
#   usage: .ci/setup.sh [--serve]    (--serve also migrates and seeds demo data)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
mkdir -p var/run var/log var/mail var/static
STARTED="$ROOT/var/run/started"
: > "$STARTED.new"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }

# --- System packages -----------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

missing=()
apt_updated=0
apt_install() {
    [ "$#" -eq 0 ] && return 0
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
    say "installing: $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if [ -z "$(pg_major)" ]; then missing+=(postgresql); fi
# chromium: the map page's browser test (tests/locations/test_map_page.py); gettext:
# msgfmt, which compiles the mails' translations (below); pgbouncer:
# tests/config/test_pgbouncer.py (docs/scaling.md, "Connection pooling").
for pkg in gdal-bin binutils redis-server curl chromium gettext pgbouncer; do
    installed "$pkg" || missing+=("$pkg")
done
# Debian's python3 needs python3-venv for `python3 -m venv`; other Pythons carry ensurepip.
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
apt_install ${missing[@]+"${missing[@]}"}
PG_MAJOR="$(pg_major)"
installed "postgresql-$PG_MAJOR-postgis-3" || apt_install "postgresql-$PG_MAJOR-postgis-3"

# --- Python environment --------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi
REQ_HASH="$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.requirements.sha 2>/dev/null || true)" != "$REQ_HASH" ]; then
    say "installing Python requirements"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r requirements/dev.txt
    echo "$REQ_HASH" > .venv/.requirements.sha
fi
if [ ! -f .env ]; then
    say "writing .env from .env.example"
    cp .env.example .env
fi
# The mails' translations: the .po files are in git, the .mo files are built here (and
# in the Dockerfile), every time: a few seconds.
say "compiling translations"
.venv/bin/python manage.py compilemessages --ignore=.venv --ignore=.git --ignore=var -v0

# Resolved configuration (environment first, then .env, then defaults).
eval "$(.venv/bin/python - <<'PY'
import shlex
from urllib.parse import urlsplit
from config.env import env
db = urlsplit(env.str("DATABASE_URL", default="postgis://placemap:placemap@127.0.0.1:5432/placemap"))
redis = urlsplit(env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))
s3 = urlsplit(env.str("AWS_S3_ENDPOINT_URL", default="http://127.0.0.1:9000"))
values = {
    "DB_HOST": db.hostname or "127.0.0.1", "DB_PORT": db.port or 5432,
    "DB_USER": db.username or "placemap", "DB_PASSWORD": db.password or "",
    "DB_NAME": db.path.lstrip("/") or "placemap",
    "REDIS_HOST": redis.hostname or "127.0.0.1", "REDIS_PORT": redis.port or 6379,
    "S3_HOST": s3.hostname or "127.0.0.1", "S3_PORT": s3.port or 80,
}
for key, value in values.items():
    print(f"{key}={shlex.quote(str(value))}")
PY
)"
is_local() { case "$1" in 127.0.0.1|localhost|::1) return 0 ;; *) return 1 ;; esac; }

# --- PostgreSQL + PostGIS ---------------------------------------------------------------
if is_local "$DB_HOST"; then
    if ! pg_isready -q -h 127.0.0.1 -p "$DB_PORT"; then
        if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$PG_MAJOR main$"; then
            say "creating PostgreSQL $PG_MAJOR cluster"
            pg_createcluster "$PG_MAJOR" main >/dev/null
        fi
        say "starting PostgreSQL $PG_MAJOR"
        pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start
        echo "postgresql $PG_MAJOR" >> "$STARTED.new"
        for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p "$DB_PORT" && break; sleep 0.5; done
    fi
    # A password role works whatever the local auth method (trust or scram). Superuser
    # because CREATE EXTENSION postgis needs it (pytest creates a test database).
    as_postgres psql -q -v ON_ERROR_STOP=1 -v user="$DB_USER" -v pass="$DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', :'user', :'pass')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SQL
    if ! as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
        say "creating database $DB_NAME"
        as_postgres createdb -O "$DB_USER" "$DB_NAME"
    fi
    as_postgres psql -q -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 | grep -v NOTICE || true
    # A streaming standby of this cluster (pg_basebackup -R) on REPLICA_PORT: the read
    # replica of the tests (tests/config/test_replicas.py) and docs/scaling.md.
    DB_PORT="$DB_PORT" STARTED="$STARTED.new" bash .ci/replica.sh
fi

# --- Redis ------------------------------------------------------------------------------
if is_local "$REDIS_HOST" && ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "starting Redis on $REDIS_PORT"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
        --appendonly no --dir "$ROOT/var/run" --logfile "$ROOT/var/log/redis.log" \
        --pidfile "$ROOT/var/run/redis.pid"
    echo "redis $REDIS_PORT" >> "$STARTED.new"
    for _ in $(seq 20); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.25; done
fi

# --- S3 endpoint (moto server stands in for MinIO locally) --------------------------------
if is_local "$S3_HOST" && ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/"; then
    say "starting moto S3 server on $S3_PORT"
    nohup .venv/bin/moto_server -H 127.0.0.1 -p "$S3_PORT" > var/log/moto.log 2>&1 &
    echo $! > var/run/moto.pid
    echo "moto $!" >> "$STARTED.new"
    for _ in $(seq 40); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$S3_PORT/" && break; sleep 0.25; done
fi
.venv/bin/python manage.py shell -v0 -c "from media_store.storage import ensure_bucket; ensure_bucket()"

if [ "${1:-}" = "--serve" ]; then
    .venv/bin/python manage.py migrate --no-input -v0
    .venv/bin/python manage.py seed_demo
fi
mv "$STARTED.new" "$STARTED"
say "ready"
