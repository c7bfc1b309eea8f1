"""Shared fixtures: the repository root, the venv's executables, and the work a test run does once, not once per test:
the trained proxies (made up front, before the test workers start), the experiment's pair of vLLM servers (shared
through glmlab's servers file, so every notebook, test and `glmlab run` that asks for the same command uses them), and
the main job."""
import os, subprocess, sys
from pathlib import Path
import pytest
from glmlab.serving.server import group_members   # live processes of a process group, as the server's watchman counts them

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent   # the venv the tests run in
# In this process and in every subprocess started with clean_env(), nothing is shared unless a test says so: a
# servers file the developer keeps for JupyterLab (outputs/servers.json) must not leak into the tests.
os.environ['GLMLAB_SERVERS_FILE'] = ''
# Two test workers share the machine's cores. GNU OpenMP threads (torch's) spin while they wait, taking the core the
# other worker needs: two notebooks run side by side took 178 s that way and 68 s with passive waiting, which costs
# nothing when a core is free. Every process a test starts inherits this.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

@pytest.fixture
def root(): return ROOT

def exe(name): return str(BIN / name)

def clean_env(**extra):
    "The environment for a subprocess, without GLMLAB_ overrides from the caller's shell (and no shared servers unless `extra` names them)."
    env = {k: v for k, v in os.environ.items() if not k.startswith('GLMLAB_') or k in KEPT}
    return {**env, 'GLMLAB_SERVERS_FILE': '', **extra}

# Kept for every subprocess: a host feature the whole run forces (GLMLAB_CPU_FLAGS=-avx512f runs the suite as on a CPU
# without AVX-512; glmlab.serving.host), not a developer's override of paths or defaults.
KEPT = ('GLMLAB_CPU_FLAGS',)

def glmlab(*args, cwd=ROOT, timeout=300, env=None, **extra):
    "Run the `glmlab` command as a user would; `extra` are environment variables."
    return subprocess.run([exe('glmlab'), *args], cwd=cwd, capture_output=True, text=True, env=env or clean_env(**extra), timeout=timeout)

# With two test workers (scripts/test.sh runs pytest -n 2), each has its own session fixtures: the proxies are cached
# (and locked: a process asking for one that another is training waits for it), and every test that needs the shared
# servers carries the mark below, so that one worker starts them once and runs those tests.
SERVERS = pytest.mark.xdist_group('servers')
# The docs site's tests run on one worker, which builds the site once; the notebook whose executed page they open
# (`SHOWN`: slow cells, no server) is executed there too, once, into that worker's `executed` folder.
DOCS = pytest.mark.xdist_group('docs')
SHOWN = '14_quant.proxy.ipynb'

# xdist hands out work units (a group, or one ungrouped test) in collection order, each to the first free worker. The
# notebooks come first: the docs site the DOCS worker builds then finds every quick one executed, and the two groups
# start at once; then the longest ungrouped tests, so that none of them runs alone at the end (a two-minute test
# collected last did, on a slow day).
FIRST = ('tests/test_notebooks.py::test_notebook[', 'tests/test_sweep.py::test_two_experiments', 'tests/test_server.py::test_owner_killed',
         'tests/test_server.py::test_ctrl_c', 'tests/test_quantize.py', 'tests/test_jupyter.py')

def pytest_collection_modifyitems(items):
    "Items in `FIRST`'s order, then as collected."
    items.sort(key=lambda it: next((i for i, f in enumerate(FIRST) if it.nodeid.startswith(f)), len(FIRST)))

def pytest_terminal_summary(terminalreporter):
    "After the results: what this host could not measure (vLLM features its CPU lacks), one line each."
    from glmlab.serving.host import not_measurable
    if (lines := not_measurable()):
        terminalreporter.section('not measured on this host')
        for l in lines: terminalreporter.line(l)

