"""Every notebook in nbs/ is a test file: run each with nbdev-test, its `#| slow` cells included (they train proxies,
quantize or serve; the docs build leaves them out), one pytest item per notebook (papermill templates run elsewhere).
A notebook with slow cells gets the suite's trained proxies; one whose slow cells ask for the experiment's servers
(`cpu_servers`) gets the suite's shared pair instead of starting its own."""
import json, subprocess
import pytest
from conftest import ROOT, exe, clean_env, SERVERS

def _cells(p): return json.loads(p.read_text())['cells']

def _is_papermill_template(p):
    "Notebooks with a `parameters` cell are executed by papermill in tests/test_sweep.py and the main job."
    return any('parameters' in c.get('metadata', {}).get('tags', []) for c in _cells(p))

def _slow_sources(p):
    return [''.join(c['source']) for c in _cells(p) if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| slow')]

def _needs_servers(p): return any('cpu_servers(' in s for s in _slow_sources(p))

NOTEBOOKS = sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith('_') and not _is_papermill_template(p))

@pytest.mark.parametrize('nb', [pytest.param(n, marks=[SERVERS] if _needs_servers(ROOT / 'nbs' / n) else []) for n in NOTEBOOKS])
def test_notebook(nb, request):
    slow, env = _slow_sources(ROOT / 'nbs' / nb), {}
    if _needs_servers(ROOT / 'nbs' / nb): env = request.getfixturevalue('shared_servers').env
    elif slow: request.getfixturevalue('proxies')
    r = subprocess.run([exe('nbdev-test'), f'nbs/{nb}', '--flags', 'slow'], cwd=ROOT, capture_output=True, text=True,
                       env=clean_env(**env), timeout=900)
    assert r.returncode == 0 and 'Success.' in r.stdout, r.stdout[-3000:] + r.stderr[-6000:]

def test_every_module_has_a_notebook():
    mods = {p.stem for p in (ROOT / 'glmlab').glob('*.py')} - {'__init__', '_modidx'}
    exported = set()
    for p in (ROOT / 'nbs').glob('*.ipynb'):
        for cell in _cells(p):
            for line in ''.join(cell['source']).splitlines():
                if line.startswith('#| default_exp'): exported.add(line.split()[-1])
    assert mods == exported, mods ^ exported
