# kaohe — the two commands of the README are `make run` and `make test`.
# Each creates .venv when it is missing and installs the pinned dependencies into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SAMPLE := sources/landing/sample
SCALE ?= 10
SCALES ?= 1,10

.PHONY: install run test lint lint-python lint-sql browser dev bench clean

install: $(INSTALLED)

# The pinned set (constraints.txt) is installed by uv, itself pinned and installed by pip (faster
# than pip alone, the same versions), with bytecode compiled. Where uv cannot be had, pip
# installs the same set.
UV_VERSION := 0.13.8

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	{ $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -c constraints.txt -e '.[dev]'; } \
	|| { echo "uv failed: installing with pip"; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -c constraints.txt -e '.[dev]' \
	  && $(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null; }
	$(BIN)/python -m dagster_project.core.dbt_project
	touch $@

$(SAMPLE)/_READY: | $(INSTALLED)
	$(BIN)/kaohe generate --out $(SAMPLE) --scale 1 --seed 20231231

run: $(INSTALLED) $(SAMPLE)/_READY
	$(BIN)/kaohe run $(if $(KAOHE_PII_KEY),,--demo-key)

# The SQL lint runs beside the tests at the lowest priority: it takes the cores the two test
# workers leave idle (it has its own dbt target folder, so it never touches the tests' manifest);
# its report is printed after the tests', and either failing fails `make test`.
test: $(INSTALLED) browser lint-python
	@mkdir -p $(dir $(SQL_LINT_LOG)); nice -n 19 $(MAKE) --no-print-directory lint-sql > $(SQL_LINT_LOG) 2>&1 & sql=$$!; \
	$(BIN)/python -m pytest -q -n auto --dist loadfile --durations=15; tests=$$?; \
	wait $$sql; linted=$$?; echo "--- make lint-sql"; cat $(SQL_LINT_LOG); \
	exit $$(( tests || linted ))

# Headless Chromium and a CJK font, for the tests that look at the HTML pages (and for
# `kaohe scorecard --pdf`): Debian's packages, installed when missing (as root, else with sudo).
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; then :; else \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing Debian's chromium and fonts-noto-cjk (headless browser tests)"; \
	  $$sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null \
	  || { $$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; }; \
	fi

lint: lint-python lint-sql

lint-python: $(INSTALLED)
	$(BIN)/ruff check dagster_project tests
	$(BIN)/ruff format --check dagster_project tests

SQL_LINT_LOG := dbt/target/lint/sqlfluff.log

# sqlfluff's dbt templater parses and compiles the project in a target folder of its own.
lint-sql: $(INSTALLED)
	mkdir -p dbt/target/lint && cd dbt && KAOHE_WAREHOUSE=$(CURDIR)/dbt/target/lint/kaohe.duckdb \
	  DBT_TARGET_PATH=$(CURDIR)/dbt/target/lint ../$(BIN)/sqlfluff lint --processes 0 models tests

# The Dagster instance of `make dev`: run history kept between sessions, one run at a time.
DAGSTER_HOME ?= $(CURDIR)/warehouse/dagster
export DAGSTER_HOME

dev: $(INSTALLED)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m dagster_project.core.event_log $(DAGSTER_HOME) >/dev/null  # dagster.yaml, when it has none
	$(BIN)/dagster dev

bench: $(INSTALLED)
	$(BIN)/python -m dagster_project.ops.bench --scales $(SCALES) $(if $(BENCH_100),--with-100)

clean:
	rm -rf warehouse sources/landing dbt/target dbt/logs
