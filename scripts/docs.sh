#!/usr/bin/env bash
# Build the docs site into _docs/ from nbs/ (executed on a staging copy; nbs/ is never written). With a real Quarto
# on PATH this is nbdev-docs; without one, nbdev-proc-nbs + mkdocs (see scripts/docs.py). Usage: bash scripts/docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/docs.py "$@"
