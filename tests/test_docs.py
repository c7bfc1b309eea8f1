"""The docs site: built from nbs/ by scripts/docs.py as after `glmlab run` (an outputs folder holding a slow notebook's
executed copy), opened in headless Chromium (Debian's, driven by Playwright): the index shows the footprint table, the
audit page its claims table and its plots, the slow notebook's page the outputs of its run with that run's date and
commit, the nav links the pages, and nothing is fetched from outside. A screenshot of the audit page is kept in
outputs/test-artifacts/docs-audit.png."""
import functools, http.server, json, shutil, subprocess, sys, threading
from pathlib import Path
import pytest
from conftest import ROOT, clean_env, DOCS, SHOWN

# Every test reads the one site a build writes into _docs/: they run on one test worker, so it is built once and never
# rebuilt under a page that is being read.
pytestmark = DOCS
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
ARTIFACTS = ROOT / 'outputs' / 'test-artifacts'
# Flags that keep a headless Chromium quiet and offline here (no sandbox as root, no background network).
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

@pytest.fixture(scope='module')
def outputs(proxies, executed, tmp_path_factory):
    """An outputs folder as `glmlab run` leaves it, with `SHOWN` executed whole by step 3's function (once on this
    worker: tests/test_notebooks.py's run of it, or this one, whichever comes first)."""
    from glmlab.lab.notebooks import execute_notebooks
    entry = execute_notebooks([SHOWN], out=executed, say=lambda s: None)[SHOWN]
    assert entry['status'] == 'done', f"{SHOWN}: {entry['status']}:\n{entry['error']}"
    out = tmp_path_factory.mktemp('docs-outputs')
    shutil.copytree(executed, out / 'notebooks', ignore=shutil.ignore_patterns('.stage*', '.*.lock'))
    return out

@pytest.fixture(scope='module')
def site(outputs):
    "Build the site from `outputs`, serve _docs/ on 127.0.0.1 (a free port), yield its base URL."
    r = subprocess.run([sys.executable, 'scripts/docs.py'], cwd=ROOT, capture_output=True, text=True,
                       env=clean_env(GLMLAB_OUTPUTS_PATH=str(outputs)), timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(ROOT / '_docs')))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown()

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists(): pytest.fail(f'no Chromium at {CHROMIUM}: bash scripts/install.sh installs it')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        # Debian's Chromium; Playwright's own browser downloads are never used
        b = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp('chromium')), executable_path=CHROMIUM,
                                                 headless=True, args=FLAGS, viewport=dict(width=1400, height=1000))
        yield b
        b.close()

def open_page(browser, url):
    "Open `url`; return the page and every URL it requested."
    page, requested = browser.new_page(), []
    page.on('request', lambda req: requested.append(req.url))
    assert page.goto(url, wait_until='load').ok, url
    return page, requested

def png_plots(page) -> int:
    "How many <img> show a PNG that the browser decoded (a plot from a notebook output)."
    return page.eval_on_selector_all("img[src^='data:image/png']", 'els => els.filter(e => e.naturalWidth > 100).length')

def assert_local(base, requested):
    outside = [u for u in requested if not (u.startswith(base) or u.startswith('data:'))]
    assert not outside, f'the page fetched from outside: {outside}'

