"""JupyterLab is part of the set-up: it starts on 127.0.0.1, lists the notebooks through its REST API and offers
the project's kernel; the audit notebook executes under papermill with its plots."""
import json, os, signal, socket, subprocess, time, secrets
import pytest, requests
from conftest import ROOT, exe, clean_env

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def lab(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    p = subprocess.Popen([exe('jupyter'), 'lab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
                          f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={ROOT}', '--ServerApp.port_retries=0']
                         + (['--allow-root'] if os.geteuid() == 0 else []),
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(tmp_path / 'lab.log', 'w'), start_new_session=True,
                         env=clean_env(JUPYTER_RUNTIME_DIR=str(tmp_path / 'runtime')))
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
        yield base, token
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try: p.wait(10)
        except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()

def test_lab_lists_notebooks_and_the_project_kernel(lab):
    base, token = lab
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
