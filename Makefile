# Majlis — `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test lint translations bench compare lighthouse screenshots clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Majlis needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,prod]'
	@touch $(STAMP)

install: $(STAMP)

# Web server and scheduler side by side on SQLite; Ctrl-C stops both.
run: install
	$(BIN)/majlis init-db
	$(BIN)/majlis demo
	@echo "Majlis on http://$(HOST):$(PORT)/ (scheduler running beside it)"
	@trap 'kill $$scheduler_pid 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/majlis scheduler & scheduler_pid=$$!; \
	  $(BIN)/majlis run --host $(HOST) --port $(PORT) --with-threads

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/pytest -n auto --dist loadfile

translations: install
	$(BIN)/pybabel extract -F majlis/translations/babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  -o majlis/translations/messages.pot --project Majlis --copyright-holder Majlis .
	$(BIN)/pybabel update -i majlis/translations/messages.pot -d majlis/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d majlis/translations --statistics

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache

# Majlis against the bare stack (same gunicorn settings, loopback, time-bounded wrk runs); writes bench/RESULTS.md.
bench: install
	$(BIN)/python bench/run.py

# The API's hot operations in process, this tree against an earlier revision (REV=...), alternating round by round.
compare: install
	$(BIN)/python bench/compare.py $(REV)

# Lighthouse (npm, cached in .venv/lighthouse) on the key pages, mobile, Arabic and English, against Debian's Chromium.
LIGHTHOUSE := $(VENV)/lighthouse/node_modules/.bin/lighthouse
$(LIGHTHOUSE):
	npm install --prefix $(VENV)/lighthouse --no-audit --no-fund lighthouse

lighthouse: install $(LIGHTHOUSE)
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python bench/lighthouse.py

# Every page at 360 and 1280 px, Arabic and English, signed in through the login form as each role (Debian's
# Chromium via Playwright); writes docs/screenshots/*.jpg and docs/screenshots/README.md.
screenshots: install
	$(BIN)/python bench/screenshots.py
