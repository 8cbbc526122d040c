# Two commands set everything up on a fresh machine (see README.md):
#   make book   build the website into _build/html
#   make test   run every test: unit tests, notebook hygiene, nbval as on another machine,
#               the Colab and Binder paths, the site build, the site in a browser
# and more:
#   make execute [NB=chapters/02_text_preprocessing.ipynb]   re-execute notebooks in place
#   make nbval [NB=...]         re-execute and compare with the saved outputs, on this machine
#   make nbval-foreign [NB=...] the same, computing as another machine would (FOREIGN below)
#   make lab    open the notebooks in JupyterLab
#   make browser   build the site and check every page in headless Chromium
#   make bench  time every model of the book on this machine (python -m utils.benchmark:
#               about 12 minutes; writes benchmarks/results-cpu.json and .md; not part of
#               make test). Options via BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick,
#               and REPORT_ARGS for the report, e.g. --update-chapter chapters/16_performance_settings.ipynb
#   make time-cells [NB=...]    the seconds of every code cell, the slowest first
#               (scripts/time_cells.py; writes nothing back to the notebooks; options via
#               TIME_ARGS, e.g. TIME_ARGS="--json benchmarks/cell-times.json")
#   make spread [NB=...]        how far the checked numbers move on other machines and
#               with other seeds (benchmarks/spread/, benchmarks/spread.md; about an hour)
# All of them create (or reuse) the virtual environment .venv from requirements.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
NB ?=
# The notebook kernel must be the one in .venv.
export PATH := $(BIN):$(PATH)
# Every command computes on fixed code paths: PyTorch, MKL and oneDNN on their AVX2
# kernels, with two threads (the book's target is 2 cores). Re-executing a notebook on
# the same machine then gives the same file, bit for bit. Another machine (another CPU
# maker, Apple silicon) still adds numbers in another order, and training amplifies
# the last bits: there the checked numbers agree within the tolerances the chapters
# state (tests/nbval_approx.py, book/reproducibility.md).
export ATEN_CPU_CAPABILITY := avx2
export MKL_CBWR := AVX2
export ONEDNN_MAX_CPU_ISA := AVX2
export OMP_NUM_THREADS := 2

# Another machine, simulated on this one: PyTorch's plain C++ kernels instead of its
# AVX2 ones (other rounding in every elementwise operator and reduction, and in the
# random numbers of torch.randn), MKL's and oneDNN's own choice of code path, and
# OpenBLAS's Haswell kernels for NumPy (what an AMD CPU gets). It changes every trained
# number of the book, as another machine does, and costs little time.
# (benchmarks/spread.md measures this and other variants.)
FOREIGN := ATEN_CPU_CAPABILITY=default MKL_CBWR=AUTO ONEDNN_MAX_CPU_ISA=ALL OPENBLAS_CORETYPE=Haswell
# make test compares the notebooks as another machine would (MACHINE=foreign), which on
# this machine exercises every tolerance; MACHINE=native runs that step under the
# settings above instead.
MACHINE ?= foreign

.PHONY: book test execute lab unit nbval nbval-foreign colab browser bench spread time-cells clean

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

# nbval compares every output with the saved one; the root conftest.py loads
# tests/nbval_approx.py, which compares the numbers of a cell marked NBVAL_APPROX within
# the tolerance the cell declares.
NBVAL := $(BIN)/python -m pytest --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 600

nbval: $(STAMP)
	$(NBVAL) $(or $(NB),chapters)

# The simulated machine trains its own models: its own cache of trained translators,
# so that the models cached for `make execute` stay those of this machine.
nbval-foreign: $(STAMP)
	env $(FOREIGN) RNN_BOOK_CACHE=$(CURDIR)/_build/cache-foreign $(NBVAL) $(or $(NB),chapters)

test: $(STAMP)
	@start=$$(date +%s); step() { echo "== $$1 ($$(( $$(date +%s) - start )) s so far)"; }; \
	step "1/5 unit tests and notebook hygiene" && $(MAKE) --no-print-directory unit && \
	step "2/5 nbval over chapters/, computing as $(MACHINE) (tolerances: tests/nbval_approx.py)" && \
	$(MAKE) --no-print-directory $(if $(filter native,$(MACHINE)),nbval,nbval-foreign) && \
	step "3/5 the Colab and Binder paths, simulated" && $(MAKE) --no-print-directory colab && \
	step "4/5 the site build, warnings as errors" && $(MAKE) --no-print-directory book && \
	step "5/5 the site in a browser (built in step 4)" && $(BROWSER_TEST) && \
	echo "== all tests passed in $$(( $$(date +%s) - start )) s"

execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NB)

# The benchmark runs under the reproducibility variables above (2 threads, AVX2).
# The measuring is in the package (python -m utils.benchmark works on Colab); the
# report that writes the tables and chapter 16's table is scripts/benchmark_report.py.
BENCH_ARGS ?=
REPORT_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m utils.benchmark $(BENCH_ARGS)
	$(BIN)/python scripts/benchmark_report.py $(REPORT_ARGS)

# Each variant re-executes copies of the chapters (about 12 minutes for all of them).
SPREAD := $(BIN)/python scripts/measure_spread.py
# An empty model cache, so that chapters 14 and 15 train what a new reader's machine trains
# (chapter 15 loads chapter 13's model, trained a moment earlier in the same run).
time-cells: $(STAMP)
	rm -rf _build/cache-time-cells
	RNN_BOOK_CACHE=$(CURDIR)/_build/cache-time-cells $(BIN)/python scripts/time_cells.py \
		$(TIME_ARGS) $(or $(NB),$(sort $(wildcard chapters/[0-9][0-9]_*.ipynb)))

spread: $(STAMP)
	env $(FOREIGN) $(SPREAD) --label foreign $(NB)
	env -u ATEN_CPU_CAPABILITY -u MKL_CBWR -u ONEDNN_MAX_CPU_ISA OMP_NUM_THREADS=1 $(SPREAD) --label plain-1-thread $(NB)
	$(SPREAD) --label seed-1 --seed-offset 1 $(NB)
	$(SPREAD) --label seed-2 --seed-offset 2 $(NB)
	$(SPREAD) --label seed-3 --seed-offset 3 $(NB)
	$(SPREAD) --report

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

clean:
	rm -rf _build
