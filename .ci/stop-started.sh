#!/usr/bin/env bash
# Stop the services that .ci/setup.sh started in this checkout (and nothing else).
cd "$(dirname "$0")/.."
[ -f var/run/started ] || exit 0
while read -r what arg; do
    case "$what" in
        moto) kill "$arg" 2>/dev/null && echo "[stop] moto S3 server" ;;
        redis) redis-cli -p "$arg" shutdown nosave >/dev/null 2>&1 && echo "[stop] Redis" ;;
        pg-replica) runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" \
            -D "$arg" -m fast -w stop >/dev/null && echo "[stop] PostgreSQL standby $arg" ;;
        postgresql) pg_ctlcluster --skip-systemctl-redirect "$arg" main stop && echo "[stop] PostgreSQL $arg" ;;
    esac
done < var/run/started
rm -f var/run/started
