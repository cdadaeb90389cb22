# Two commands: `make demo` and `make test`. Each creates .venv if missing and installs
# torch (CPU wheel) first, then the project, so pip never pulls a CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0

CUDA ?= cu128
TORCH_CUDA_INDEX := https://download.pytorch.org/whl/$(CUDA)

.PHONY: demo test test-slow lint format bench clean gpu-venv

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The GPU variant: torch's CUDA build (CUDA=cu128 by default; cu126, cu130, ... as the driver allows),
# the project with its dev extra, then faiss-gpu in place of faiss-cpu (both install the `faiss` module).
gpu-venv:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH) --index-url $(TORCH_CUDA_INDEX)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip uninstall --quiet -y faiss-cpu
	$(BIN)/python -m pip install --quiet -e '.[gpu]'
	$(BIN)/python -c "import torch; assert torch.cuda.is_available(), 'torch sees no GPU'; print(torch.cuda.get_device_name())"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) examples/.cache .pytest_cache .ruff_cache
