"""Build the docs site from `nbs/` into `_docs/`. Usage: .venv/bin/python scripts/docs.py (or bash scripts/docs.sh)

Notebooks are committed without outputs, so the build works on a staging copy (`_docs_build/`, ignored) and never
writes into `nbs/`:
  1. stage   copy `pyproject.toml` and the notebooks; a papermill notebook (the experiment, the results) is taken from
             its newest executed copy under `outputs/` (what `glmlab run` left) when there is one, else left unexecuted,
             and so is a notebook with slow cells (`glmlab run` executes them whole into `outputs/notebooks/`); each
             such page says the date and commit of the run it shows;
  2. execute run the other notebooks with `nbdev-test --save` (nbdev's own runner, seconds): cells flagged `#| slow`
             (training proxies, quantizing, serving; minutes) are left out, as nbdev's tst_flags mean; an executed
             copy is kept under the cache by a hash of the notebook, the package and data/, and reused while they hold;
  3. process `nbdev-proc-nbs`, nbdev's docs processing (show_doc API signatures, hidden cells, links) -> `_proc/`;
  4. render  with Quarto (`nbdev-docs`) where a real `quarto` exists; otherwise adapt `_proc/`'s Quarto-flavoured
             notebooks and render them with mkdocs + Material + mkdocs-jupyter (`mkdocs.yml`).
"""
from __future__ import annotations
import ast, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from glmlab.core.settings import settings
from glmlab.lab.sweep import code_version, read_manifest
from glmlab.lab.notebooks import is_papermill_template, slow_cells, notebooks_dir, read_notebooks_manifest
from glmlab.lab.aggregate import results_by_hardware, results_markdown
from glmlab.lab.bench import plot_bench
from glmlab.footprint.report import new_figure, save_figure

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / '_docs_build'          # scratch project: pyproject.toml, nbs/, _proc/, pages/, mkdocs.yml
SITE = ROOT / '_docs'
BIN = Path(sys.executable).parent    # the venv's nbdev-test, nbdev-proc-nbs, mkdocs
# executed notebooks by the sweep's code_version (package, data, notebook), under settings.ini's cache_path: a rebuild
# with unchanged inputs executes nothing
EXECUTED = Path(settings()['cache_path']) / 'docs'
OUTPUTS = Path(settings()['outputs_path'])
RUNS = OUTPUTS / 'runs'               # where `glmlab run` and `glmlab sweep` leave executed notebooks
# papermill notebooks are executed under other names: the experiment once per configuration, the report once
EXECUTED_AS = {'30_run.ipynb': (RUNS, 'run.ipynb'), '31_results.ipynb': (OUTPUTS / 'report', 'report.ipynb')}
EXPORT_DIRECTIVES = {'export', 'exports', 'exporti', 'exec_doc'}

def log(msg): print(f'[docs] {msg}', flush=True)

def run(*args, cwd:Path|None=None, **kw):
    r = subprocess.run([str(a) for a in args], cwd=cwd or STAGE, text=True, capture_output=True, **kw)
    if r.returncode: sys.exit(f'[docs] failed: {" ".join(map(str, args))}\n{r.stdout[-3000:]}{r.stderr[-6000:]}')
    return r

def executed_copy(name:str) -> Path|None:
    "The newest executed copy of notebook `name` under outputs/ (runs, or the report of `glmlab run`), if any."
    where, as_name = EXECUTED_AS.get(name, (RUNS, name))
    found = sorted(where.rglob(as_name), key=lambda p: p.stat().st_mtime) if where.exists() else []
    return found[-1] if found else None

