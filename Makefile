# Two commands from a fresh clone: `make demo` and `make test`. Both create .venv and install symgd first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SYMGD  := $(VENV)/bin/symgd
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,fast,dask]"
	@touch $(STAMP)

demo: $(STAMP)
	@$(PY) -m symgd demo
	@mkdir -p out/demo
	@echo "=== a short tour: worked examples C1 and C8 (LaTeX, PDF, plots, animation)"
	@$(PY) worked_examples/make_examples.py --only C1,C8 --out out/demo
	@echo "=== written under out/demo/; all slides' examples are in worked_examples/ (make examples rebuilds them)"

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py $(ARGS)

examples: $(STAMP)
	$(PY) worked_examples/make_examples.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
