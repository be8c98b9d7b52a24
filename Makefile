# The two commands of the README:
#   make demo   create the virtualenv, install, and chat with the bot in the terminal
#   make test   lint, type-check and run every test (needs PostgreSQL and Redis, see README)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench lock clean

$(BIN)/yinling: pyproject.toml constraints.txt
	@echo "Installing Yinling and its dependencies into $(VENV) (the first time takes a few minutes)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

demo: $(BIN)/yinling
	$(BIN)/yinling chat

lint: $(BIN)/yinling
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(BIN)/yinling
	$(BIN)/python benchmarks/nlu.py
	$(BIN)/python benchmarks/pipeline.py

lock:
	rm -rf /tmp/yinling-lock && $(PYTHON) -m venv /tmp/yinling-lock
	/tmp/yinling-lock/bin/pip install --quiet -e '.[dev]'
	(echo "# Every package the project installs, pinned (regenerate: make lock)."; \
	 /tmp/yinling-lock/bin/pip freeze --exclude-editable | grep -v -i '^yinling') > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