def execute(name:str, stage:Path|None=None, reuse:bool=True) -> bool:
    """Execute notebook `name` of the staging project `stage` (default: the build's) with `nbdev-test --save`, or with
    `reuse` take its executed copy from an earlier execution of the same inputs; True if taken. The test suite executes
    each notebook through this function (`reuse=False`), so that the site it builds afterwards executes none again."""
    stage = stage or STAGE
    nb = stage / 'nbs' / name
    done = EXECUTED / f'{nb.stem}-{code_version(nb)}.ipynb'
    if reuse and done.is_file(): shutil.copy2(done, nb); return True
    run(BIN / 'nbdev-test', f'nbs/{name}', '--save', cwd=stage, env={**os.environ, 'GLMLAB_ROOT': str(ROOT)})   # a stage anywhere
    EXECUTED.mkdir(parents=True, exist_ok=True)
    for old in EXECUTED.glob(f'{nb.stem}-*.ipynb'): old.unlink()   # one executed copy per notebook
    tmp = done.with_suffix('.tmp'); shutil.copy2(nb, tmp); os.replace(tmp, done)
    return False

def run_stamp(executed:Path) -> dict:
    "When and at which commit the executed copy `executed` was made: its run's manifest where it has one, else the file's time."
    m = read_manifest(executed.parent / 'manifest.json', log) if (executed.parent / 'manifest.json').is_file() else {}
    git = m.get('git') or {}
    return dict(date=m.get('ended') or time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(executed.stat().st_mtime)),
                commit=git.get('commit'), dirty=git.get('dirty'))

def stage() -> tuple[list[str], set[str], dict]:
    "Copy the project's notebooks into the staging project; return the names the build must execute, those it shows whole, and the run each executed copy comes from."
    shutil.rmtree(STAGE, ignore_errors=True)
    shutil.copytree(ROOT / 'nbs', STAGE / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    shutil.copy2(ROOT / 'pyproject.toml', STAGE)     # [tool.nbdev]: nbdev treats _docs_build/ as the project root
    todo, whole, stamps, done = [], set(), {}, read_notebooks_manifest()
    for nb in sorted((STAGE / 'nbs').glob('*.ipynb')):
        if nb.name.startswith('_'): continue         # scratch notebooks, skipped by nbdev too
        if not is_papermill_template(nb):
            if slow_cells(nb) and done.get(nb.name, {}).get('status') == 'done' and (copy := notebooks_dir() / nb.name).is_file():
                shutil.copy2(copy, nb); whole.add(nb.name)   # executed whole by `glmlab run`
                e = done[nb.name]; stamps[nb.name] = dict(date=e['ended'], commit=e['commit'], dirty=e['dirty'])
                log(f'{nb.name}: outputs from {copy}')
                continue
            todo.append(nb.name)
            if not slow_cells(nb): whole.add(nb.name)
        elif (run_copy := executed_copy(nb.name)):
            shutil.copy2(run_copy, nb); whole.add(nb.name); stamps[nb.name] = run_stamp(run_copy); log(f'{nb.name}: outputs from {run_copy}')
        else: log(f'{nb.name}: not executed (papermill notebook; no executed copy under outputs/)')
    return todo, whole, stamps

def _mixed(cell:dict) -> bool:
    "A cell nbdev's docs processor would execute for its imports although it also does other work."
    src = ''.join(cell['source'])
    directives = {m.group(1) for m in re.finditer(r'^#\|\s*([\w-]+)', src, re.M)}
    if cell['cell_type'] != 'code' or directives & EXPORT_DIRECTIVES: return False
    try: tree = ast.parse(src)
    except SyntaxError: return False                 # magics: nbdev does not evaluate them either
    has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
    return has_import and not all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)

def mark_mixed_cells():
    """nbdev's processor re-runs every cell that contains an import, to resolve show_doc; in the slow notebooks such
    cells also train, quantize or serve. `#| eval: false` (nbdev's own switch) keeps the processing to the exports and
    plain import cells, so it takes seconds; the stored outputs stay."""
    for p in (STAGE / 'nbs').glob('*.ipynb'):
        nb = json.loads(p.read_text())
        for c in filter(_mixed, nb['cells']): c['source'] = ['#| eval: false\n'] + list(c['source'])
        p.write_text(json.dumps(nb, indent=1))

