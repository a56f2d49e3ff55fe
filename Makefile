# The commands of the README's quick start:
#   make demo      installs into .venv and runs the demo against the built-in Procore sandbox
#   make sandbox   starts the demo's sandbox (same data) in the background on $(SANDBOX_PORT)
#   make rfis      rfis.csv and rfis.xlsx from that sandbox, with the two procore-xl commands shown
#   make stop      stops that sandbox
#   make test      installs into .venv (with the warehouse extra) and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SANDBOX_PORT ?= 8766

.PHONY: install demo sandbox rfis stop test xlsm bench

$(BIN)/procore-xl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,build,warehouse]"
	touch $@

install: $(BIN)/procore-xl

# demo.xlsx is this target's output: make demo writes it again (--force)
demo: install
	$(BIN)/procore-xl demo --out demo.xlsx --force
	@echo
	@echo "Next, the same sandbox from the command line (README: Try it):"
	@echo "  make sandbox    # the demo's sandbox in the background on http://127.0.0.1:$(SANDBOX_PORT)"
	@echo "  make rfis       # rfis.csv and rfis.xlsx from it (make stop ends the sandbox)"

sandbox: install
	$(BIN)/procore-xl sandbox --background --port $(SANDBOX_PORT)

# the sandbox's app, as its service account (public test values of the sandbox, not secrets)
rfis: export PROCORE_LOGIN_URL = http://127.0.0.1:$(SANDBOX_PORT)
rfis: export PROCORE_API_URL = http://127.0.0.1:$(SANDBOX_PORT)
rfis: export PROCORE_CLIENT_ID = sandbox-client-id
rfis: export PROCORE_CLIENT_SECRET = sandbox-client-secret-5f2c9e
# rfis.csv and rfis.xlsx are this target's outputs: written again each time (--force)
rfis: install
	$(BIN)/procore-xl pull RFIs --company 8001 --project 91001 --out rfis.csv --force
	$(BIN)/procore-xl new-workbook rfis.xlsx --report RFIs --company 8001 --project 91001 --force

stop: install
	$(BIN)/procore-xl sandbox --stop --port $(SANDBOX_PORT)

test: install
	$(BIN)/python -m pytest

xlsm: install
	$(BIN)/python workbook/build.py -o procore.xlsm

bench: install
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/pull_speed.py
	$(BIN)/python benchmarks/catalog_speed.py
	$(BIN)/python benchmarks/write_speed.py
