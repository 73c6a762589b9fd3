# make demo  - create .venv, install, train and score a small ds_corr model on CPU
# make test  - create .venv, install, run the test suite (all but the slow tier)
# make test-slow - the slow tier: minutes of scikit-learn probes (DCI, downstream, fairness),
#              multi-run training checks and the sweep report in headless Chromium (installed
#              by `make browser` if missing)
# make test-slurm - start a single-node Slurm cluster here (installs slurm-wlm and munge if
#              missing; needs root), run a sweep on it with a preempted task, stop the daemons
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# TensorFlow's build: the GPU wheel (tensorflow[and-cuda]) when nvidia-smi sees a GPU or GPU=1 is
# given, the CPU wheel otherwise (GPU=0 forces it). Switching reinstalls.
TF_VERSION := 2.21.0
GPU ?= $(shell nvidia-smi -L 2>/dev/null | grep -q '^GPU' && echo 1 || echo 0)
TF_FLAVOUR := $(if $(filter 1,$(GPU)),gpu,cpu)
TF_PACKAGE := $(if $(filter 1,$(GPU)),tensorflow[and-cuda]==$(TF_VERSION),tensorflow-cpu==$(TF_VERSION))
TF_OTHER := $(if $(filter 1,$(GPU)),tensorflow-cpu,tensorflow)
STAMP := $(VENV)/.installed-$(TF_FLAVOUR)
DEMO_DIR ?= runs/demo

.PHONY: install test test-slow test-slurm demo bench previews clean browser

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/.installed-*
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip uninstall --quiet --yes $(TF_OTHER) 2>/dev/null || true
	$(PY) -m pip install --quiet -r requirements.txt '$(TF_PACKAGE)'
	$(PY) -m pip install --quiet --no-deps disentanglement-lib==1.5
	$(PY) -m pip install --quiet --no-deps --editable .
	@echo "installed TensorFlow $(TF_VERSION) for the $(TF_FLAVOUR) ($(TF_PACKAGE))"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow" tests

test-slow: $(STAMP) browser
	$(PY) -m pytest -q -m slow tests

# Debian's Chromium for the report's browser tests (the slow tier); installed when missing
# (needs root and the distribution's package registry).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	    { echo "installing chromium (apt-get)"; export DEBIAN_FRONTEND=noninteractive; \
	      apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

SLURM_TEST_DIR ?= /tmp/echo-slurm
test-slurm: $(STAMP)
	SLURM_TEST_DIR=$(SLURM_TEST_DIR) bash tests/slurm/cluster.sh start
	SLURM_CONF=$(SLURM_TEST_DIR)/slurm.conf $(PY) -m pytest -q tests/slurm; rc=$$?; \
	    SLURM_TEST_DIR=$(SLURM_TEST_DIR) bash tests/slurm/cluster.sh stop; exit $$rc

# A quick ds_corr Echo model (gin_configs/quick.gin + demo.gin: 1,200 steps, FactorVAE with fewer
# votes) trained, scored on the full dSprites and drawn, on a 2-core CPU in a few minutes, and
# the runs folder's report.html. Rerunning resumes and re-scores.
demo: $(STAMP)
	$(PY) dataset.py --dataset ds_corr --info
	$(PY) dataset.py --dataset ds_corr --preview $(DEMO_DIR)/dataset
	$(PY) disentanglement.py --dataset ds_corr --model echo --gin_file gin_configs/quick.gin \
	    --gin_file gin_configs/demo.gin --output_dir $(DEMO_DIR)/echo_ds_corr
	$(PY) scripts/aggregate.py $(DEMO_DIR)
	@echo "scores: $(DEMO_DIR)/echo_ds_corr/scores.csv  figures: $(DEMO_DIR)/echo_ds_corr/figures/"
	@echo "report: $(DEMO_DIR)/report.html (open it in a browser; it works offline)"

bench: $(STAMP)
	$(PY) bench/bench_dataset.py
	$(PY) bench/bench_training.py
	$(PY) bench/bench_eval.py

previews: $(STAMP)
	$(PY) dataset.py --dataset dsprites --preview results
	$(PY) dataset.py --dataset ds_corr --preview results
	$(PY) dataset.py --dataset ds_pairs --preview results
	$(PY) dataset.py --dataset color_dsprites --preview results
	$(PY) dataset.py --dataset noisy_dsprites --preview results

clean:
	rm -rf $(VENV) runs
