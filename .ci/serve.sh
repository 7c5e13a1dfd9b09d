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
# Runs a command in the background and starts it again whenever it exits, after 1, 2, 4 …
# 30 s (back to 1 s once it has run for a minute): a worker or beat that dies (Redis lost,
# OOM) comes back instead of taking the stack down. TERM/INT stop the command too.
supervise() {
    local name=$1
    shift
    (
        child=""
        trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi; exit 0' TERM INT
        delay=1
        while true; do
            started=$SECONDS
            "$@" &
            child=$!
            status=0
            wait "$child" || status=$?
            child=""
            if ((SECONDS - started >= 60)); then delay=1; fi
            echo "[run] $name exited (status $status); restarting in ${delay}s" >&2
            sleep "$delay" &
            wait $! || true
            delay=$((delay * 2 > 30 ? 30 : delay * 2))
        done
    ) &
    pids+=($!)
}
supervise worker .venv/bin/celery -A config worker --loglevel INFO --concurrency 2
supervise beat .venv/bin/celery -A config beat --loglevel INFO --schedule var/run/celerybeat-schedule

cat <<INFO

  Placemap is running:
    API        http://$HOST:$PORT/api/v1/        (docs: http://$HOST:$PORT/api/docs)
    Admin      http://$HOST:$PORT/admin/
    Health     http://$HOST:$PORT/health  and  /ready
    Live feed  ws://$HOST:$PORT/ws/map/?bbox=13.0,52.3,13.8,52.7
    Mail       files under var/mail/
  Ctrl-C stops it.

INFO
# The web server dying takes the others down with it (and the trap cleans up); worker and
# beat are restarted by their supervisors.
wait -n