def quarto_stub() -> dict:
    "An environment whose `quarto` exits 1: without any, nbdev-proc-nbs tries to install Quarto with sudo + curl."
    stub = STAGE / 'bin' / 'quarto'
    stub.parent.mkdir(exist_ok=True)
    stub.write_text('#!/bin/sh\n# stand-in written by scripts/docs.py: Quarto is not installed\nexit 1\n')
    stub.chmod(0o755)
    return {**os.environ, 'PATH': f'{stub.parent}{os.pathsep}{BIN}{os.pathsep}{os.environ["PATH"]}'}

def real_quarto() -> str|None:
    q = shutil.which('quarto')
    return q if q and not Path(q).resolve().is_relative_to(STAGE) else None

# --- adapter: nbdev's Quarto-flavoured _proc/ notebooks -> plain notebooks mkdocs-jupyter renders ---------------
_TARGET = re.compile(r'\{target="[^"]*"[^}]*\}')     # Quarto link attributes after show_doc's [source](...) links
_HEADING = re.compile(r'^(#{1,6} .*)$', re.M)

def on_site(md:str) -> str:
    """show_doc's links to the source on the git host (a repository that may not exist, or not at this commit) made
    links to the site's own copy of that file (`source_pages`), line anchors kept."""
    from nbdev.config import get_config
    git = get_config().git_url.rstrip('/')
    return re.sub(re.escape(git) + r'/blob/[^/]+/([^)#\s"]+)', r'src/\1.html', md)

def heading_text(md:str) -> str:
    """Headings without inline code marks: the table of contents (Python-Markdown's slug) and the page's own heading
    ids (nbconvert's) then name a heading alike, so every contents link finds its heading."""
    return _HEADING.sub(lambda m: m.group(1).replace('`', ''), md)

def shown(o:dict) -> bool:
    """Whether a stored output belongs on a page: not a stderr stream (progress bars, library warnings) and not a
    widget's state, which a static page cannot run (its text form is a raw repr)."""
    if o.get('output_type') == 'stream' and o.get('name') == 'stderr': return False
    return 'application/vnd.jupyter.widget-view+json' not in o.get('data', {})

def _directives(src:str) -> tuple[dict, str]:
    "Quarto `#| key: value` lines of a code cell, and the source without them."
    lines = src.splitlines(True)
    d = {m.group(1): m.group(2).strip() for l in lines if (m := re.match(r'#\|\s*([\w-]+):?(.*)', l))}
    return d, ''.join(l for l in lines if not l.startswith('#|'))

def _front_matter(cell:dict) -> dict:
    "The YAML front matter nbdev puts in a raw first cell (title, description, output-file), or {}."
    import yaml
    text = ''.join(cell['source']).strip()
    if cell['cell_type'] != 'raw' or not text.startswith('---'): return {}
    return yaml.safe_load(text.strip('-')) or {}

def admonition(kind:str, title:str, body:str) -> str:
    """Material's admonition box as HTML: a notebook's markdown is rendered by nbconvert, which knows no `!!!` blocks.
    `title` and `body` are HTML."""
    return f'\n<div class="admonition {kind}"><p class="admonition-title">{title}</p><p>{body}</p></div>\n'

def stamp_note(stamp:dict) -> str:
    "The admonition a page of an executed run carries: when, at which commit."
    commit = (stamp.get('commit') or '')[:12] or 'unknown'
    return admonition('info', f"Results of the run of {stamp['date']}, commit {commit}{' (with uncommitted changes)' if stamp.get('dirty') else ''}",
                      'The outputs below are those of that run (<code>glmlab run</code>, or a sweep); run it again to refresh them.')

