# Two commands for a fresh machine: `make demo` (the main job: build the demo datasets, evaluate the baselines,
# train, predict and evaluate Auto-ARM) and `make test` (the whole suite).
# Both create .venv and install on first use; later calls reuse it (re-installing only when
# pyproject.toml changes). torch and torchvision are installed first, from their exact pins.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test ui lint bench-ingest bench-shards bench-annotator-quality bench-autoarm-gpu clean-home

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vton demo

test: $(STAMP)
	$(BIN)/pytest -q

ui: $(STAMP)
	$(BIN)/vton ui

lint: $(STAMP)
	$(BIN)/ruff check .

bench-ingest: $(STAMP)
	$(BIN)/python -m benchmarks.ingest.run

# Shard build throughput against decode + re-encode, no-change and 1 % change re-runs (about 6 min).
bench-shards: $(STAMP)
	$(BIN)/python -m benchmarks.shards.run

# The full annotator quality table (about 20 min on 2 cores; a killed run resumes at its section).
bench-annotator-quality: $(STAMP)
	$(BIN)/python -m benchmarks.annotator_quality.run

# Auto-ARM paper preset on CUDA (images/s, peak memory, 1 vs 2 workers); exits 2 without CUDA.
bench-autoarm-gpu: $(STAMP)
	$(BIN)/python -m benchmarks.autoarm_gpu.run

clean-home:
	rm -rf .vton
