"""`glmlab sweep --backend ray` on a simulated three-node Ray cluster on this machine (`ray.cluster_utils.Cluster`: a
head that runs nothing, nodes labelled cpu, 8x-h200 and 8x-b200, all bound to 127.0.0.1): quick configurations land
on the node their hardware names, one real CPU experiment runs on the cpu node (on the suite's shared servers), a
profile no node has stops the sweep before anything runs, and a node killed mid-task leaves only its configuration
failed, which a re-run redoes alone."""
import json, os, time, threading
from pathlib import Path
# A cluster of this machine only: Ray otherwise resolves 127.0.0.1 to the machine's network address (services.
# resolve_ip_for_localhost) and binds there. Read when ray is first imported, so before anything imports it.
from glmlab.lab.cluster import LOCAL_ONLY
os.environ.update(LOCAL_ONLY)
import pytest
from conftest import SERVERS, beyond_loopback
from glmlab.core.settings import GlmlabError
from glmlab.lab.cluster import HW_LABEL, hw_slot, RayBackend
from glmlab.lab.sweep import run_sweep, read_manifest

pytestmark = SERVERS   # one worker holds the cluster (and the shared servers the experiment uses)

def _node(cluster, hw): return cluster.add_node(num_cpus=1, node_ip_address='127.0.0.1', labels={HW_LABEL: hw}, resources={hw_slot(hw): 1})

@pytest.fixture(scope='module')
def cluster(shared_servers):
    import ray
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args=dict(num_cpus=0, include_dashboard=False, node_ip_address='127.0.0.1'))
    nodes = {hw: _node(c, hw) for hw in ('cpu', '8x-h200', '8x-b200')}
    ray.init(address=c.address, _node_ip_address='127.0.0.1', log_to_driver=False, runtime_env={'env_vars': shared_servers.env})   # tasks use the shared servers
    yield c, nodes
    ray.shutdown(); c.shutdown()

def _notebook(path:Path, slow_flag:Path) -> Path:
    "A quick notebook that records where it ran, and waits while `slow_flag` exists and it runs on 8x-b200."
    src = ('import json, platform, pathlib, time\n'
           f'while hardware == "8x-b200" and pathlib.Path({str(slow_flag)!r}).exists(): time.sleep(0.5)\n'
           'pathlib.Path(out_dir, "where.json").write_text(json.dumps(dict(hardware=hardware, host=platform.node())))')
    path.write_text(json.dumps(dict(nbformat=4, nbformat_minor=5, metadata=dict(kernelspec=dict(name='glmlab', display_name='glmlab', language='python')), cells=[
        dict(cell_type='code', metadata=dict(tags=['parameters']), source='hardware = "cpu"\nout_dir = ""', outputs=[], execution_count=None, id='p'),
        dict(cell_type='code', metadata={}, source=src, outputs=[], execution_count=None, id='w')])))
    return path

CONFIGS = [dict(id='c', hardware='cpu'), dict(id='h', hardware='8x-h200', model='glm-5.2', recipe='fp8'),
           dict(id='b', hardware='8x-b200', model='glm-5.2', recipe='nvfp4-glm')]

def test_nothing_listens_beyond_loopback(cluster, shared_servers):
    """While the three-node cluster and the suite's shared vLLM servers run: every socket their processes (GCS,
    raylets, monitor, agents, workers; API servers, engines) listen on is on 127.0.0.1."""
    c, nodes = cluster
    ray_pids = [i.process.pid for n in [c.head_node, *nodes.values()] for infos in n.all_processes.values() for i in infos]
    vllm_pids = [s.proc.pid for s in shared_servers.servers.values() if s.proc]
    assert len(ray_pids) >= 8 and len(vllm_pids) == 2, (ray_pids, vllm_pids)
    assert beyond_loopback(ray_pids) == [] and beyond_loopback(vllm_pids) == [], (beyond_loopback(ray_pids), beyond_loopback(vllm_pids))

def test_configurations_land_on_the_nodes_they_name(cluster, tmp_path):
    nb = _notebook(tmp_path / 'where.ipynb', tmp_path / 'no-flag')
    mans = run_sweep(dict(run_id='r', notebook=str(nb), configs=CONFIGS), runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())
    got = sorted((m['config_id'], m['status'], m['ran_on']['hardware'], json.loads((tmp_path / 'runs/r' / m['config_id'] / 'where.json').read_text())['hardware'])
                 for m in mans)
    assert got == [('b', 'done', '8x-b200', '8x-b200'), ('c', 'done', 'cpu', 'cpu'), ('h', 'done', '8x-h200', '8x-h200')], got
    assert all(read_manifest(tmp_path / 'runs/r' / c['id'] / 'manifest.json')['backend'] == 'ray' for c in CONFIGS)
    again = run_sweep(dict(run_id='r', notebook=str(nb), configs=CONFIGS), runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())
    assert [m['started'] for m in again] == [m['started'] for m in sorted(mans, key=lambda m: [c['id'] for c in CONFIGS].index(m['config_id']))]   # resume: all skipped

