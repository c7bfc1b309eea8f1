"""Notebooks are the source: nbdev-export and nbdev-clean must not change any tracked file."""
import subprocess
import pytest
from conftest import ROOT, exe, clean_env

def _state():
    diff = subprocess.run(['git', 'diff', '--no-color', '--', 'glmlab', 'nbs'], cwd=ROOT, capture_output=True, text=True).stdout
    status = subprocess.run(['git', 'status', '--porcelain', '--', 'glmlab', 'nbs'], cwd=ROOT, capture_output=True, text=True).stdout
    return status, diff

@pytest.mark.skipif(not (ROOT / '.git').exists(), reason='needs a git checkout')
def test_export_and_clean_change_nothing():
    before = _state()
    for cmd in ('nbdev-export', 'nbdev-clean'):
        r = subprocess.run([exe(cmd)], cwd=ROOT, capture_output=True, text=True, env=clean_env())
        assert r.returncode == 0, r.stderr
    after = _state()
    assert before == after, f"nbdev-export / nbdev-clean changed files; commit what they produce:\n{after[0]}\n{after[1][:3000]}"
