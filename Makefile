# `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test install assets lint clean

install: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The stylesheet and scripts, each also under a fingerprinted name, and the manifest naming
# them (assets/build.mjs says what it writes).
assets: booking/static/asset-manifest.json

booking/static/asset-manifest.json: node_modules/.installed assets/build.mjs \
		$(wildcard assets/*.scss assets/js/*.mjs) booking/static/favicon.svg
	node assets/build.mjs

instance/secret_key: | $(BIN)/.installed
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

# The demo accepts Ofcom's drama numbers (07700 900xxx) as mobiles, and prints the service's
# phone number from the drama range too (a SERVICE_PHONE already set wins).
DEMO_ENV := SMS_ALLOW_TEST_NUMBERS=true SERVICE_PHONE="$${SERVICE_PHONE:-0121 496 0000}"

# The app and the scheduler count into one directory, so that /metrics shows the texts sent too.
run: install assets instance/secret_key
	$(DEMO_ENV) $(BIN)/flask db upgrade
	$(DEMO_ENV) $(BIN)/flask demo load
	@echo "Serving on http://127.0.0.1:5000 with the scheduler beside it; Ctrl-C stops both."
	@rm -rf instance/metrics && mkdir -p instance/metrics
	@export $(DEMO_ENV) PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/instance/metrics"; \
	$(BIN)/flask scheduler run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# The browser tests (tests/browser) need Debian's Chromium; without it pytest skips them.
test: install assets
	@[ -x /usr/bin/chromium ] || echo "No Chromium at /usr/bin/chromium: the browser tests will be skipped (apt-get install chromium)."
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) node_modules booking/static/js booking/static/govuk
	rm -f booking/static/app.css booking/static/app.*.css booking/static/favicon.*.svg \
		booking/static/asset-manifest.json
