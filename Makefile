# Two commands for a newcomer: `make demo` and `make test`. Both create the
# virtual environment in .venv on first use and reuse it while
# requirements.txt and pyproject.toml are unchanged.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

.PHONY: setup lab dist demo example-folder test lint docs screenshots benchmark reproduce-quick clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

setup: $(STAMP)

# JupyterLab, to open the tutorials locally: an extra of pyproject.toml (`lab`), installed
# into .venv on the first `make lab` only, so that `make test` (CI) does not pay for it.
LAB_STAMP := $(VENV)/.lab-installed
$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[lab]"
	touch $(LAB_STAMP)

# As root (Docker, Colab-like boxes, many cloud VMs) Jupyter refuses to start without --allow-root:
# added when `id -u` is 0 (LAB_USER_ID). LAB_ARGS passes further options to `jupyter lab`, e.g.
#   make lab LAB_ARGS="--no-browser --ip=0.0.0.0 --port=8888"
# The file browser lists each notebook once, as its .ipynb: notebooks/.jupyter/jupyter_server_config.json
# (found through JUPYTER_CONFIG_PATH) hides the .py twins, and notebooks/jupytext.toml keeps them from
# opening as second notebooks; saving the .ipynb in JupyterLab still writes its .py (jupytext pairing).
LAB_USER_ID ?= $(shell id -u)
LAB_ARGS ?=
LAB_ROOT_ARGS := $(if $(filter 0,$(LAB_USER_ID)),--allow-root)
LAB_CONFIG := $(CURDIR)/notebooks/.jupyter
lab: $(LAB_STAMP)
	JUPYTER_CONFIG_PATH="$(LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" $(VENV)/bin/jupyter lab $(strip $(LAB_ROOT_ARGS) $(LAB_ARGS)) notebooks/

