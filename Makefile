# fusevm developer tasks. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DOCS_STAMP := $(VENV)/.docs-stamp
SHARED ?= ../shared

.PHONY: venv demo test lint typecheck docs bench fuzz fuzz-input conformance clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/fusevm demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $(DOCS_STAMP)

# Regenerates the op reference, then builds the site into site/ (warnings are errors).
docs: $(DOCS_STAMP)
	$(BIN)/python -m fusevm.tools.gen_docs
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/fusevm bench

fuzz: $(STAMP)
	$(BIN)/python tests/jit/fuzz.py --seconds $${FUZZ_SECONDS:-300}

# Coverage-guided fuzzing of the assembler, deserializer and verifier (tests/fuzz/run.py);
# crashers land in tests/fuzz/crashes/ (copy them into tests/fuzz/corpus/ to keep them).
fuzz-input: $(STAMP)
	$(BIN)/python tests/fuzz/run.py all --seconds $${FUZZ_SECONDS:-120}

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
	rm -rf $(VENV) build dist site src/*.egg-info .pytest_cache .mypy_cache .ruff_cache \
		.hypothesis tests/fuzz/crashes
