# qi-onestop: `make run` starts everything, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: setup test-deps run test test-durations unit integration e2e faults lint format bench bench-scale verify parked clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

# the system packages the tests need (chromium, promtool, a CJK font, libpq, jq):
# installed when run as root, named with the command to run otherwise
test-deps:
	@bash scripts/test-deps

# the demo province (README) is opened on a new installation: the accounts of
# this file and, listed in it, their partner institutions with qualifications
# (the catalog registers them); QI_SEED_ACCOUNTS= (empty) starts without either
run: export QI_SEED_ACCOUNTS ?= services/gateway/demo_accounts.json
# each service as its own RabbitMQ user when make run can create them (root's
# rabbitmqctl); otherwise one line says how, and all use QI_AMQP_URI's user
run: export QI_BROKER_USERS ?= rabbitmqctl
run: $(STAMP)
	@$(PY) -m shared.run

# the slowest fault tests (a hung broker, a PostgreSQL restart) run in
# `make faults` only
# (two pytest sessions at once: the tests mostly wait; scripts/test-shards)
test: test-deps $(STAMP) lint
	$(PY) scripts/test-shards --shards 2 tests/unit tests/integration tests/e2e -- -m "not slow_fault"
	$(PY) -m pytest tests/faults -m "not slow_fault"

# make test's two sessions, run to measure each test file's seconds again
# (tests/durations.json: what scripts/test-shards balances the sessions by)
test-durations: test-deps $(STAMP)
	$(PY) scripts/test-shards --shards 2 --record tests/durations.json tests/unit tests/integration tests/e2e -- -m "not slow_fault"

unit integration e2e faults: test-deps $(STAMP)
	$(PY) -m pytest tests/$@

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench.run

# a province's year loaded into PostgreSQL, then the audit, board, summary and
# rebuild timed against their targets (bench/README.md); ARGS="--demands 2000"
bench-scale: $(STAMP)
	$(PY) -m bench.scale $(ARGS)

# every service that stores events, one line each; exit 1 altered, 2 unreadable
verify: $(STAMP)
	$(PY) -m shared.verify

# every service's parked messages; SERVICE=referral for one
parked: $(STAMP)
	$(PY) -m shared.parked $(if $(SERVICE),--service $(SERVICE) )list

clean:
	rm -rf var/*.sqlite* var/*.lock
