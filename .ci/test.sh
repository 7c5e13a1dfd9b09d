#!/usr/bin/env bash
# `make test`: the same set-up as `make run`, then lint, migration check, compose-file
# validation and the whole test suite against real PostGIS, Redis and S3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
trap 'bash .ci/stop-started.sh' EXIT

echo "[test] ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[test] migrations"
.venv/bin/python manage.py makemigrations --check --dry-run --settings=config.settings.test
echo "[test] docker-compose.yml against the Compose Specification"
.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
echo "[test] pytest"
.venv/bin/pytest "$@"