def pytest_sessionstart(session):
    """With test workers (-n), before they start: train the proxies (or find them in the content-hash cache) side by
    side, as `glmlab run` does, so that no worker waits mid-run for a proxy another is training."""
    if hasattr(session.config, 'workerinput') or not session.config.getoption('numprocesses', None): return
    from glmlab.quant.proxy import PROXIES
    from glmlab.lab.experiment import prepared_proxies
    try: prepared_proxies(PROXIES, progress=False)
    except Exception as e: print(f"preparing the proxies failed (the tests that need them will say why): {e}", file=sys.stderr)

@pytest.fixture(scope='session')
def proxies():
    "Both proxies, trained once per test run (or taken from the content-hash cache), and the quantized twin the experiment serves."
    from glmlab.quant.proxy import PROXIES
    from glmlab.lab.experiment import prepared_proxy
    return {m: prepared_proxy(m, progress=False) for m in PROXIES}

@pytest.fixture(scope='session')
def executed(tmp_path_factory):
    """The run's folder of executed notebooks (as outputs/notebooks/ of a `glmlab run`), shared by the workers:
    `execute_notebooks` keeps one already done there, and the docs site built from it shows every notebook executed whole
    by then instead of executing it again."""
    base = tmp_path_factory.getbasetemp()
    d = (base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base) / 'executed-notebooks'
    d.mkdir(exist_ok=True)
    return d

class Shared:
    "The running shared servers by recipe, and the environment that lets a subprocess use them."
    def __init__(self, servers:dict, cmds:dict, path:Path): self.servers, self.cmds, self.path = servers, cmds, path
    @property
    def env(self) -> dict: return {'GLMLAB_SERVERS_FILE': str(self.path)}
    def __getitem__(self, recipe): return self.servers[recipe]

@pytest.fixture(scope='session')
def shared_servers(proxies, tmp_path_factory):
    "The experiment's two CPU servers (BF16 proxy and NVFP4 twin, `glmlab.lab.experiment.cpu_server_pair`), started once side by side and shared."
    from glmlab.lab.experiment import check_parameters, cpu_servers, cpu_server_pair
    path = tmp_path_factory.mktemp('shared') / 'servers.json'
    with cpu_server_pair(share=True, path=path, progress=False) as servers:
        yield Shared(servers, cpu_servers(check_parameters({}), progress=False), path)
    left = [s.pgid for s in servers.values() if group_members(s.pgid)]
    assert not left, f"process groups {left} of the shared servers outlived stop()"

def beyond_loopback(pids) -> list[str]:
    """The TCP sockets that processes `pids`, and their children, listen on beyond the loopback ('ADDRESS:PORT
    name'): what another machine on the network could reach."""
    import psutil
    tree = set()
    for pid in pids:
        try: p = psutil.Process(pid); tree |= {p.pid, *(c.pid for c in p.children(recursive=True))}
        except psutil.NoSuchProcess: pass
    names = {}
    for pid in tree:
        try: names[pid] = psutil.Process(pid).name()
        except psutil.NoSuchProcess: pass
    from glmlab.serving.server import is_loopback   # an IPv4 address mapped into IPv6 is the IPv4 one
    return [f"{c.laddr.ip}:{c.laddr.port} {names.get(c.pid)}" for c in psutil.net_connections(kind='tcp')
            if c.status == psutil.CONN_LISTEN and c.pid in names and not is_loopback(c.laddr.ip.removeprefix('::ffff:'))]

def holding(path:Path) -> list:
    "Live processes with a file at or under `path` open (a server and its workers hold their log as stdout)."
    import psutil
    path, out = Path(path), []
    for p in psutil.process_iter(['status']):
        try:
            if p.info['status'] != psutil.STATUS_ZOMBIE and any(Path(f.path).is_relative_to(path) for f in p.open_files()): out.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied): pass
    return out

@pytest.fixture(scope='session')
def main_job(shared_servers, tmp_path_factory):
    "`glmlab run` once per test run, its experiment on the shared servers, its step 3 for one notebook (tests/test_notebooks.py executes each of them once, with the same function): (outputs folder, completed process)."
    out = tmp_path_factory.mktemp('main-job') / 'outputs'
    return out, glmlab('run', '--notebook', '14_quant.proxy.ipynb', GLMLAB_OUTPUTS_PATH=str(out), timeout=900, **shared_servers.env)
