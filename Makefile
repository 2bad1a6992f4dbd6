# Every target installs what it needs first; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo keeps its database inside the project, so it writes nothing elsewhere.
DEMO_DB := $(CURDIR)/.data/demo.db

.PHONY: install demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	@mkdir -p .data && rm -f $(DEMO_DB)
	INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens rank
	@echo
	INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens tiers xiaomi
	@echo
	INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens --lang zh tiers 小米

test: install
	$(BIN)/inference-lens check data/*.yaml data/companies/*.yaml > /dev/null
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .data build *.egg-info
