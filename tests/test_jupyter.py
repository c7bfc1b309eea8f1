"""JupyterLab is part of the set-up: it starts on 127.0.0.1, lists the notebooks through its REST API and offers
the project's kernel; the audit notebook executes under papermill with its plots; the explorer runs in it in a browser.
JupyterLab works on a copy of `nbs/` (it autosaves what it runs, and the checkout's notebooks must stay as committed),
with its own settings and workspace, so a developer's JupyterLab state changes nothing here."""
import json, os, shutil, signal, subprocess, time, secrets
import pytest, requests
from conftest import ROOT, beyond_loopback, exe, clean_env

@pytest.fixture
def lab(tmp_path):
    # A port of glmlab's range, reserved as its servers reserve theirs: a port the OS called free a moment ago can be
    # taken before JupyterLab binds it (by a vLLM server of the other test worker, or vLLM's own ephemeral ports).
    from glmlab.serving.server import free_port, release_port
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / 'lab'
    shutil.copytree(ROOT / 'nbs', home / 'nbs')
    p = subprocess.Popen([exe('jupyter'), 'lab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
                          f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={home}', '--ServerApp.port_retries=0']
                         + (['--allow-root'] if os.geteuid() == 0 else []),
                         cwd=home, stdout=subprocess.DEVNULL, stderr=open(tmp_path / 'lab.log', 'w'), start_new_session=True,
                         env=clean_env(JUPYTER_RUNTIME_DIR=str(tmp_path / 'runtime'), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / 'settings'),
                                       JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / 'workspaces'), GLMLAB_ROOT=str(ROOT)))
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                if requests.get(f'{base}/api/status', params=dict(token=token), timeout=2).ok: break
            except requests.ConnectionError: pass
            if p.poll() is not None: break
            time.sleep(0.5)
        else: pytest.fail('jupyter lab did not answer in 60 s:\n' + (tmp_path / 'lab.log').read_text()[-3000:])
        assert p.poll() is None, (tmp_path / 'lab.log').read_text()[-3000:]
        yield base, token, tmp_path / 'lab.log', p.pid
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try: p.wait(10)
        except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()
        release_port(port)

def test_lab_lists_notebooks_and_the_project_kernel(lab):
    base, token, _, _ = lab
    nbs = requests.get(f'{base}/api/contents/nbs', params=dict(token=token), timeout=10).json()
    names = {c['name'] for c in nbs['content']}
    assert {'04_footprint.params.ipynb', '10_footprint.fit.ipynb', '12_footprint.audit.ipynb'} <= names
    specs = requests.get(f'{base}/api/kernelspecs', params=dict(token=token), timeout=10).json()
    assert 'glmlab' in specs['kernelspecs'], sorted(specs['kernelspecs'])
    assert requests.get(f'{base}/lab', params=dict(token=token), timeout=10).ok

def test_audit_notebook_renders_with_plots(tmp_path):
    out = tmp_path / 'audit.ipynb'
    r = subprocess.run([exe('papermill'), 'nbs/12_footprint.audit.ipynb', str(out), '--cwd', 'nbs', '-k', 'glmlab'], cwd=ROOT,
                       capture_output=True, text=True, env=clean_env(), timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    outputs = [o for c in json.loads(out.read_text())['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', [])]
    assert sum('image/png' in o.get('data', {}) for o in outputs) >= 2
    assert any('text/html' in o.get('data', {}) and 'NVFP4-mixed checkpoint' in ''.join(o['data']['text/html']) for o in outputs)

NOTEBOOK = 'nbs/21b_serving.explore.ipynb'

def _kernel_state(base, token, path):
    "The execution state of the kernel JupyterLab started for the notebook at `path` (None before it has one)."
    for s in requests.get(f'{base}/api/sessions', params=dict(token=token), timeout=10).json():
        if s.get('path') == path: return s['kernel']['execution_state']

def _what_the_page_shows(page, base, token, log):
    "For a failure: the kernel's state, the notebook's error outputs and JupyterLab's log, and a screenshot kept."
    from test_docs import ARTIFACTS
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / 'explorer-failed.png'), full_page=True)
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
    dialogs = page.locator('.jp-Dialog').all_inner_texts()
    return (f"kernel: {_kernel_state(base, token, NOTEBOOK)}; dialogs: {dialogs}; error outputs: {[e[-1500:] for e in errors]}\n"
            f"screenshot: {ARTIFACTS / 'explorer-failed.png'}\nJupyterLab's log:\n{log.read_text()[-3000:]}")

