#!/usr/bin/env bash
# `make test`: the same set-up as `make run`, then lint, the layer contracts and type
# checks (docs/architecture.md), migration check, compose-file validation and the whole
# test suite against real PostGIS, Redis and S3 (in parallel: docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
trap 'bash .ci/stop-started.sh' EXIT

echo "[test] ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[test] import layers (lint-imports)"
.venv/bin/lint-imports
echo "[test] types (mypy)"
.venv/bin/mypy
echo "[test] migrations"
.venv/bin/python manage.py makemigrations --check --dry-run --settings=config.settings.test
echo "[test] docker-compose.yml against the Compose Specification"
.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
echo "[test] pytest"
.venv/bin/pytest "$@"
