.PHONY: run test lint bench help

help:
	@echo "make run    set up everything and serve http://127.0.0.1:8000 (Ctrl-C stops)"
	@echo "make test   set up, lint, check migrations and compose file, run the tests"
	@echo "make bench  benchmarks (see docs/benchmarks.md)"

run:
	@bash .ci/serve.sh

test:
	@bash .ci/test.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