def adapt(nb:dict, whole:bool, stamp:dict|None=None) -> tuple[str, str, dict]:
    "(page file name, title, notebook) for one processed notebook; `stamp`: the run its outputs come from."
    fm = _front_matter(nb['cells'][0]) if nb['cells'] else {}
    title = fm.get('title') or 'Untitled'
    head = f"# {title}\n\n" + (f"> {fm['description']}\n" if fm.get('description') else '') + (stamp_note(stamp) if stamp else '')
    if not whole:
        head += admonition('note', 'Some cells shown without outputs', 'Cells that take long (flagged <code>#| slow</code>: they train proxy '
                           "models, quantize, start vLLM servers or read lm-eval's task index) are not run by the docs build. Run the notebook in "
                           'JupyterLab, or <code>nbdev-test --flags slow</code>, to see them executed.')
    cells = [dict(cell_type='markdown', metadata={}, source=head)]
    for c in nb['cells'][1 if fm else 0:]:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw': continue
        if c['cell_type'] == 'markdown':
            cells.append(dict(cell_type='markdown', metadata={}, source=heading_text(_TARGET.sub('', src))))
            continue
        d, src = _directives(src)
        if d.get('include') == 'false': continue
        tags = ['hide-input'] if d.get('echo') == 'false' else []
        outs = [] if d.get('output') == 'false' else [o for o in c.get('outputs', []) if shown(o)]
        for o in outs:                                 # show_doc's markdown carries Quarto attributes too
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = on_site(_TARGET.sub('', ''.join(md)))
        if not src.strip() and not outs: continue
        # execnb's cell metadata (`execution.total`, ...) fails nbformat's validation: keep only the tags
        cells.append(dict(cell_type='code', metadata={'tags': tags}, source=src, outputs=outs, execution_count=None))
    page = Path(fm.get('output-file', 'page.html')).with_suffix('.ipynb').name
    meta = {k: nb['metadata'][k] for k in ('kernelspec', 'language_info') if k in nb['metadata']}
    return page, title, dict(cells=cells, metadata=meta, nbformat=4, nbformat_minor=5)

def _markdown_page(path:Path, md:str):
    "A page of markdown only, as the notebook mkdocs-jupyter renders."
    path.write_text(json.dumps(dict(cells=[dict(cell_type='markdown', metadata={}, source=md)], metadata={}, nbformat=4, nbformat_minor=5), indent=1))

def results_pages(out:Path) -> list[dict]:
    """The results by hardware profile from every run found under outputs/runs/ (this machine, Ray nodes, collected
    Kubernetes Jobs): one page with a section per profile, and a page per profile that has runs, with its benchmark
    curves; their nav entries."""
    res, built = results_by_hardware(RUNS, log), time.strftime('%Y-%m-%d %H:%M')
    nav, sections = [], []
    for hw, r in res.items():
        section = results_markdown({hw: r})
        if len(r['runs']):
            page = f'results-{hw}'
            md = f"# Results on {hw}\n\n> Every configuration found under `outputs/runs/` that names `{hw}`; built {built}.\n\n" + section
            if len(r['bench']):
                fig = new_figure((11, 3.4))
                plot_bench(r['bench'].assign(server=lambda d: d.recipe + ' (' + d.run_id + '/' + d.config_id + ')'), hue='server', axes=fig.subplots(1, 3))
                save_figure(fig, out / f'{page}.png')
                md += f"\n![throughput and latency on {hw}, by concurrency]({page}.png)\n"
            _markdown_page(out / f'{page}.ipynb', md)
            nav.append({f'Results on {hw}': f'{page}.ipynb'})
            section += f"\nIts page, with its benchmark curves: [Results on {hw}]({page}.html).\n"
        sections.append(section)
    _markdown_page(out / 'results-by-hardware.ipynb', "# Results by hardware\n\n> Every configuration found under `outputs/runs/` (this machine, Ray nodes, "
                   f"collected Kubernetes Jobs), by the hardware profile it names; built {built}.\n\n" + '\n'.join(sections))
    return [{'Results by hardware': 'results-by-hardware.ipynb'}] + nav

