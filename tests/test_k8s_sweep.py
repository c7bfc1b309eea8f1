"""`glmlab sweep --backend k8s`: one Job per one-node configuration, one LeaderWorkerSet group per multi-node one, and
the Kueue objects, validated offline (kubernetes-validate for the Jobs and pod templates; the LWS and the Kueue v1beta2
objects against the JSON schemas published for their CRDs, kept in tests/data/k8s with their source), and `--collect`
reading a results folder laid out as finished workloads leave it."""
import json
from pathlib import Path
import pytest, yaml
from conftest import ROOT, glmlab

K8S_VERSION = '1.33'
DATA = ROOT / 'tests/data/k8s'

def test_jobs_and_kueue_objects_validate(tmp_path):
    import kubernetes_validate as kv
    from jsonschema import Draft202012Validator
    out = tmp_path / 'k8s'
    r = glmlab('sweep', 'data/sweeps/blackwell.yaml', '--backend', 'k8s', '--out', str(out), '--queue', 'gpu-team', '--priority', 'high',
               '--gpu-product', '8x-b200=NVIDIA-B200-SXM6')
    assert r.returncode == 0, r.stderr
    jobs = [yaml.safe_load(p.read_text()) for p in sorted(out.glob('job-*.yaml'))]
    from glmlab.lab.sweep import load_matrix
    configs = load_matrix(ROOT / 'data/sweeps/blackwell.yaml')['configs']
    assert len(jobs) == len(configs) >= 1, (len(jobs), list(configs))   # one Job per configuration
    for j in jobs:
        kv.validate(j, K8S_VERSION, strict=True)
        pod = j['spec']['template']['spec']
        assert (j['spec']['backoffLimit'], pod['restartPolicy']) == (0, 'Never')
        assert j['metadata']['labels']['kueue.x-k8s.io/queue-name'] == 'gpu-team' and j['metadata']['labels']['kueue.x-k8s.io/priority-class'] == 'high'
        assert pod['nodeSelector'] == {'nvidia.com/gpu.product': 'NVIDIA-B200-SXM6'}, pod.get('nodeSelector')
        assert pod['containers'][0]['resources']['limits']['nvidia.com/gpu'] == 8
        script = pod['containers'][0]['args'][0]
        one = yaml.safe_load(script.split("<<'GLMLAB_MATRIX'\n", 1)[1].split('GLMLAB_MATRIX', 1)[0])   # the pod's own one-configuration matrix
        m = load_matrix(one)
        assert list(m['configs']) == [one['configs'][0]['id']] and script.rstrip().endswith('glmlab sweep /tmp/matrix.yaml --runs-dir /results'), script
    objs = list(yaml.safe_load_all((out / 'kueue.yaml').read_text()))
    assert [o['kind'] for o in objs] == ['ResourceFlavor', 'ClusterQueue', 'LocalQueue'], [o['kind'] for o in objs]
    for o in objs:
        schema = DATA / f"kueue-{o['kind'].lower()}-v1beta2.schema.json"
        if not schema.is_file(): pytest.fail(f"{schema} is missing: the Kueue schemas are test data (tests/data/k8s/SOURCES.md)")
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in Draft202012Validator(json.loads(schema.read_text())).iter_errors(o)]
        assert not errors, (o['kind'], errors)
    assert objs[2]['spec']['clusterQueue'] == objs[1]['metadata']['name'] == 'gpu-team'
    assert objs[0]['spec']['nodeLabels'] == {'nvidia.com/gpu.product': 'NVIDIA-B200-SXM6'}

def _schema_errors(obj:dict, name:str) -> list[str]:
    from jsonschema import Draft202012Validator
    schema = DATA / name
    if not schema.is_file(): pytest.fail(f"{schema} is missing: the CRD schemas are test data (tests/data/k8s/SOURCES.md)")
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in Draft202012Validator(json.loads(schema.read_text())).iter_errors(obj)]

def test_a_multi_node_configuration_is_one_lws_group(tmp_path):
    "A matrix of a one-node and a two-node configuration: a Job and an LWS of two pods (the leader runs the sweep, the worker joins its Ray cluster), and quota for both."
    import kubernetes_validate as kv
    m = yaml.safe_load((ROOT / 'data/sweeps/across-nodes.yaml').read_text())
    m['configs'].append(dict(id='fp8-vs-bf16-one-node', nodes=1, baseline_recipe='nvfp4-glm'))
    (tmp_path / 'm.yaml').write_text(yaml.safe_dump(m))
    out = tmp_path / 'k8s'
    r = glmlab('sweep', str(tmp_path / 'm.yaml'), '--backend', 'k8s', '--out', str(out), '--queue', 'gpu-team', '--image', 'reg.example/glmlab:cuda')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name.split('-')[0] for p in out.glob('*-*.yaml')) == ['job', 'lws'], sorted(p.name for p in out.iterdir())
    lws = yaml.safe_load(next(out.glob('lws-*.yaml')).read_text())
    assert not _schema_errors(lws, 'leaderworkerset-v1.schema.json'), _schema_errors(lws, 'leaderworkerset-v1.schema.json')
    t = lws['spec']['leaderWorkerTemplate']
    for p in (t['leaderTemplate'], t['workerTemplate']): kv.validate(dict(apiVersion='v1', kind='PodTemplate', metadata=dict(name='t'), template=p), K8S_VERSION, strict=True)
    assert (t['size'], lws['metadata']['labels']['kueue.x-k8s.io/queue-name']) == (2, 'gpu-team') and len(lws['metadata']['name']) <= 39, (t['size'], lws['metadata'])
    lead, work = (x['spec']['containers'][0] for x in (t['leaderTemplate'], t['workerTemplate']))
    assert lead['image'] == work['image'] == 'reg.example/glmlab:cuda', (lead['image'], work['image'])
    assert [v['mountPath'] for v in lead['volumeMounts']] == ['/results', '/dev/shm'] and [v['mountPath'] for v in work['volumeMounts']] == ['/dev/shm']
    steps = lead['args'][0].splitlines()
    assert steps[0].startswith('ray start --head --port 6379') and 'glmlab sweep /tmp/matrix.yaml --runs-dir /results' in steps and steps[-1] == 'exec sleep infinity', steps
    one = yaml.safe_load(lead['args'][0].split("<<'GLMLAB_MATRIX'\n", 1)[1].split('GLMLAB_MATRIX', 1)[0])
    assert one['configs'][0]['nodes'] == 2, one
    assert '"$LWS_LEADER_ADDRESS:6379"' in work['args'][0] and '--block' in work['args'][0], work['args'][0]
    objs = list(yaml.safe_load_all((out / 'kueue.yaml').read_text()))
    quota = {r['name']: r['nominalQuota'] for r in objs[1]['spec']['resourceGroups'][0]['flavors'][0]['resources']}
    assert quota == {'cpu': 8, 'nvidia.com/gpu': 16}, quota   # room for the two-node group
    with pytest.raises(Exception, match='nodes=2'):
        from glmlab.lab.cluster import RayBackend
        RayBackend().check([('x', dict(hardware='8x-h200', model='glm-5.2', recipe='fp8', baseline_recipe='bf16', nodes=2))])

