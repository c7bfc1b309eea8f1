"""Every notebook in nbs/ is a test file, one pytest item per notebook (papermill templates run elsewhere). One without
slow cells runs with nbdev-test. One with `#| slow` cells (they train proxies, quantize or serve) is executed whole by
`glmlab.lab.notebooks.execute_notebooks`, the function step 3 of `glmlab run` uses, into this worker's notebooks
folder, on the suite's trained proxies (and its shared servers where its cells ask for the experiment's). The docs
build's page of such a notebook then shows that executed copy with its date and commit, and the results page lists
the main job's run under `cpu`."""
import json, shutil, sys
import pytest
from conftest import ROOT, SERVERS, DOCS, SHOWN
from glmlab.lab.notebooks import code_cells, is_papermill_template, slow_cells   # the docs build reads notebooks the same way

def _needs_servers(p): return any('cpu_servers(' in s for s in slow_cells(p))

NOTEBOOKS = sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith('_') and not is_papermill_template(p))  # papermill runs those: tests/test_sweep.py, the main job

def docs_script():
    "scripts/docs.py, the docs build, as a module (its output paths are read when it loads)."
    sys.path.insert(0, str(ROOT / 'scripts'))
    import importlib, docs
    return importlib.reload(docs)

@pytest.fixture(scope='session')
def stage(tmp_path_factory):
    "This worker's staging project (pyproject.toml and a copy of nbs/), where notebooks run as the docs build runs them."
    d = tmp_path_factory.mktemp('stage')
    shutil.copytree(ROOT / 'nbs', d / 'nbs'); shutil.copy2(ROOT / 'pyproject.toml', d)
    return d

# A notebook without slow cells runs as the docs build runs it (scripts/docs.py `execute`: nbdev-test --save), always,
# and its executed copy is kept where the build looks: the site tests/test_docs.py builds afterwards, on the same worker
# (the DOCS group; conftest puts these first), executes none of them again.
def _group(p): return [SERVERS] if _needs_servers(p) else [DOCS] if p.name == SHOWN or not slow_cells(p) else []

@pytest.mark.parametrize('nb', [pytest.param(n, marks=_group(ROOT / 'nbs' / n)) for n in NOTEBOOKS])
def test_notebook(nb, request, executed, stage, monkeypatch):
    if not slow_cells(ROOT / 'nbs' / nb):
        try: docs_script().execute(nb, stage, reuse=False)
        except SystemExit as e: pytest.fail(str(e)[-6000:])
        return
    env = request.getfixturevalue('shared_servers').env if _needs_servers(ROOT / 'nbs' / nb) else (request.getfixturevalue('proxies') and {})
    for k, v in (env or {}).items(): monkeypatch.setenv(k, v)
    from glmlab.lab.notebooks import execute_notebooks
    entry = execute_notebooks([nb], out=executed, say=lambda s: None)[nb]
    assert entry['status'] == 'done', f"{nb}: {entry['status']}:\n{entry['error']}"
    copy = json.loads((executed / nb).read_text())
    ran = [c for c in copy['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| slow')]
    assert len(ran) == len(slow_cells(ROOT / 'nbs' / nb)) and all(c.get('execution_count') for c in ran), nb   # slow cells and all, executed

@SERVERS
def test_docs_pages_show_executed_runs(main_job, executed, monkeypatch, tmp_path):
    """scripts/docs.py's staging and page adapter on the main job's outputs and this worker's executed notebooks (the
    serving ones ran here, before this test): such a page carries its executed cells and the run's date and commit;
    the results page lists the main job's run under cpu."""
    out, _ = main_job
    outputs = tmp_path / 'outputs'
    for d in ('runs', 'report'): shutil.copytree(out / d, outputs / d)
    shutil.copytree(executed, outputs / 'notebooks', ignore=shutil.ignore_patterns('.stage*', '.*.lock'))
    monkeypatch.setenv('GLMLAB_OUTPUTS_PATH', str(outputs))
    docs = docs_script()
    monkeypatch.setattr(docs, 'STAGE', tmp_path / '_docs_build')
    todo, whole, stamps = docs.stage()
    nb = '22_lab.bench.ipynb'
    assert nb in whole and nb not in todo and '30_run.ipynb' in whole and '31_results.ipynb' in whole, (sorted(whole), todo)
    from glmlab.lab.sweep import git_state
    commit = git_state()['commit']
    assert stamps[nb]['commit'] == commit and stamps['30_run.ipynb']['commit'] == commit, stamps
    staged = json.loads((docs.STAGE / 'nbs' / nb).read_text())
    front = dict(cell_type='raw', metadata={}, source='---\ntitle: Benchmarks\noutput-file: lab.bench.html\n---')
    page, title, shown = docs.adapt(dict(cells=[front] + staged['cells'], metadata={}), True, stamps[nb])
    head = shown['cells'][0]['source']
    assert page == 'lab.bench.ipynb' and 'Results of the run of' in head and commit[:12] in head and 'Some cells shown without outputs' not in head, head
    assert sum(bool(c.get('outputs')) for c in shown['cells'] if c['cell_type'] == 'code') >= 3, [c['source'][:60] for c in shown['cells']]
    pages = tmp_path / 'pages'; pages.mkdir()
    nav = dict(next(iter(e.items())) for e in docs.results_pages(pages))
    text = json.loads((pages / nav['Results by hardware']).read_text())['cells'][0]['source']
    cpu = text.split('## cpu', 1)[1].split('\n## ', 1)[0]
    assert '| main ' in cpu and 'cpu-tiny-glm4-nvfp4' in cpu and 'done' in cpu and '(results-cpu.html)' in cpu, text[:1500]
    assert list(nav) == ['Results by hardware', 'Results on cpu'], nav   # a page per profile that has runs: here only this machine's
    page = json.loads((pages / nav['Results on cpu']).read_text())['cells'][0]['source']
    assert '| main ' in page and '![throughput and latency on cpu, by concurrency](results-cpu.png)' in page, page[:1500]
    from PIL import Image
    assert Image.open(pages / 'results-cpu.png').size[0] > 800   # the benchmark curves, drawn

def test_every_module_has_a_notebook():
    pkg = ROOT / 'glmlab'
    mods = {'.'.join(p.relative_to(pkg).with_suffix('').parts) for p in pkg.rglob('*.py') if p.stem not in ('__init__', '_modidx')}
    exported = {line.split()[-1] for p in (ROOT / 'nbs').glob('*.ipynb') for s in code_cells(p) for line in s.splitlines()
                if line.startswith('#| default_exp')}
    assert mods == exported and len(mods) > 25, sorted(mods ^ exported)