def pages(whole:set[str], stamps:dict|None=None) -> list[dict]:
    "Write adapted pages to _docs_build/pages/ in nbdev's sidebar order; return mkdocs' nav."
    import yaml
    out, proc = STAGE / 'pages', STAGE / '_proc'
    shutil.copytree(ROOT / 'docs', out)                # static assets (vendored, no CDN)
    shutil.copytree(proc, out, dirs_exist_ok=True,     # images and other files the notebooks link to
                    ignore=lambda d, names: [n for n in names if n.endswith(('.ipynb', '.yml'))])
    order = yaml.safe_load((proc / 'sidebar.yml').read_text())['website']['sidebar']['contents']
    nav = []
    for name in (o for o in order if isinstance(o, str) and o.endswith('.ipynb')):   # top-level notebooks
        page, title, nb = adapt(json.loads((proc / name).read_text()), name in whole, (stamps or {}).get(name))
        (out / page).write_text(json.dumps(nb, indent=1))
        nav.append({title: page})
    nav += results_pages(out)
    return nav

def site_url() -> str:
    """Where the site is published (nbdev's doc_host and doc_baseurl): the 404 page, served for any missing path, links
    its assets under this path, so it works under a project path (https://USER.github.io/glmlab/)."""
    from nbdev.config import get_config
    c = get_config()
    return c.doc_host.rstrip('/') + '/' + c.doc_baseurl.strip('/') + '/'

def source_pages(site:Path):
    """A page per module of the package, `src/glmlab/<module>.py.html`, each line with its anchor (`#L12`): the API
    docs' [source] links point here, on the site, at the code it was built from."""
    import html
    for f in sorted((ROOT / 'glmlab').rglob('*.py')):
        rel = f.relative_to(ROOT).as_posix()
        out = site / 'src' / f'{rel}.html'
        out.parent.mkdir(parents=True, exist_ok=True)
        up = '../' * rel.count('/') + '../'
        lines = f.read_text().splitlines()
        body = '\n'.join(f'<span id="L{i}"><a href="#L{i}">{i:5}</a>  {html.escape(l)}</span>'
                         for i, l in enumerate(lines, 1))
        out.write_text(f'<!doctype html><html><head><meta charset="utf-8"><title>{rel}</title>'
                       '<style>pre{font-size:13px}a{color:#999;text-decoration:none}span:target{background:#ffc}</style>'
                       f'</head><body><p><a href="{up}index.html">glmlab</a> / {html.escape(rel)}</p>'
                       f'<pre>{body}</pre></body></html>\n')

def main():
    t0 = time.time()
    todo, whole, stamps = stage()
    log(f'executing {len(todo)} notebooks with nbdev-test --save (staging copy; #| slow cells left out)')
    # One nbdev-test per notebook: given a folder, nbdev-test reuses its worker processes across notebooks, and a
    # figure left open by one notebook then receives the next notebook's plot.
    with ThreadPoolExecutor(os.cpu_count()) as ex: hits = sum(ex.map(execute, todo))
    log(f'{hits} of {len(todo)} taken from {EXECUTED} (same notebook, package and data)')
    mark_mixed_cells()
    if (quarto := real_quarto()):
        log(f'rendering with Quarto ({quarto}): nbdev-docs')
        run(BIN / 'nbdev-docs')
        shutil.rmtree(SITE, ignore_errors=True); shutil.move(STAGE / '_docs', SITE)
    else:
        log('processing with nbdev-proc-nbs (Quarto absent: a stub stops its install attempt)')
        run(BIN / 'nbdev-proc-nbs', env=quarto_stub())
        nav = pages(whole, stamps)
        # mkdocs.yml holds the theme and plugins; the nav follows the notebooks, so it is generated here
        cfg = dict(INHERIT=str(ROOT / 'mkdocs.yml'), docs_dir='pages', site_dir=str(SITE), nav=nav, site_url=site_url())
        (STAGE / 'mkdocs.yml').write_text(json.dumps(cfg, indent=1))   # JSON is YAML
        log(f'rendering {len(nav)} pages with mkdocs')
        run(BIN / 'mkdocs', 'build', '--clean', '--quiet', '-f', 'mkdocs.yml')
        source_pages(SITE)
    log(f'site: {SITE / "index.html"} ({time.time() - t0:.0f} s); serve it with '
        f'`python -m http.server -d _docs` or open the file directly')

if __name__ == '__main__': main()
