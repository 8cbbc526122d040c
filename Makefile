# Two commands set everything up on a fresh machine (see README.md):
#   make book   build the website into _build/html
#   make test   run every test: unit tests, notebook hygiene, nbval, the Colab path,
#               the site build, the site in a browser
# and more:
#   make execute [NB=chapters/02_text_preprocessing.ipynb]   re-execute notebooks in place
#   make lab    open the notebooks in JupyterLab
#   make browser   build the site and check every page in headless Chromium
#   make bench  time every model of the book on this machine (python -m utils.benchmark:
#               about 12 minutes; writes benchmarks/results-cpu.json and .md; not part of
#               make test). Options via BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick
# All of them create (or reuse) the virtual environment .venv from requirements.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
NB ?=
# The notebook kernel must be the one in .venv.
export PATH := $(BIN):$(PATH)
# The notebooks that CI re-executes must print the same numbers on any x86 machine,
# not only on the one that saved them: the same vector code paths (AVX2) in PyTorch,
# MKL and oneDNN, and the same number of threads (the book's target is 2 cores).
export ATEN_CPU_CAPABILITY := avx2
export MKL_CBWR := AVX2
export ONEDNN_MAX_CPU_ISA := AVX2
export OMP_NUM_THREADS := 2

.PHONY: book test execute lab unit nbval colab browser bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html --all -W -n --keep-going
	@echo "The book is in _build/html/index.html"

unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/colab --ignore=tests/browser

colab: $(STAMP)
	$(BIN)/python -m pytest tests/colab

# The built site in headless Chromium (Debian's /usr/bin/chromium; see tests/browser).
# Screenshots of every page go to _build/screenshots/.
BROWSER_TEST := $(BIN)/python -m pytest tests/browser

browser: book
	$(BROWSER_TEST)

nbval: $(STAMP)
	$(BIN)/python -m pytest --nbval chapters --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 600

test: $(STAMP)
	@start=$$(date +%s); \
	echo "== 1/5 unit tests and notebook hygiene" && $(MAKE) --no-print-directory unit && \
	echo "== 2/5 nbval (strict) over chapters/" && $(MAKE) --no-print-directory nbval && \
	echo "== 3/5 the Colab path, simulated" && $(MAKE) --no-print-directory colab && \
	echo "== 4/5 the site build, warnings as errors" && $(MAKE) --no-print-directory book && \
	echo "== 5/5 the site in a browser (built in step 4)" && $(BROWSER_TEST) && \
	echo "== all tests passed in $$(( $$(date +%s) - start )) s"

execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NB)

# The benchmark runs under the reproducibility variables above (2 threads, AVX2).
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m utils.benchmark $(BENCH_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

clean:
	rm -rf _build
