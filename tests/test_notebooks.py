"""Every notebook in nbs/ is a test file: run each with nbdev-test, its `#| slow` cells included (they train proxies,
quantize or serve; the docs build leaves them out), one pytest item per notebook (papermill templates run elsewhere).
A notebook with slow cells gets the suite's trained proxies; one whose slow cells ask for the experiment's servers
(`cpu_servers`) gets the suite's shared pair instead of starting its own."""
import subprocess, sys
import pytest
from conftest import ROOT, exe, clean_env, SERVERS
sys.path.insert(0, str(ROOT / 'scripts'))
from docs import code_cells, is_papermill_template, slow_cells   # the docs build reads notebooks the same way

def _needs_servers(p): return any('cpu_servers(' in s for s in slow_cells(p))

NOTEBOOKS = sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith('_') and not is_papermill_template(p))  # papermill runs those: tests/test_sweep.py, the main job

@pytest.mark.parametrize('nb', [pytest.param(n, marks=[SERVERS] if _needs_servers(ROOT / 'nbs' / n) else []) for n in NOTEBOOKS])
def test_notebook(nb, request):
    slow, env = slow_cells(ROOT / 'nbs' / nb), {}
    if _needs_servers(ROOT / 'nbs' / nb): env = request.getfixturevalue('shared_servers').env
    elif slow: request.getfixturevalue('proxies')
    r = subprocess.run([exe('nbdev-test'), f'nbs/{nb}', '--flags', 'slow'], cwd=ROOT, capture_output=True, text=True,
                       env=clean_env(**env), timeout=900)
    assert r.returncode == 0 and 'Success.' in r.stdout, r.stdout[-3000:] + r.stderr[-6000:]

def test_every_module_has_a_notebook():
    pkg = ROOT / 'glmlab'
    mods = {'.'.join(p.relative_to(pkg).with_suffix('').parts) for p in pkg.rglob('*.py') if p.stem not in ('__init__', '_modidx')}
    exported = {line.split()[-1] for p in (ROOT / 'nbs').glob('*.ipynb') for s in code_cells(p) for line in s.splitlines()
                if line.startswith('#| default_exp')}
    assert mods == exported and len(mods) > 25, sorted(mods ^ exported)