# For Colab without a public repository: the wheel (bundled MNIST included) and a zip of the
# notebooks with their stored outputs and the result tables they read, both in dist/. Upload the
# wheel beside a notebook in Colab and the notebook's first cell installs it (docs/tutorials.md).
# Its own small environment (.dist-venv: pip, setuptools and wheel, a few seconds to create), not
# the development install of .venv: building a wheel needs no TensorFlow, and make_dist.py only
# the standard library.
DIST_VENV := .dist-venv
DIST_STAMP := $(DIST_VENV)/.installed
$(DIST_STAMP): pyproject.toml
	$(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	touch $(DIST_STAMP)

dist: $(DIST_STAMP)
	$(DIST_VENV)/bin/python scripts/make_dist.py --no-build-isolation

demo: $(STAMP)
	$(PY) -m adda_keras demo --digit 0

# The folder example (docs: "Use your own images"): texture crops written as
# image folders, `fit` and `score` from the command line, then the AUROC of
# ADA, AnoVAEGAN and kNN on its test folder (about 10 minutes on 2 CPU cores).
# ADA chooses its β on 40 labelled validation defects (it never trains on them).
EXAMPLE := outputs/example-folder
EXAMPLE_FIT := $(EXAMPLE)/data/train/good --val-dir $(EXAMPLE)/data/validation/good
example-folder: $(STAMP)
	$(PY) scripts/texture_example.py write --output $(EXAMPLE)/data --n-val-defects 40 --overwrite
	$(PY) -m adda_keras fit $(EXAMPLE_FIT) --method ada --known-anomaly $(EXAMPLE)/data/validation/defects --out $(EXAMPLE)/ada.keras
	$(PY) -m adda_keras score $(EXAMPLE)/ada.keras $(EXAMPLE)/data/test --out $(EXAMPLE)/ada.csv --maps $(EXAMPLE)/maps --overlays $(EXAMPLE)/overlays
	$(PY) -m adda_keras fit $(EXAMPLE_FIT) --method anovaegan --out $(EXAMPLE)/anovaegan.keras
	$(PY) -m adda_keras score $(EXAMPLE)/anovaegan.keras $(EXAMPLE)/data/test --out $(EXAMPLE)/anovaegan.csv
	$(PY) -m adda_keras fit $(EXAMPLE_FIT) --method knn --out $(EXAMPLE)/knn.pkl
	$(PY) -m adda_keras score $(EXAMPLE)/knn.pkl $(EXAMPLE)/data/test --out $(EXAMPLE)/knn.csv
	$(PY) scripts/texture_example.py auroc $(EXAMPLE)/ada.csv $(EXAMPLE)/anovaegan.csv $(EXAMPLE)/knn.csv

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The notebooks run under nbval in fast mode (ADDA_KERAS_FAST=1: small data, 1-2 epochs).
# Two pytest-xdist workers, one test file (or notebook) each at a time: most of a test's time is
# single-threaded Python and graph tracing, so two files at once use both cores of a 2-core CI machine.
TEST_WORKERS ?= 2
# The run prints its 25 slowest tests and its total; above the budget (8 minutes of pytest on 2 idle cores)
# it prints a warning line, not a failure: CI machines are noisy, but the budget is seen before it is blown.
TEST_BUDGET_SECONDS ?= 480
test: $(STAMP) lint
	@start=$$(date +%s); \
	ADDA_KERAS_FAST=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval-lax --durations=25 tests notebooks; \
	status=$$?; seconds=$$(( $$(date +%s) - start )); \
	echo "pytest took $$seconds s (budget $(TEST_BUDGET_SECONDS) s on 2 idle cores; load now: $$(cut -d' ' -f1-3 /proc/loadavg))"; \
	if [ $$seconds -gt $(TEST_BUDGET_SECONDS) ]; then \
		echo "WARNING: the test suite took $$seconds s, over its budget of $(TEST_BUDGET_SECONDS) s: see the slowest tests above"; \
	fi; \
	exit $$status

clean:
	rm -rf $(VENV) $(DIST_VENV) site outputs dist .pytest_cache .ruff_cache

# Documentation: build the site into site/ (fails on any warning), and
# screenshot its pages with headless Chromium into outputs/screenshots/,
# checking each (formulas typeset, no table clipped; exit 1 on a problem).
# `make dist` first: the tutorials page offers its wheel and notebooks zip as downloads
# (docs/hooks_downloads.py copies them from dist/; a plain `mkdocs build` says how to get them).
docs: $(STAMP) dist
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

screenshots: docs
	$(PY) scripts/screenshot_docs.py --check

# Every published table of results/ (quick preset, 2 CPU cores: several hours in
# all; each command resumes where it stopped). VAEGAN_METHODS are the scores of
# the one VAEGAN trained per unit; the extra runs add kNN as the peer to beat.
VAEGAN_METHODS := anovaegan ada-d-only ada-cam-only ada
reproduce-quick: $(STAMP)
	$(PY) -m adda_keras reproduce --table 1 --preset quick
	$(PY) -m adda_keras reproduce --table 1 --preset quick --noise off --methods $(VAEGAN_METHODS) pca knn
	$(PY) -m adda_keras reproduce --table 1 --preset quick --seeds 1 2 --methods $(VAEGAN_METHODS) knn --output results/seeds
	$(PY) -m adda_keras reproduce --table 1 --preset quick --noise-strength 0.5 --methods $(VAEGAN_METHODS) knn
	$(PY) -m adda_keras reproduce --table 1 --preset quick --noise-strength 2 --methods $(VAEGAN_METHODS) knn
	$(PY) -m adda_keras reproduce --table 1 --preset quick --noise-seed 7 --methods $(VAEGAN_METHODS) knn
	$(PY) -m adda_keras reproduce --table 3 --preset quick
	$(PY) -m studies.summarise_results --preset quick --readme README.md
	$(PY) -m studies.rescore_beta --beta 0.2 --preset quick
	$(PY) -m adda_keras localise --benchmark digits --preset quick
	$(PY) -m adda_keras localise --benchmark textures --preset quick

benchmark: $(STAMP)
	$(PY) scripts/benchmark_scoring.py
