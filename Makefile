.PHONY: run test lint bench bench-seed bench-places bench-uploads bench-bulk bench-scaling help

help:
	@echo "make run    set up everything and serve http://127.0.0.1:8000 (Ctrl-C stops)"
	@echo "make test   set up, lint (ruff, import layers, mypy), check migrations and compose file, run the tests"
	@echo "make lint   ruff, lint-imports and mypy only"
	@echo "make bench  benchmarks (see docs/benchmarks.md)"

run:
	@bash .ci/serve.sh

test:
	@bash .ci/test.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/mypy

# Benchmarks (docs/benchmarks.md). Need: apt-get install -y wrk time gdal-bin, services up
# (make run's set-up), the S3 endpoint on :9000. N=10000 for a quick smoke run.
bench-seed:
	.venv/bin/python bench/seed_places.py --n $${N:-1000000}

bench-places:
	.venv/bin/python bench/run_places.py --duration 15 --repeats 3

bench-uploads:
	.venv/bin/python bench/run_uploads.py --duration 10 --repeats 3

bench-bulk:
	.venv/bin/python bench/run_bulk.py --repeats 3 --import-repeats 1

# Two web processes behind HAProxy with the standby of .ci/replica.sh, against one
# (docs/scaling.md, "Measured"). Needs: apt-get install -y wrk haproxy.
bench-scaling:
	.venv/bin/python bench/run_scaling.py --duration 15 --repeats 3

bench: bench-seed bench-places bench-uploads bench-bulk
