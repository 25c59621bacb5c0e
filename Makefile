# One virtual environment in .venv; every target installs what it needs first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mips synth --task Parity_Last3 --out demo_program.py

# The suite on two workers: it is many small CPU-bound tests, and its machines have two cores.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest -n 2

# The slow tests, and every property test with fresh Hypothesis draws (the default run's are fixed).
test-slow: $(STAMP)
	$(BIN)/pytest -m "slow or hypothesis" --hypothesis-profile=fresh

bench: $(STAMP)
	$(BIN)/mips bench --out bench_out

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
