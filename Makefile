# fusevm developer tasks. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SHARED ?= ../shared

.PHONY: venv demo test lint typecheck docs bench fuzz conformance clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/fusevm demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m fusevm.tools.gen_docs

bench: $(STAMP)
	$(BIN)/fusevm bench

fuzz: $(STAMP)
	$(BIN)/python tests/jit/fuzz.py --seconds $${FUZZ_SECONDS:-300}

conformance: $(STAMP)
	@if [ -d "$(SHARED)/conformance/awk" ]; then \
		bash "$(SHARED)/conformance/awk/run.sh" -f "$(SHARED)/conformance/awk/consensus.txt" \
			"$(CURDIR)/$(BIN)/fusevm awk"; \
		bash "$(SHARED)/conformance/sh/run.sh" -j 4 -q "$(CURDIR)/$(BIN)/fusevm sh"; \
		bash "$(SHARED)/conformance/sh/run.sh" -j 4 -f "$(SHARED)/conformance/sh/core.txt" \
			"$(CURDIR)/$(BIN)/fusevm sh" NONE; \
	else \
		echo "conformance: skipped ($(SHARED)/conformance not found)"; \
	fi

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