def test_index_shows_the_footprint_table(site, browser):
    page, requested = open_page(browser, f'{site}/index.html')
    text = page.inner_text('article')
    # render_footprint's table for glm-5.2 / nvfp4-glm / 8x-rtx-pro-6000: its total row and a per-GPU row
    assert 'glm-5.2 / nvfp4-glm on 8x-rtx-pro-6000' in text
    assert any(l.split()[:4] == ['total', '753,329,921,024', '464.12', 'GB'] for l in text.splitlines()), text[:3000]
    assert 'DOES NOT FIT' in text
    assert png_plots(page) >= 1                                  # each GPU's memory on that node
    # the nav lists every notebook in order and leads to the audit page
    nav = page.locator('nav.md-nav--primary a.md-nav__link').all_inner_texts()
    assert {'Parameters', 'Claims audit', 'Predicted vs measured'} <= set(nav) and len(nav) >= 23, nav
    assert nav.index('Parameters') < nav.index('Claims audit') < nav.index('Predicted vs measured')
    # search runs in the page (its index is local): a word from the placement notebook finds it
    page.locator('input.md-search__input').press_sequentially('placement', delay=20)
    page.locator('.md-search-result__item a[href*="placement.html"]').first.wait_for(timeout=10_000)
    page.keyboard.press('Escape')
    page.wait_for_function("!document.querySelector('input[data-md-toggle=search]').checked")   # the search overlay is closed
    link = page.locator('nav.md-nav--primary a.md-nav__link', has_text='Claims audit').first
    assert link.get_attribute('href') == 'footprint.audit.html', link.get_attribute('href')
    # follow the link by its href: a click on it sometimes started no navigation at all (a clean clone, twice), and
    # the nav is plain links, so where it leads is the check
    assert page.goto(f"{site}/{link.get_attribute('href')}", wait_until='commit', timeout=60_000).ok
    page.wait_for_url('**/footprint.audit.html', wait_until='commit')
    assert_local(site, requested)

def test_audit_page_shows_its_table_plots_and_api(site, browser):
    page, requested = open_page(browser, f'{site}/footprint.audit.html')
    table = page.locator('article table.dataframe').first
    rows = {r[0]: r for r in (c.split('\t') for c in table.locator('tbody tr').all_inner_texts())}
    # index, claim, source, said, naive, exact, unit: the published 465 GB vs the exact 464.1 GB of NVFP4-mixed
    assert [x.strip() for x in rows['5'][1:]][:5] == ['NVFP4-mixed checkpoint', 'post', '465.0', 'NaN', '464.1'], rows
    assert [x.strip() for x in rows['0'][1:]][:5] == ['GLM-5.2 parameters', 'post', '469.0', 'NaN', '753.3'], rows
    assert (n := png_plots(page)) >= 2, f'{n} PNG plots'   # the checkpoint sizes and the per-GPU footprint
    assert page.locator('article h3', has_text='audit_rows').count() == 1   # show_doc's API entry
    assert 'def audit_rows()' in page.inner_text('article')
    assert_local(site, requested)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / 'docs-audit.png'), full_page=True)
    assert (ARTIFACTS / 'docs-audit.png').stat().st_size > 50_000

def test_results_page_lists_every_profile(site, browser):
    "The results page per hardware profile: one section per profile of data/hardware.yaml, each with its runs or saying it has none."
    from glmlab.core.data import hardware_names
    page, requested = open_page(browser, f'{site}/results-by-hardware.html')
    heads = [' '.join(h.replace('¶', ' ').split()) for h in page.locator('article h2').all_inner_texts()]
    assert heads == hardware_names(), (heads, hardware_names())
    text = page.inner_text('article')
    assert text.count('No run has used this profile yet') >= len(hardware_names()) - 1, text[:2000]   # at most this machine's has runs here
    nav = [' '.join(n.split()) for n in page.locator('nav.md-nav--primary a.md-nav__link').all_inner_texts()]
    assert 'Results by hardware' in nav, nav
    assert_local(site, requested)

def test_slow_notebook_page_shows_its_run(site, browser, outputs):
    "The page of a notebook whose cells train (the proxies'): its slow cell's output, from the executed copy, under the run's date and commit."
    from glmlab.lab.notebooks import read_notebooks_manifest
    from glmlab.quant.proxy import PROXIES, proxy_dir
    page, requested = open_page(browser, f"{site}/{SHOWN.split('_', 1)[1].replace('.ipynb', '.html')}")
    text = page.inner_text('article')
    ran = read_notebooks_manifest(outputs / 'notebooks')[SHOWN]
    box = page.locator('article .admonition.info .admonition-title')   # drawn as Material's box, not left as markdown
    assert box.count() == 1 and box.inner_text().startswith(f"Results of the run of {ran['ended']}, commit {ran['commit'][:12]}"), text[:1500]
    assert 'Some cells shown without outputs' not in text, text[:1500]
    for name in PROXIES:   # the slow cell prints each proxy's training time and task accuracy from its train_log.json
        log = json.loads((proxy_dir(name, progress=False) / 'train_log.json').read_text())
        assert f"{name} {log['seconds']} s {log['accuracy']}" in text.splitlines(), (name, text[-3000:])
    assert_local(site, requested)

