# Every target installs what it needs first; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo keeps its database inside the project, so it writes nothing elsewhere.
DEMO_DB := $(CURDIR)/.data/demo.db

# Chinese chart labels need a CJK font; Debian's is installed when we may (root, apt-get).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: install fonts demo test test-llm-server lint bench bot chat clean i18n

install: $(VENV)/.installed fonts

fonts:
	@test -f $(CJK_FONT) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei; \
	  else \
	    echo "warning: no CJK font; install fonts-wqy-microhei or set INFERENCE_LENS_CJK_FONT" >&2; \
	  fi; }

# Every dependency at the exact version tested, with its hashes (written by `make lock`), so a
# clean machine next month installs what passed today; the project itself goes in on top.
LOCK := requirements.lock
# The resolver `make lock` runs, from PyPI into a throwaway venv (nothing else needs it).
UV_VERSION := 0.13.9

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Upgrading: every dependency to its newest release within pyproject.toml's ranges (also the
# step after editing them), for Python 3.11+ on any platform. Then `make test` and commit.
.PHONY: lock
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && \
	"$$tmp/bin/pip" install --quiet uv==$(UV_VERSION) && \
	"$$tmp/bin/uv" pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --upgrade --quiet --custom-compile-command "make lock" -o $(LOCK)

demo: install
	@mkdir -p .data && rm -f $(DEMO_DB)
	INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens rank
	@echo
	INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens tiers xiaomi
	@echo
	INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens --lang zh tiers 小米
	@echo
	@# Questions in words, answered offline (the LLM variables are cleared for the demo).
	env -u OPENAI_API_KEY -u OPENAI_BASE_URL INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens ask "小米的自用推理占比排第几?"
	@echo
	env -u OPENAI_API_KEY -u OPENAI_BASE_URL INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens ask "那腾讯呢?"
	@echo
	env -u OPENAI_API_KEY -u OPENAI_BASE_URL INFERENCE_LENS_DB=$(DEMO_DB) $(BIN)/inference-lens ask "What if ByteDance sold half of its inference compute to outside customers?"

test: install
	$(BIN)/inference-lens check data/*.yaml data/companies/*.yaml > /dev/null
	$(BIN)/pytest -q

# `ask` and the bot against a real llama.cpp server and a 135M model (cached under
# ~/.cache/inference-lens: the first run compiles llama.cpp, see README "Local models").
test-llm-server: install
	bash tests/llama_server_setup.sh > /dev/null
	$(BIN)/pytest -q -s -m realserver tests/test_llama_server.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/run.py

bot: install
	$(BIN)/inference-lens run

chat: install
	$(BIN)/inference-lens chat

clean:
	rm -rf $(VENV) .data build *.egg-info

# The phrase catalogues: edit the .po files, then compile them (the .mo files are committed,
# so an installed program needs no Babel; tests/test_i18n.py checks they are up to date).
i18n: install
	$(BIN)/pybabel compile -d bot/text/locales -D inference_lens --statistics
