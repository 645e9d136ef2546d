# The README's two commands. Each sets up .venv on first use (Python >= 3.11 and make are all it needs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test fuzz bench bundle clean

run: $(STAMP)
	$(BIN)/ceasefire run scenarios/baseline.yaml --out results/baseline

test: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/python -m pytest

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py tests/test_properties.py tests/test_hostile_input.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# After editing seeds/ or scenarios/: copy them into the package (sim/data), which is what ships.
bundle: $(STAMP)
	$(BIN)/python -m sim.core.bundled --sync

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
