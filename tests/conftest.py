"""Shared fixtures: the repository root and the venv's executables."""
import os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent   # the venv the tests run in

@pytest.fixture
def root(): return ROOT

def exe(name): return str(BIN / name)

def clean_env(**extra):
    "The environment for a subprocess, without GLMLAB_ overrides from the caller's shell."
    env = {k: v for k, v in os.environ.items() if not k.startswith('GLMLAB_')}
    return {**env, **extra}
