# venuecode: `make` lists the targets.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
PROMTOOL := /usr/bin/promtool
# Debian's fonts-noto-cjk: without it Chinese text is empty boxes in screenshots.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
# Debian's poppler-utils: the administrator's journey renders the printed poster to PNG.
PDFTOPPM := /usr/bin/pdftoppm
# From the npm registry, as package-lock.json pins them: axe-core (tests/browser/test_accessibility.py)
# and jsQR, the reverse scan's QR decoder where BarcodeDetector is missing (served by checkin from
# node_modules: services/checkin/config.py).
AXE := node_modules/axe-core/axe.min.js
QR_DECODER := node_modules/jsqr/dist/jsQR.js
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k readyz -x"
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs Python 3.11 ($(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,bench]'
	@touch $(STAMP)

run: $(STAMP) ## start the whole platform on embedded defaults (http://127.0.0.1:8000)
	@command -v npm >/dev/null 2>&1 && $(MAKE) --no-print-directory $(QR_DECODER) \
	  || echo "no npm: the reverse scan cannot decode the camera where BarcodeDetector is missing (iPhones)"
	$(VENV)/bin/venuecode dev

# The browser tests drive Debian's Chromium (Playwright never downloads one here).
$(CHROMIUM):
	@[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "tests/browser needs Debian's chromium: apt-get install -y chromium"; exit 1; }
	apt-get update -q && apt-get install -y -q chromium

# The alert rules are checked and unit-tested by Debian's promtool (package prometheus).
$(PROMTOOL):
	@[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "tests/integration/deploy needs Debian's promtool: apt-get install -y prometheus"; exit 1; }
	apt-get update -q && apt-get install -y -q --no-install-recommends prometheus

$(CJK_FONT):
	@[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "screenshots need Debian's fonts-noto-cjk: apt-get install -y fonts-noto-cjk"; exit 1; }
	apt-get update -q && apt-get install -y -q fonts-noto-cjk

$(PDFTOPPM):
	@[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "the poster screenshot needs Debian's poppler-utils: apt-get install -y poppler-utils"; exit 1; }
	apt-get update -q && apt-get install -y -q --no-install-recommends poppler-utils

$(AXE) $(QR_DECODER) &: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "needs npm (Debian: apt-get install -y npm) for axe-core and jsqr"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(AXE) $(QR_DECODER)

test: $(STAMP) $(CHROMIUM) $(PROMTOOL) $(CJK_FONT) $(PDFTOPPM) $(AXE) $(QR_DECODER) ## run every test against real Postgres, Redis and Kafka (PYTEST_ARGS=...)
	$(PY) -m tests.infra -- $(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP) ## ruff and mypy (strict)
	$(VENV)/bin/ruff check shared services tests
	$(VENV)/bin/ruff format --check shared services tests
	$(VENV)/bin/mypy
