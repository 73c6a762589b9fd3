# make demo  - create .venv, install, train and score a small ds_corr model on CPU
# make test  - create .venv, install, run the test suite
# make test-slurm - start a single-node Slurm cluster here (installs slurm-wlm and munge if
#              missing; needs root), run a sweep on it with a preempted task, stop the daemons
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= runs/demo

.PHONY: install test test-slurm demo bench previews clean

install: $(STAMP)

$(STAMP): requirements.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps disentanglement-lib==1.5
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

SLURM_TEST_DIR ?= /tmp/echo-slurm
test-slurm: $(STAMP)
	SLURM_TEST_DIR=$(SLURM_TEST_DIR) bash tests/slurm/cluster.sh start
	SLURM_CONF=$(SLURM_TEST_DIR)/slurm.conf $(PY) -m pytest -q tests/slurm; rc=$$?; \
	    SLURM_TEST_DIR=$(SLURM_TEST_DIR) bash tests/slurm/cluster.sh stop; exit $$rc

# A quick ds_corr Echo model (gin_configs/quick.gin: 3,000 steps) trained, scored on the full
# dSprites and drawn, on CPU in a few minutes. Rerunning resumes and re-scores.
demo: $(STAMP)
	$(PY) dataset.py --dataset ds_corr --info
	$(PY) dataset.py --dataset ds_corr --preview $(DEMO_DIR)/dataset
	$(PY) disentanglement.py --dataset ds_corr --model echo \
	    --gin_file gin_configs/quick.gin --output_dir $(DEMO_DIR)/echo_ds_corr
	@echo "scores: $(DEMO_DIR)/echo_ds_corr/scores.csv  figures: $(DEMO_DIR)/echo_ds_corr/figures/"

bench: $(STAMP)
	$(PY) bench/bench_dataset.py
	$(PY) bench/bench_training.py
	$(PY) bench/bench_eval.py

previews: $(STAMP)
	$(PY) dataset.py --dataset dsprites --preview docs
	$(PY) dataset.py --dataset ds_corr --preview docs
	$(PY) dataset.py --dataset ds_pairs --preview docs

clean:
	rm -rf $(VENV) runs
