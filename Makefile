# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000

.PHONY: run install install-dev hashes browser fonts test lint audit sbom format bench soak translations clean

# The virtualenv's own pip (bundled with Python, nothing downloaded) installs the pins; every file
# it installs must match the SHA-256 pinned beside it (--require-hashes; `make hashes` renews them).
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/activate ## runtime dependencies and the compiled French and Chinese catalogues
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pybabel compile --directory translations --statistics

install-dev: install ## runtime, test and lint dependencies
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt

hashes: ## after changing a pin: the SHA-256 of each file pip installs on this platform, beside each pin
	$(PYTHON) .ci/hashes.py

run: install ## migrate, seed demo data on first start, serve on http://127.0.0.1:5000 with the jobs worker
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@# The jobs worker runs beside the server and stops with it (Ctrl-C, or the server exiting).
	$(FLASK) jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

browser: ## Debian's Chromium for the browser tests (Playwright cannot download its own here)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; fi; }

fonts: ## DejaVu Sans and WenQuanYi Micro Hei (Latin, Chinese) for the fund statement PDF
	@[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] && [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-dejavu-core fonts-wqy-microhei; \
	  else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-dejavu-core fonts-wqy-microhei; fi; }

# Tests run in one process per core (at most 4; TEST_PROCESSES=0 for one): each test has its own
# database copy, and much of their time is waiting (browsers, servers, timeouts).
TEST_PROCESSES ?= auto
TEST_SPREAD := --numprocesses $(TEST_PROCESSES) --maxprocesses 4

test: install-dev browser fonts lint ## the whole suite on SQLite, then on PostgreSQL if VAT_TEST_POSTGRES_URL is set
	$(BIN)/pytest $(TEST_SPREAD)
	@if [ -n "$$VAT_TEST_POSTGRES_URL" ]; then \
	  echo "== again on PostgreSQL =="; VAT_TEST_BACKEND=postgres $(BIN)/pytest $(TEST_SPREAD) -m "not browser"; \
	fi

# The peers the booking benchmark compares with (django-hordak, beancount), in a virtualenv of its own.
PEERS_VENV := instance/bench/peers-venv

$(PEERS_VENV)/installed: tests/bench/peers/requirements.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet -r tests/bench/peers/requirements.txt
	touch $@

bench: install-dev $(PEERS_VENV)/installed ## benchmarks at 100,000 victims (issue 7): seeds once (minutes), prints one table; SQLite, then PostgreSQL if VAT_TEST_POSTGRES_URL is set (and booking beside its peers)
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
	  else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; fi; }
	rm -f instance/bench/results.jsonl
	VAT_BENCH=1 VAT_BENCH_PEERS_PYTHON=$(PEERS_VENV)/bin/python $(BIN)/pytest tests/bench -q
	$(BIN)/python -m tests.bench.report

soak: install-dev ## longer fault and load tests against real servers (bounded), SQLite then PostgreSQL
	VAT_SOAK=1 $(BIN)/pytest tests/soak
	@if [ -n "$$VAT_TEST_POSTGRES_URL" ]; then VAT_SOAK=1 VAT_TEST_BACKEND=postgres $(BIN)/pytest tests/soak; fi

translations: ## extract the interface's strings and update the French and Chinese catalogues
	$(BIN)/pybabel extract --mapping-file babel.cfg --keyword _l --sort-by-file --omit-header --width 100 --output-file translations/messages.pot .
	$(BIN)/pybabel update --input-file translations/messages.pot --output-dir translations --no-fuzzy-matching --width 100

lint: ## ruff (lint with security rules, format), mypy (vat, ledger, seeding) and bandit (medium and up) on app code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit --quiet --recursive vat ledger --severity-level medium

audit: install-dev ## pip-audit --strict on the pinned requirements: "ok", "failed" or "skipped: vulnerability data unreachable", never a silent pass (VAT_AUDIT_REQUIRED=1: skipped fails)
	$(BIN)/python .ci/audit.py

sbom: install ## the software bill of materials: every pinned requirement as CycloneDX JSON in instance/sbom.cdx.json (offline)
	$(BIN)/python .ci/sbom.py instance/sbom.cdx.json

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
