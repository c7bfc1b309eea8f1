"""Every notebook in nbs/ is a test file: run each with nbdev-test, one pytest item per notebook (papermill templates run elsewhere)."""
import json, subprocess
import pytest
from conftest import ROOT, exe, clean_env

def _is_papermill_template(p):
    "Notebooks with a `parameters` cell are executed by papermill in tests/test_sweep.py and test_cli.py's main job."
    return any('parameters' in c.get('metadata', {}).get('tags', []) for c in json.loads(p.read_text())['cells'])

NOTEBOOKS = sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith('_') and not _is_papermill_template(p))

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_notebook(nb):
    r = subprocess.run([exe('nbdev-test'), f'nbs/{nb}'], cwd=ROOT, capture_output=True, text=True, env=clean_env(), timeout=900)
    assert r.returncode == 0 and 'Success.' in r.stdout, r.stdout[-3000:] + r.stderr[-6000:]

def test_every_module_has_a_notebook():
    mods = {p.stem for p in (ROOT / 'glmlab').glob('*.py')} - {'__init__', '_modidx'}
    exported = set()
    for p in (ROOT / 'nbs').glob('*.ipynb'):
        for cell in json.loads(p.read_text())['cells']:
            for line in ''.join(cell['source']).splitlines():
                if line.startswith('#| default_exp'): exported.add(line.split()[-1])
    assert mods == exported, mods ^ exported
