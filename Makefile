# attncv: make book (the main job), make test. Both create the virtual environment first.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
DATA    ?= $(abspath ../shared/data)
NB      ?= $(shell find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
# Here (no internet) the data comes from ../shared/data and no download is tried (the outputs
# would show the failed attempts); elsewhere both stay unset and CIFAR-100 is downloaded.
export ATTNCV_DATA ?= $(if $(wildcard $(DATA)),$(DATA),)
export ATTNCV_OFFLINE ?= $(if $(wildcard $(DATA)),1,)

.PHONY: setup book test unit quick notebooks execute lint clean student assignments gpu gpu-prepare gpu-collect

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch>=2.2" "torchvision>=0.17"
	$(BIN)/pip install -q -e '.[book,dev,bench,instructor,cluster]'
	touch $@

book: setup
	$(BIN)/python scripts/fetch_mathjax.py
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open _build/html/index.html"

# Both cores: pytest-xdist, one test file (so one module's fixtures, one notebook's kernel) per
# worker at a time; each worker's torch on one thread, so two workers do not fight over two cores.
XDIST   ?= -n 2 --dist loadfile
ONE     := OMP_NUM_THREADS=1

# The tests: unit tests, every notebook re-executed in the smoke profile (nbval), and the book
# built with warnings as errors (the browser test reads that build). Unit tests and notebooks run
# in one pytest session, so its two workers share all the work (no core idles while the other
# finishes one half); CI=true puts the notebooks in the smoke profile, and the unit tests'
# conftest takes it away from them. It ends with the 30 slowest tests and every notebook's time.
test: setup lint
	$(MAKE) book
	CI=true $(ONE) $(BIN)/python -m pytest tests chapters --nbval-lax -p tests.notebook_times \
	  $(XDIST) --durations=30

unit: setup
	$(ONE) $(BIN)/python -m pytest tests $(XDIST) --durations=30

# The edit loop: the unit tests without the slow mark (no training runs, browser, nbgrader, Ray).
quick: setup
	$(ONE) $(BIN)/python -m pytest tests -m "not slow" $(XDIST) -q

notebooks: setup
	CI=true $(ONE) $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider -p tests.notebook_times \
	  $(XDIST) chapters

# Execute notebooks top to bottom in the brief profile and keep the outputs (commit them).
# One notebook at a time (baseline first when it is among them), each one's wall time printed.
execute: setup
	@for nb in $(filter chapters/baseline.ipynb,$(NB)) $(filter-out chapters/baseline.ipynb,$(NB)); do \
	  start=$$(date +%s); \
	  ATTNCV_PROFILE=brief ATTNCV_PROGRESS=log $(BIN)/jupyter nbconvert --to notebook --execute \
	    --inplace --ExecutePreprocessor.timeout=3600 $$nb || exit 1; \
	  echo "$$nb: $$(( $$(date +%s) - start )) s"; \
	done

lint: setup
	$(BIN)/ruff check src tests chapters scripts
	$(BIN)/ruff format --check src tests scripts

# The GPU run (README: "The GPU run"). Here: make gpu-prepare [FROM=<files_at>] fills the carried
# folder gpu/. On the GPU machine (no venv there, its python3 has torch): make gpu, or
# python3 scripts/gpu_run.py, with GPU_ARGS=--plan to list the steps. Here again:
# make gpu-collect FROM=<files_at> checks what came back and puts it under chapters/.
gpu:
	$(PY) scripts/gpu_run.py $(GPU_ARGS)

gpu-prepare:
	$(PY) scripts/gpu_prepare.py $(if $(FROM),--resume-from $(FROM))

gpu-collect: setup
	$(BIN)/python scripts/gpu_collect.py $(FROM)

# Student copies of the notebooks, solutions replaced by stubs, in student/ (ignored by git).
student: setup
	$(BIN)/python -m attncv.book.student chapters -o student

# The exercises as nbgrader assignments: an nbgrader course directory in assignments/ (ignored by
# git), one assignment per chapter with exercises. Then, in assignments/ with .venv active:
# nbgrader generate_assignment <chapter>, release, collect, autograde (chapters/instructors.md).
assignments: setup
	$(BIN)/python -m attncv.book.assign chapters -o assignments

clean:
	rm -rf _build _static/mathjax
