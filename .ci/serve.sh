#!/usr/bin/env bash
# `make run`: set up, then serve HTTP + websockets on 127.0.0.1:8000 with a Celery worker
# and beat in the foreground. Ctrl-C stops everything this started, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

bash .ci/setup.sh --serve

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "[run] stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    bash .ci/stop-started.sh
}
trap cleanup INT TERM EXIT

.venv/bin/python -m config.server --host "$HOST" --port "$PORT" &
pids+=($!)
.venv/bin/celery -A config worker --loglevel INFO --concurrency 2 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --schedule var/run/celerybeat-schedule &
pids+=($!)

cat <<INFO

  Placemap is running:
    API        http://$HOST:$PORT/api/v1/        (docs: http://$HOST:$PORT/api/docs)
    Admin      http://$HOST:$PORT/admin/
    Health     http://$HOST:$PORT/health  and  /ready
    Live feed  ws://$HOST:$PORT/ws/map/?bbox=13.0,52.3,13.8,52.7
    Mail       files under var/mail/
  Ctrl-C stops it.

INFO
# Any one process dying takes the others down with it (and the trap cleans up).
wait -n