# ---- the crawl: every page of the built site, as files -------------------------------------------------------------
from html.parser import HTMLParser
import html as _html, posixpath, re
from urllib.parse import urlparse, unquote

class _Page(HTMLParser):
    "The links, the ids and the stderr outputs of one built page."
    def __init__(self):
        super().__init__(); self.links, self.ids, self.stderr = [], set(), 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        if tag in ('a', 'link') and a.get('href'): self.links.append(a['href'])
        if tag in ('img', 'script') and a.get('src'): self.links.append(a['src'])
        if 'application/vnd.jupyter.stderr' in (a.get('data-mime-type') or ''): self.stderr += 1

_CHECK = re.compile(r'\s*(test_eq|test_ne|test_fail|test_close|test_is|assert)\b')

def _test_cell(src:str) -> bool:
    "A shown cell that is mostly checks (its top-level lines, imports and comments aside)."
    lines = [l for l in src.splitlines() if l.strip() and not l.startswith((' ', '\t', ')', '#', 'import ', 'from '))]
    return bool(lines) and 2 * sum(bool(_CHECK.match(l)) for l in lines) >= len(lines)

def test_the_crawl_finds_no_dead_link_test_cell_stderr_or_widget_repr(site):
    """Every page of the site, read as a browser would follow it: each link and anchor resolves on the site (the 404
    page's under the project path the site is published at), the API's [source] links stay on it, and no page shows
    a test cell, a stderr box or a widget's raw repr."""
    base = '/' + urlparse(settings_site_url()).path.strip('/') + '/'
    root = ROOT / '_docs'
    pages = {p.relative_to(root).as_posix(): p.read_text(errors='replace') for p in root.rglob('*.html')}
    parsed = {}
    for n, text in pages.items(): parsed[n] = _Page(); parsed[n].feed(text)
    dead, anchors, off_site, stderr, widgets, tests = [], [], [], [], [], []
    for n, pg in parsed.items():
        if pg.stderr: stderr.append(n)
        if not n.startswith('src/'):
            widgets += [n for _ in re.finditer(r'(?:HBox|VBox|Output|Button|Dropdown)\((?:children|layout|description)=', pages[n])]
            cells = re.findall(r'<div class="clipboard-copy-txt" id="cell-\d+">(.*?)</div>', pages[n], re.S)
            tests += [(n, _html.unescape(c).splitlines()[0]) for c in cells if _test_cell(_html.unescape(c))]
        for href in pg.links:
            u = urlparse(href)
            if u.scheme in ('http', 'https'):
                if '/blob/' in u.path or '/tree/' in u.path: off_site.append((n, href))
                continue
            if u.scheme in ('mailto', 'data', 'javascript'): continue
            path = unquote(u.path)
            if path.startswith(base): path = '/' + path[len(base):]
            if path.startswith('/'): path = posixpath.relpath(path, '/' + posixpath.dirname(n))
            t = posixpath.normpath(posixpath.join(posixpath.dirname(n), path)) if path else n
            if path.endswith('/') or (root / t).is_dir(): t = posixpath.join(t, 'index.html')
            if not (root / t).exists(): dead.append((n, href))
            elif u.fragment and t in parsed and u.fragment not in parsed[t].ids: anchors.append((n, href))
    assert len(pages) > 40 and any(n.startswith('src/glmlab/') for n in pages), sorted(pages)[:50]
    assert not dead, dead[:20]
    assert not anchors, anchors[:20]
    assert not off_site, off_site[:20]
    assert not stderr, stderr
    assert not widgets, widgets
    assert not tests, tests[:20]

def settings_site_url() -> str:
    "The URL the site is published at, as the build sets it (nbdev's doc_host and doc_baseurl)."
    sys.path.insert(0, str(ROOT / 'scripts'))
    try:
        import docs
        return docs.site_url()
    finally: sys.path.remove(str(ROOT / 'scripts'))
