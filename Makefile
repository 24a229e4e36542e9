# The two commands the README opens with:
#   make run    install, initialise the embedded default with a demo cohort, start the service
#   make test   install, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-night test-pg lint format bench clean

run: $(VENV)/.run-installed
	$(BIN)/followup init --demo
	$(BIN)/followup serve

test: $(VENV)/.test-installed
	$(BIN)/pytest

# The suite again with every test's clock starting at 02:30 in Belgrade on the night the
# clocks go back (the second, CET, pass through the repeated hour: quiet hours, a 25-hour
# Sunday), so a time-of-day bug cannot hide behind the hour the suite runs at.
NIGHT ?= 2026-10-25T02:30:00+01:00
test-night: $(VENV)/.test-installed
	FOLLOWUP_TEST_NOW=$(NIGHT) $(BIN)/pytest

# The PostgreSQL cases too, on a throwaway local server (needs PostgreSQL's initdb/pg_ctl).
test-pg: $(VENV)/.test-installed
	bash .ci/with-postgres $(BIN)/pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check followup tests bench

format: $(VENV)/.test-installed
	$(BIN)/ruff format followup tests bench
	$(BIN)/ruff check --fix .

bench: $(VENV)/.test-installed
	$(BIN)/python bench/import.py

$(VENV)/.run-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-installed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis followup.db followup.db-* test-artifacts