def test_a_profile_no_node_offers_stops_before_anything_runs(cluster, tmp_path):
    nb = _notebook(tmp_path / 'where.ipynb', tmp_path / 'no-flag')
    m = dict(run_id='absent', notebook=str(nb), configs=CONFIGS + [dict(id='x', hardware='8x-h100', model='glm-5.2', recipe='fp8')])
    with pytest.raises(GlmlabError, match=r"hardware=8x-h100: no node of the Ray cluster offers it; its nodes offer 8x-b200 \(1\), 8x-h200 \(1\), cpu \(1\)"):
        run_sweep(m, runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())
    assert not any((tmp_path / 'runs').rglob('manifest.json')), list((tmp_path / 'runs').rglob('*'))

def test_the_experiment_runs_on_the_cpu_node(cluster, tmp_path):
    "nbs/30_run.ipynb, executed by the cpu node's worker on the shared servers (a light load: the routing is the point); its tables come back."
    light = dict(id='cpu-light', hardware='cpu', concurrency=[2], num_prompts=4, repeats=1, eval_items=10, logprobs=5)
    mans = run_sweep(dict(run_id='exp', configs=[light]), runs_dir=tmp_path / 'runs', progress=False, backend=RayBackend())
    m = mans[0]
    assert m['status'] == 'done' and m['ran_on']['hardware'] == 'cpu', (m['status'], m['error'], m.get('ran_on'))
    run = tmp_path / 'runs/exp/cpu-light'
    for f in ('run.ipynb', 'bench.csv', 'regression/paired.csv', 'predictions.csv', 'checkpoints.json'):
        assert (run / f).is_file(), (f, sorted(str(p.relative_to(run)) for p in run.rglob('*')))

def test_a_node_killed_mid_task_fails_only_its_configuration(cluster, tmp_path):
    c, nodes = cluster
    flag = tmp_path / 'slow'; flag.write_text('wait')
    nb = _notebook(tmp_path / 'where.ipynb', flag)
    m = dict(run_id='k', notebook=str(nb), configs=CONFIGS)
    def kill_b200():   # once the others are done and 8x-b200's task is waiting on the flag
        deadline = time.time() + 120
        while time.time() < deadline and not all((tmp_path / 'runs/k' / x / 'where.json').exists() for x in ('c', 'h')): time.sleep(0.5)
        time.sleep(2); c.remove_node(nodes.pop('8x-b200'))
    t = threading.Thread(target=kill_b200); t.start()
    mans = {x['config_id']: x for x in run_sweep(m, runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())}
    t.join()
    assert (mans['c']['status'], mans['h']['status']) == ('done', 'done') and mans['b']['status'] in ('failed', 'interrupted'), {k: (v['status'], v['error']) for k, v in mans.items()}
    nodes['8x-b200'] = _node(c, '8x-b200'); flag.unlink()
    deadline = time.time() + 60
    import ray
    while time.time() < deadline and not any((n.get('Labels') or {}).get(HW_LABEL) == '8x-b200' and n['Alive'] for n in ray.nodes()): time.sleep(0.5)
    again = {x['config_id']: x for x in run_sweep(m, runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())}
    assert again['b']['status'] == 'done' and again['b']['started'] != mans['b']['started'], again['b']
    assert (again['c']['started'], again['h']['started']) == (mans['c']['started'], mans['h']['started'])   # only it was redone

def test_ctrl_c_cancels_the_tasks_and_marks_them_interrupted(cluster, tmp_path):
    "SIGINT to the driver while 8x-b200's task waits: that task is cancelled (its node's slot is free again) and marked interrupted, the finished ones stay done, and a re-run redoes only it."
    import signal, ray
    flag = tmp_path / 'slow'; flag.write_text('wait')
    m = dict(run_id='i', notebook=str(_notebook(tmp_path / 'where.ipynb', flag)), configs=CONFIGS)
    def ctrl_c():   # once the others are back and 8x-b200's task is waiting on the flag
        deadline = time.time() + 120
        while time.time() < deadline and not all((tmp_path / 'runs/i' / x / 'where.json').exists() for x in ('c', 'h')): time.sleep(0.5)
        time.sleep(2); os.kill(os.getpid(), signal.SIGINT)
    t = threading.Thread(target=ctrl_c); t.start()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(m, runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())
    t.join()
    first = {c['id']: read_manifest(tmp_path / 'runs/i' / c['id'] / 'manifest.json') for c in CONFIGS}
    assert {k: v['status'] for k, v in first.items()} == {'c': 'done', 'h': 'done', 'b': 'interrupted'}, {k: (v['status'], v['error']) for k, v in first.items()}
    slot, deadline = hw_slot('8x-b200'), time.time() + 30
    while time.time() < deadline and ray.available_resources().get(slot, 0) < 1: time.sleep(0.5)
    assert ray.available_resources().get(slot, 0) == 1, ray.available_resources()   # the task no longer holds its node
    flag.unlink()
    again = {x['config_id']: x for x in run_sweep(m, runs_dir=tmp_path / 'runs', any_notebook=True, progress=False, backend=RayBackend())}
    assert again['b']['status'] == 'done' and (again['c']['started'], again['h']['started']) == (first['c']['started'], first['h']['started']), again
