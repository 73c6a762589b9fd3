# make demo  - create .venv, install, train and score a small ds_corr model on CPU
# make test  - create .venv, install, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= runs/demo

.PHONY: install test demo bench previews clean

install: $(STAMP)

$(STAMP): requirements.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps disentanglement-lib==1.5
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

demo: $(STAMP)
	$(PY) dataset.py --dataset ds_corr --info
	$(PY) dataset.py --dataset ds_corr --preview $(DEMO_DIR)/dataset

bench: $(STAMP)
	$(PY) bench/bench_dataset.py

previews: $(STAMP)
	$(PY) dataset.py --dataset dsprites --preview docs
	$(PY) dataset.py --dataset ds_corr --preview docs

clean:
	rm -rf $(VENV) runs