def _finished(root:Path, run:str, cid:str, status:str='done', ended:str='2026-12-02T10:00:00+0000', **params):
    d = root / run / cid; d.mkdir(parents=True)
    (d / 'manifest.json').write_text(json.dumps(dict(run_id=run, config_id=cid, status=status, pid=7, host='node-a', parameters={**dict(hardware='8x-b200', model='glm-5.2', recipe='nvfp4-glm'), **params},
                                                     code='c0de', started='2026-12-02T09:00:00+0000', ended=ended, seconds=3600.0, error=None)))
    (d / 'run.ipynb').write_text('{}'); (d / 'bench.csv').write_text('recipe,concurrency\nnvfp4-glm,1\n')
    return d

def test_collect_reads_finished_jobs_into_the_runs_folder(tmp_path):
    results, runs = tmp_path / 'results', tmp_path / 'runs'
    _finished(results, 'blackwell', 'a'); _finished(results, 'blackwell', 'b', status='failed')
    (results / 'blackwell' / 'c').mkdir(); (results / 'blackwell' / 'c' / 'manifest.json').write_text('{"status": ')   # a Job killed mid-write
    _finished(results, 'blackwell', '.d.new')                                                                        # an attempt in progress
    _finished(results, 'two-nodes', 'e', hardware='8x-h200', baseline_recipe='fp8', nodes=2)                         # an LWS group's
    r = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert r.returncode == 0 and 'collected 3 configuration(s): blackwell/a, blackwell/b, two-nodes/e' in r.stdout, (r.stdout, r.stderr)
    assert 'two-nodes/e: collected; free its nodes with: kubectl delete leaderworkerset glmlab-two-nodes-e' in r.stdout, r.stdout
    assert 'corrupt manifest' in r.stdout and str(results / 'blackwell/c/manifest.json') in r.stdout, r.stdout
    assert (runs / 'blackwell/a/bench.csv').read_text().startswith('recipe') and not (runs / 'blackwell/c').exists() and not (runs / 'blackwell/.d.new').exists()
    again = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert 'none new' in again.stdout, again.stdout   # what is here is as new: nothing copied twice
    from glmlab.lab.aggregate import load_runs
    t = load_runs(runs, say=lambda s: None)
    assert sorted(t['manifests'].config_id) == ['a', 'b', 'e'] and t['bench'].config_id.tolist() == ['a', 'e'], t['manifests']

def test_dockerfile_runs_the_install_script():
    "The run image the Jobs and Ray workers use is built by the README's own install step; its instructions parse."
    lines = [l.strip() for l in (ROOT / 'Dockerfile').read_text().splitlines() if l.strip() and not l.strip().startswith('#')]
    known = {'FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'ENTRYPOINT', 'CMD', 'ARG', 'LABEL', 'USER'}
    joined, cont = [], ''
    for l in lines:
        cont += l.rstrip('\\') + ' '
        if not l.endswith('\\'): joined.append(cont.strip()); cont = ''
    assert all(x.split()[0] in known for x in joined), [x for x in joined if x.split()[0] not in known]
    assert joined[0].startswith('FROM python:3.11'), joined[0]
    readme_install = (ROOT / 'README.md').read_text().split('```bash', 1)[1].split('&&')[0].strip()   # "bash scripts/install.sh"
    assert any(x.startswith('RUN') and readme_install in x for x in joined), (readme_install, joined)
    assert any(x.startswith('COPY') for x in joined) and any('.venv/bin' in x for x in joined if x.startswith('ENV')), joined
    import re   # the vLLM builds the image may ask for are the ones the install script knows
    arg = next(x for x in joined if x.startswith('ARG GLMLAB_VLLM='))
    arms = re.findall(r'^\s*([a-z]+)\)', (ROOT / 'scripts/install.sh').read_text(), re.M)
    assert arg.split('=', 1)[1] in arms and 'cuda' in arms and any('GLMLAB_VLLM=$GLMLAB_VLLM bash scripts/install.sh' in x for x in joined), (arg, arms)
