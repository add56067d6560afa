# Streamhook: `make run` starts everything, `make test` proves it. Needs only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: run test lint install install-dev migrate check-python clean screenshots

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "Streamhook needs Python 3.11 or newer (found: $$($(PYTHON) --version 2>&1))"; exit 1; }

$(VENV)/.installed: requirements.txt | check-python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Test, benchmark and lint tooling on top: its own stamp, so `make run` never waits for it.
$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

# The development settings, unless the caller chose others; the runner's children inherit them.
run migrate: export DJANGO_SETTINGS_MODULE ?= config.settings.local

run: migrate
	@echo ""
	@echo "  Streamhook is starting on http://127.0.0.1:$(PORT)"
	@# The URLs are shown with their passwords masked: terminals get screen-shared and logged.
	@echo "    database: $${DATABASE_URL:-SQLite (var/db.sqlite3)}   broker: $${REDIS_URL:-embedded filesystem broker (var/broker)}" \
	  | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#g'
	@$(PY) manage.py create_dev_admin --url http://127.0.0.1:$(PORT)/admin/
	@echo "  API docs:  http://127.0.0.1:$(PORT)/api/docs/   (schema: /api/schema/)"
	@echo "  Health:    http://127.0.0.1:$(PORT)/healthz"
	@echo "  A token:   $(PY) manage.py create_tenant demo --owner you@example.com --url http://127.0.0.1:$(PORT)"
	@echo "             (prints the owner's password for http://127.0.0.1:$(PORT)/api-auth/login/ and an API token)"
	@echo "  Then try:  curl -H 'Authorization: Bearer <token>' http://127.0.0.1:$(PORT)/api/v1/webhooks"
	@echo "  Ctrl-C stops the web server, the worker and beat together."
	@echo ""
	@STREAMHOOK_PORT=$(PORT) $(PY) config/devrun.py Procfile.dev --ready-url http://127.0.0.1:$(PORT)/healthz \
	  --ready-message "Ready: http://127.0.0.1:$(PORT)/admin/ (login printed above; its password is kept in $${STREAMHOOK_VAR_DIR:-var}/dev-admin-password), API docs http://127.0.0.1:$(PORT)/api/docs/. Ctrl-C stops all three."

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --validate --fail-on-warn > /dev/null
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=check-deploy-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))') \
	  DJANGO_ALLOWED_HOSTS=streamhook.example DATABASE_URL=$${DATABASE_URL:-postgres://u@localhost/db} \
	  REDIS_URL=$${REDIS_URL:-redis://localhost:6379/0} \
	  STREAMHOOK_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	  $(PY) manage.py check --deploy --fail-level WARNING

# pytest's exit 5 means no test ran: a failure here, said in words.
test: lint
	@$(VENV)/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) -- failing" >&2; fi; exit $$rc

# The browser tests, saving their screenshots where the docs show them (a plain test run keeps them in /tmp).
screenshots: install-dev
	STREAMHOOK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest -m browser

clean:
	rm -rf var/broker var/test-broker var/cache var/*.sqlite3*
