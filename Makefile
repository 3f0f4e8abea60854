# qi-onestop: `make run` starts everything, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: setup run test unit integration e2e faults lint format bench verify parked clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

# demo accounts (README) are opened on a new installation; set
# QI_SEED_ACCOUNTS= (empty) to start without them
QI_SEED_ACCOUNTS ?= services/gateway/demo_accounts.json
export QI_SEED_ACCOUNTS

run: $(STAMP)
	@$(PY) -m shared.run

# the slowest fault tests (a hung broker, a PostgreSQL restart) run in
# `make faults` only
test: $(STAMP) lint
	$(PY) -m pytest tests/unit tests/integration tests/e2e tests/faults -m "not slow_fault"

unit integration e2e faults: $(STAMP)
	$(PY) -m pytest tests/$@

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench.run

verify: $(STAMP)
	$(PY) -m shared.verify intake
	$(PY) -m shared.verify referral
	$(PY) -m shared.verify evaluation

parked: $(STAMP)
	$(PY) -m shared.parked --service referral list

clean:
	rm -rf var/*.sqlite* var/*.lock
