# Two commands from a fresh clone: `make demo` and `make test`. Both create .venv and install symgd first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SYMGD  := $(VENV)/bin/symgd
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	@$(PY) -m symgd demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py $(ARGS)

examples: $(STAMP)
	$(PY) worked_examples/make_examples.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
