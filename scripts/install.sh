#!/usr/bin/env bash
# Install glmlab into ./.venv (created if missing) with everything the notebooks and tests need, and register the
# project's Jupyter kernel. Idempotent: a second run only checks. Usage: bash scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
quiet() { grep -v -e "is ignored: it is neither a file nor a directory" -e "^\s*$" || true; }

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# torch==2.13.0 is the CPU build this machine keeps on disk; pip (as configured here) finds it, uv and poetry do not.
echo "[install] pip install -e '.[dev]' (torch 2.13.0 CPU, transformers, modelopt, nbdev, papermill, JupyterLab, pytest)"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | quiet
echo "[install] registering the Jupyter kernel 'glmlab' for this environment"
.venv/bin/python -m ipykernel install --sys-prefix --name glmlab --display-name "Python (glmlab)" >/dev/null
echo "[install] done: .venv/bin/glmlab $(.venv/bin/python -c 'import glmlab; print(glmlab.__version__)')"
