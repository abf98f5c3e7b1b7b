# The front door. Quick start: `make run`, then `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

# A Python 3.12+ interpreter: python3.13/python3.12 on PATH, else pyenv's versions.
PYTHON ?= $(shell for c in python3.13 python3.12 python3.14 \
	$$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: help run worker test chromium redis-server nginx serve lint format migrations-check bench bench-edge bench-rules bench-preview bench-dashboard audit loadtest fleettest soak clean

help:
	@echo "make run    serve the app on http://$(HOST):$(PORT) (SQLite, DEBUG on)"
	@echo "make test   run the whole test suite, lint and migration checks"
	@echo "make serve  production-like server (gunicorn, DEBUG off)"
	@echo "make worker the task worker that sends emails (db_worker), beside make serve"
	@echo "make bench | make audit | make loadtest | make soak (REFERENCE=synthetic: 40 fictional countries)"
	@echo "make fleettest  deploy/ on loopback: nginx, Redis, PostgreSQL, 2 app servers, 2 task workers, faults"

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Coding Pathways needs Python 3.12 or newer (Django 6), and none was found."; \
	  echo "Install python3.13 (Debian: apt-get install python3.13 python3.13-venv), or pyenv install 3.13,"; \
	  echo "or point at one: make run PYTHON=/path/to/python3.13"; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

var:
	mkdir -p var

# The task worker runs beside the development server, so emails (printed to the console in DEBUG) go out.
run: $(VENV)/.installed var
	DEBUG=1 $(MANAGE) migrate --no-input
	DEBUG=1 $(MANAGE) load_reference_data
	DEBUG=1 $(MANAGE) db_worker --no-reload & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

# Programs from Debian's packages: the browser tests drive Chromium (never `playwright install`), the cache tests
# and make fleettest run redis-server, make fleettest runs nginx. Run as root, a target installs what is missing
# with apt-get; otherwise it stops and names the command to run.
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server
NGINX ?= /usr/sbin/nginx
export CHROMIUM REDIS_SERVER NGINX

# $(call debian,program path,package,what it is for)
define debian
	@if [ ! -x "$(1)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Debian's $(2) for $(3) (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    apt-get -o DPkg::Lock::Timeout=600 install -y -qq $(2) >/dev/null || exit 1; \
	  fi; \
	  if [ ! -x "$(1)" ]; then \
	    echo "Coding Pathways needs $(2) at $(1) for $(3), and it is not installed."; \
	    echo "Install it with:  sudo apt-get install $(2)   (or run make as root, which does it)"; \
	    exit 1; \
	  fi; \
	fi
endef

chromium:
	$(call debian,$(CHROMIUM),chromium,the browser tests)

redis-server:
	$(call debian,$(REDIS_SERVER),redis-server,the shared-cache tests and make fleettest)

nginx:
	$(call debian,$(NGINX),nginx,make fleettest)

test: $(VENV)/.installed-dev var chromium redis-server
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# make serve: the production-like server. It listens on plain-HTTP loopback, so HTTPS=0 here;
# behind a TLS proxy run it with HTTPS=1 BEHIND_TLS_PROXY=1 TRUSTED_PROXY_COUNT=1. Without SECRET_KEY (or
# SECRET_KEY_FILE) in the environment it uses var/secret_key, generated once, so a fresh clone starts.
# FIXTURES_DIR=... loads another reference than fixtures/ (make bench and make soak with REFERENCE=synthetic).
HTTPS ?= 0
SERVE_SECRET := $(if $(SECRET_KEY)$(SECRET_KEY_FILE),,SECRET_KEY_FILE=var/secret_key)
SERVE_ENV := DEBUG=0 HTTPS=$(HTTPS) $(SERVE_SECRET)
# Shared by make serve and make bench (its baseline runs under the same options).
# The control socket is off: its default path is shared by every gunicorn on the machine.
GUNICORN_OPTS := --workers $(WORKERS) --worker-class sync --timeout 30 --graceful-timeout 10 --no-control-socket
WSGI_APP ?= advisor.wsgi

var/secret_key: | $(VENV)/.installed var
	umask 077; $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

serve: $(VENV)/.installed var/secret_key
	$(SERVE_ENV) $(MANAGE) migrate --no-input --verbosity 0
	$(SERVE_ENV) $(MANAGE) load_reference_data $(if $(FIXTURES_DIR),--fixtures-dir $(FIXTURES_DIR))
	$(SERVE_ENV) $(MANAGE) collectstatic --no-input --verbosity 0
	$(SERVE_ENV) exec $(VENV)/bin/gunicorn $(WSGI_APP) --bind $(HOST):$(PORT) $(GUNICORN_OPTS)

# make worker: the task worker that sends the emails (advisers' notifications, replies), with make serve's
# environment; run one or more beside the app servers (they share the queue in the database).
worker: $(VENV)/.installed var/secret_key
	$(SERVE_ENV) exec $(MANAGE) db_worker --no-reload

bench: $(VENV)/.installed-dev var/secret_key
	$(PY) bench/run.py

# make bench-edge: the page layer behind deploy/'s nginx site (TLS, 2 app servers): the app's page cache against
# nginx's proxy_cache, throughput and what each does with an edit, Vary and junk links; appends to bench/RESULTS.md.
bench-edge: nginx $(VENV)/.installed-dev var/secret_key
	$(PY) bench/edge.py

# make soak: 10,000 distinct plan and API requests, twice, against make serve; prints each worker's memory.
soak: $(VENV)/.installed var/secret_key
	$(PY) bench/soak.py

bench-rules: $(VENV)/.installed var
	LOG_LEVEL=WARNING $(PY) bench/rules_bench.py

bench-preview: $(VENV)/.installed var
	$(PY) bench/preview_bench.py

# The advisers' dashboard and funnel pages on a throwaway PostgreSQL with 100,000 enquiries and a year of counters.
.PHONY: bench-dashboard
bench-dashboard: $(VENV)/.installed var
	$(PY) bench/dashboard_bench.py

audit: $(VENV)/.installed-dev var/secret_key
	$(PY) audit/run.py

loadtest: $(VENV)/.installed-dev var/secret_key
	$(PY) loadtest/run.py

# make fleettest: deploy/ as shipped (nginx site, redis.conf, the systemd units' commands) on loopback, with
# Debian's nginx and redis-server, under faults; writes fleettest/RESULTS.md. About 5 minutes.
fleettest: $(VENV)/.installed var redis-server nginx
	$(PY) fleettest/run.py

clean:
	rm -rf $(VENV) var node_modules