def test_explorer_follows_its_controls_in_a_browser(lab):
    """The explorer notebook opened in JupyterLab in headless Chromium and run there once its kernel is idle: changing
    the hardware control changes the verdict to what the library computes and redraws the plot, and so does a
    config.json dropped on its upload box; a screenshot is kept, and a failure says what the page and the kernel show."""
    from playwright.sync_api import sync_playwright
    from test_docs import CHROMIUM, ARTIFACTS
    from glmlab.serving.explore import DEFAULTS, view, dropped_config
    base, token, log, pid = lab
    want = {hw: f"{view({**DEFAULTS, 'hardware': hw}).deployment.kv_pool_tokens:,} KV tokens" for hw in ('8x-rtx-pro-6000', '8x-b200')}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox'])
        page = b.new_page(viewport={'width': 1600, 'height': 1100})
        try:
            page.goto(f'{base}/lab/tree/{NOTEBOOK}?token={token}')
            page.locator('.jp-Notebook .jp-MarkdownOutput h1', has_text='Explorer').first.wait_for(timeout=120_000)
            for _ in range(360):   # on a loaded machine the kernel takes a while to start; Run All before it is idle may be lost
                if _kernel_state(base, token, NOTEBOOK) == 'idle': break
                time.sleep(0.5)
            else: raise AssertionError('the kernel was not idle after 180 s')
            page.get_by_role('menuitem', name='Run').click()
            page.get_by_text('Run All Cells', exact=True).click()
            verdict = page.locator('.glmlab-verdict').first
            verdict.wait_for(timeout=300_000)
            page.wait_for_function("document.querySelector('.glmlab-verdict') && document.querySelector('.glmlab-verdict').innerText.includes('KV tokens')", timeout=60_000)
            assert want['8x-rtx-pro-6000'] in verdict.inner_text() and 'DOES NOT FIT' in verdict.inner_text(), verdict.inner_text()
            img = page.locator('.jp-OutputArea-output img').first
            before = img.get_attribute('src')
            page.locator('.widget-dropdown', has_text='hardware').first.locator('select').select_option('8x-b200')
            page.wait_for_function(f"document.querySelector('.glmlab-verdict').innerText.includes({want['8x-b200']!r})", timeout=60_000)
            page.wait_for_function(f"(() => {{ const i = document.querySelector('.jp-OutputArea-output img'); return i && i.src !== {before!r}; }})()", timeout=60_000)
            # a config.json dropped on the upload box: the model box takes its kept path, and the verdict is the library's for it
            qwen = ROOT / 'data' / 'models' / 'qwen3-30b-a3b' / 'config.json'
            kept = str(dropped_config(qwen.read_bytes()))
            tokens = f"{view({**DEFAULTS, 'model': kept, 'hardware': '8x-b200'}).deployment.kv_pool_tokens:,} KV tokens"
            before = img.get_attribute('src')
            with page.expect_file_chooser() as chooser: page.locator('.widget-upload').first.click()   # its file input is not in the page
            chooser.value.set_files(str(qwen))
            page.wait_for_function(f"document.querySelector('.glmlab-verdict').innerText.includes({tokens!r})", timeout=60_000)
            assert kept in verdict.inner_text(), verdict.inner_text()
            page.wait_for_function(f"(() => {{ const i = document.querySelector('.jp-OutputArea-output img'); return i && i.src !== {before!r}; }})()", timeout=60_000)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / 'explorer.png'), full_page=True)
            assert beyond_loopback([pid]) == [], beyond_loopback([pid])   # JupyterLab and the kernel it runs: loopback only
        except Exception as e: raise AssertionError(f"{type(e).__name__}: {str(e)[:1500]}\n{_what_the_page_shows(page, base, token, log)}") from None
        finally: b.close()
