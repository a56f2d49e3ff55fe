# The two commands of the README:
#   make demo   installs into .venv and runs the demo against the built-in Procore sandbox
#   make test   installs into .venv (with the warehouse extra) and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test xlsm bench

$(BIN)/procore-xl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,build,warehouse]"
	touch $@

install: $(BIN)/procore-xl

demo: install
	$(BIN)/procore-xl demo --out demo.xlsx

test: install
	$(BIN)/python -m pytest

xlsm: install
	$(BIN)/python workbook/build.py -o procore.xlsm

bench: install
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/pull_speed.py
	$(BIN)/python benchmarks/catalog_speed.py
	$(BIN)/python benchmarks/write_speed.py
