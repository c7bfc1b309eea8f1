"""`glmlab sweep --backend k8s`: one Job per one-node configuration, one Indexed Job of its nodes per multi-node one, and
the Kueue objects, validated offline (kubernetes-validate for the Jobs and pod templates; the LWS and the Kueue v1beta2
objects against the JSON schemas published for their CRDs, kept in tests/data/k8s with their source), and `--collect`
reading a results folder laid out as finished workloads leave it."""
import json, os
from pathlib import Path
import pytest, yaml
from conftest import ROOT, glmlab
from pods import mounts_ok, pod_env, run_pod

K8S_VERSION = '1.33'
DATA = ROOT / 'tests/data/k8s'

def _check_kueue(out:Path, queue:str) -> list[dict]:
    "The Kueue objects and the model cache's claim in `out/kueue.yaml`, each valid against its schema."
    import kubernetes_validate as kv
    objs = list(yaml.safe_load_all((out / 'kueue.yaml').read_text()))
    assert [o['kind'] for o in objs][-3:] == ['ClusterQueue', 'LocalQueue', 'PersistentVolumeClaim'], [o['kind'] for o in objs]
    for o in objs:
        if o['kind'] == 'PersistentVolumeClaim': kv.validate(o, K8S_VERSION, strict=True); continue
        errors = _schema_errors(o, f"kueue-{o['kind'].lower()}-v1beta2.schema.json")
        assert not errors, (o['kind'], errors)
    cq = next(o for o in objs if o['kind'] == 'ClusterQueue')
    assert next(o for o in objs if o['kind'] == 'LocalQueue')['spec']['clusterQueue'] == cq['metadata']['name'] == queue
    return objs

def _pod_checks(pod:dict, hardware:str):
    "What every sweep pod of a GPU profile must have: its CUDA image, all its GPUs, memory and disk, its volumes."
    from glmlab.core.settings import settings
    c = pod['containers'][0]
    assert not mounts_ok(pod), mounts_ok(pod)
    assert c['image'] == settings()['k8s_image_cuda'] and c['resources']['limits']['nvidia.com/gpu'] == 8, (c['image'], c['resources'])
    assert {'memory', 'ephemeral-storage', 'cpu'} <= set(c['resources']['requests']), c['resources']
    assert pod_env(pod)['HF_TOKEN'] == '<secret hf-token/token>' and '/results' in [m['mountPath'] for m in c['volumeMounts']]

def test_jobs_and_kueue_objects_validate(tmp_path):
    "Each Job, run as its container would run it: the checkpoints fetched into the cache, then the one-configuration sweep."
    import kubernetes_validate as kv
    from glmlab.lab.sweep import load_matrix
    from glmlab.lab.experiment import gpu_command
    out = tmp_path / 'k8s'
    r = glmlab('sweep', 'data/sweeps/blackwell.yaml', '--backend', 'k8s', '--out', str(out), '--queue', 'gpu-team', '--priority', 'high',
               '--gpu-product', '8x-b200=NVIDIA-B200-SXM6')
    assert r.returncode == 0, r.stderr
    jobs = [yaml.safe_load(p.read_text()) for p in sorted(out.glob('job-*.yaml'))]
    configs = load_matrix(ROOT / 'data/sweeps/blackwell.yaml')['configs']
    assert len(jobs) == len(configs) >= 1, (len(jobs), list(configs))   # one Job per configuration
    assert f"wrote {len(list(out.iterdir()))} files" in r.stdout, (r.stdout, sorted(out.iterdir()))
    for j, (cid, p) in zip(jobs, configs.items()):
        kv.validate(j, K8S_VERSION, strict=True)
        pod = j['spec']['template']['spec']
        assert (j['spec']['backoffLimit'], pod['restartPolicy']) == (0, 'Never')
        assert j['metadata']['labels']['kueue.x-k8s.io/queue-name'] == 'gpu-team' and j['metadata']['labels']['kueue.x-k8s.io/priority-class'] == 'high'
        assert pod['nodeSelector'] == {'nvidia.com/gpu.product': 'NVIDIA-B200-SXM6'}, pod.get('nodeSelector')
        _pod_checks(pod, p['hardware'])
        calls = run_pod(pod, tmp_path / cid)
        repos = [gpu_command(p, x).argv[2] for x in (p['baseline_recipe'], p['recipe'])]
        assert [c['argv'] for c in calls] == [['hf', 'download', x, '--quiet'] for x in repos] + \
               [['glmlab', 'sweep', str(tmp_path / cid / 'matrix.yaml'), '--runs-dir', '/results']], calls
        assert calls[-1]['env']['HF_HOME'] == '/models/huggingface', calls[-1]['env']   # the cache the download filled
        one = load_matrix(tmp_path / cid / 'matrix.yaml')   # the file the pod's own shell wrote
        assert list(one['configs']) == [cid] and one['configs'][cid] == p, (one, p)
    objs = _check_kueue(out, 'gpu-team')
    assert objs[0]['spec']['nodeLabels'] == {'nvidia.com/gpu.product': 'NVIDIA-B200-SXM6'}
    quota = {r['name']: r['nominalQuota'] for r in objs[1]['spec']['resourceGroups'][0]['flavors'][0]['resources']}
    req = jobs[0]['spec']['template']['spec']['containers'][0]['resources']['requests']
    assert quota == req, (quota, req)   # the ClusterQueue covers every resource the pod asks for

def _schema_errors(obj:dict, name:str) -> list[str]:
    from jsonschema import Draft202012Validator
    schema = DATA / name
    if not schema.is_file(): pytest.fail(f"{schema} is missing: the CRD schemas are test data (tests/data/k8s/SOURCES.md)")
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in Draft202012Validator(json.loads(schema.read_text())).iter_errors(obj)]

def test_a_multi_node_configuration_is_one_job_of_its_nodes(tmp_path):
    """A matrix of a one-node and a two-node configuration: a Job, and an Indexed Job of two pods with its headless
    Service (pod 0 heads Ray and runs the sweep, pod 1 joins it by the Service's name), the Job done when pod 0 is."""
    import kubernetes_validate as kv
    m = yaml.safe_load((ROOT / 'data/sweeps/across-nodes.yaml').read_text())
    m['configs'].append(dict(id='fp8-vs-bf16-one-node', nodes=1, baseline_recipe='nvfp4-glm'))
    (tmp_path / 'm.yaml').write_text(yaml.safe_dump(m))
    out = tmp_path / 'k8s'
    r = glmlab('sweep', str(tmp_path / 'm.yaml'), '--backend', 'k8s', '--out', str(out), '--queue', 'gpu-team')
    assert r.returncode == 0, r.stderr
    two = next(out.glob('job-*two-nodes*.yaml'))
    svc, job = yaml.safe_load_all(two.read_text())
    for o in (svc, job): kv.validate(o, K8S_VERSION, strict=True)
    s, pod = job['spec'], job['spec']['template']['spec']
    assert (s['completionMode'], s['completions'], s['parallelism'], s['backoffLimit']) == ('Indexed', 2, 2, 0), s
    assert s['successPolicy'] == {'rules': [{'succeededIndexes': '0', 'succeededCount': 1}]}, s.get('successPolicy')
    assert (svc['spec']['clusterIP'], pod['subdomain'], svc['metadata']['name']) == ('None', job['metadata']['name'], job['metadata']['name'])
    assert svc['spec']['selector'] == {'batch.kubernetes.io/job-name': job['metadata']['name']}
    _pod_checks(pod, '8x-h200')
    lead = [c['argv'] for c in run_pod(pod, tmp_path / 'p0', JOB_COMPLETION_INDEX='0')]
    assert lead[0][:4] == ['ray', 'start', '--head', '--port'] and lead[-1][:2] == ['glmlab', 'sweep'], lead
    one = yaml.safe_load((tmp_path / 'p0' / 'matrix.yaml').read_text())
    assert one['configs'][0]['nodes'] == 2, one
    work = [c['argv'] for c in run_pod(pod, tmp_path / 'p1', JOB_COMPLETION_INDEX='1')]
    head = f"{job['metadata']['name']}-0.{svc['metadata']['name']}:6379"   # pod 0 by the headless Service's DNS name
    assert work == [['ray', 'start', '--address', head, '--disable-usage-stats', '--block']], work
    objs = _check_kueue(out, 'gpu-team')
    quota = {r['name']: r['nominalQuota'] for r in objs[1]['spec']['resourceGroups'][0]['flavors'][0]['resources']}
    req = pod['containers'][0]['resources']['requests']
    assert quota['nvidia.com/gpu'] == 16 and quota['cpu'] == 2 * req['cpu'], (quota, req)   # room for the two-node group
    with pytest.raises(Exception, match='nodes=2'):
        from glmlab.lab.cluster import RayBackend
        RayBackend().check([('x', dict(hardware='8x-h200', model='glm-5.2', recipe='fp8', baseline_recipe='bf16', nodes=2))])

def test_what_kubernetes_would_refuse_or_merge_is_refused(tmp_path):
    "Ids that name one Job, values that are no label, a missing notebook, a configuration that does not fit: refused, nothing written."
    def sweep(configs, *flags, notebook='nbs/30_run.ipynb', **params):
        base = dict(hardware='8x-b200', model='glm-5.2', recipe='nvfp4-glm', baseline_recipe='fp8', max_model_len=8192, **params)
        (tmp_path / 'm.yaml').write_text(yaml.safe_dump(dict(run_id='r', notebook=notebook, parameters=base, configs=configs)))
        return glmlab('sweep', str(tmp_path / 'm.yaml'), '--backend', 'k8s', '--out', str(tmp_path / 'out'), *flags)
    cases = [(sweep([dict(id='a_1'), dict(id='a.1')]), "configs a_1 and a.1 would be one Kubernetes Job (glmlab-r-a-1)"),
             (sweep([dict(id='x' * 70 + '1'), dict(id='x' * 70 + '2')]), 'would be one Kubernetes Job'),
             (sweep([dict(id='a')], '--queue', 'Team A'), "--queue='Team A' is not valid"),
             (sweep([dict(id='a')], '--priority', 'hi/gh'), "--priority='hi/gh' is not valid"),
             (sweep([dict(id='a')], '--gpu-product', '8x-b200=NVIDIA B200'), "is not valid; expected a Kubernetes label value"),
             (sweep([dict(id='a')], notebook='nbs/nope.ipynb'), "notebook='nbs/nope.ipynb' is not valid"),
             (sweep([dict(id='a', baseline_recipe='bf16')]), 'config a: glm-5.2 / bf16 on 8x-b200 does not fit')]
    for r, message in cases:
        assert r.returncode == 2 and r.stderr.count('\n') == 1 and message in r.stderr, (message, r.stderr)
    assert not (tmp_path / 'out').exists()

def _finished(root:Path, run:str, cid:str, status:str='done', ended:str|None='2026-12-02T10:00:00+0000', **params):
    d = root / run / cid; d.mkdir(parents=True)
    run = params.pop('says_run', run)   # what the manifest says, where a test makes it lie
    (d / 'manifest.json').write_text(json.dumps(dict(run_id=run, config_id=cid, status=status, pid=7, host='node-a', parameters={**dict(hardware='8x-b200', model='glm-5.2', recipe='nvfp4-glm'), **params},
                                                     code='c0de', started='2026-12-02T09:00:00+0000', ended=ended, seconds=3600.0, error=None)))
    (d / 'run.ipynb').write_text('{}'); (d / 'bench.csv').write_text('recipe,concurrency\nnvfp4-glm,1\n')
    return d

def test_collect_reads_finished_jobs_into_the_runs_folder(tmp_path):
    results, runs = tmp_path / 'results', tmp_path / 'runs'
    _finished(results, 'blackwell', 'a'); _finished(results, 'blackwell', 'b', status='failed')
    (results / 'blackwell' / 'c').mkdir(); (results / 'blackwell' / 'c' / 'manifest.json').write_text('{"status": ')   # a Job killed mid-write
    _finished(results, 'blackwell', '.d.new')                                                                        # an attempt in progress
    _finished(results, 'two-nodes', 'e', hardware='8x-h200', baseline_recipe='fp8', nodes=2)                         # a group's
    r = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert r.returncode == 0 and 'collected 3 configuration(s): blackwell/a, blackwell/b, two-nodes/e' in r.stdout, (r.stdout, r.stderr)
    assert 'blackwell/c: not collected: corrupt manifest' in r.stdout, r.stdout
    assert (runs / 'blackwell/a/bench.csv').read_text().startswith('recipe') and not (runs / 'blackwell/c').exists() and not (runs / 'blackwell/.d.new').exists()
    again = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert 'none new' in again.stdout, again.stdout   # what is here is as new: nothing copied twice
    from glmlab.lab.aggregate import load_runs
    t = load_runs(runs, say=lambda s: None)
    assert sorted(t['manifests'].config_id) == ['a', 'b', 'e'] and t['bench'].config_id.tolist() == ['a', 'e'], t['manifests']

def _tree(d:Path) -> dict:
    "Every path under `d` (links not followed) with its bytes or link target: what a read-only reader leaves as it was."
    out = {}
    for here, dirs, files in os.walk(d):
        for x in dirs + files:
            p = Path(here) / x
            out[str(p.relative_to(d))] = os.readlink(p) if p.is_symlink() else (p.read_bytes() if p.is_file() else 'dir')
    return out

def test_collect_reads_a_hostile_results_folder_as_data(tmp_path):
    """Links out of the folder, a manifest naming another run, a done one without its table, one still running: only
    the regular files of the good configurations are copied, each bad one is named, the source is left unchanged."""
    results, runs, outside = tmp_path / 'results', tmp_path / 'runs', tmp_path / 'outside'
    (outside / 'secret').mkdir(parents=True); (outside / 'secret' / 'key').write_text('k'); (outside / 'passwd').write_text('p')
    good = _finished(results, 'r', 'good')
    (good / 'stolen.txt').symlink_to(outside / 'passwd'); (good / 'dir').symlink_to(outside / 'secret')
    _finished(results, 'r', 'other', says_run='elsewhere')                                                   # names another run
    (_finished(results, 'r', 'notable') / 'bench.csv').unlink()                                          # done, no table
    (results / 'r' / 'linked').symlink_to(outside)                                                       # a linked folder
    _finished(results, 'r', 'running', status='running', ended=None)                                     # still running
    m = _finished(results, 'r', 'bad') / 'manifest.json'; m.write_text(m.read_text().replace('"pid": 7', '"pid": -1'))
    before = _tree(results)
    r = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert r.returncode == 0 and 'collected 1 configuration(s): r/good' in r.stdout, (r.stdout, r.stderr)
    for name, why in [('other', 'its manifest names elsewhere/other'), ('notable', 'done, but without its bench.csv'), ('bad', 'corrupt manifest')]:
        assert f"r/{name}: not collected: {why}" in r.stdout, (name, r.stdout)
    assert 'r/good: 2 link(s) or special file(s) left behind' in r.stdout, r.stdout
    assert sorted(p.name for p in (runs / 'r' / 'good').iterdir()) == ['bench.csv', 'manifest.json', 'run.ipynb'], list((runs / 'r' / 'good').iterdir())
    assert sorted(p.name for p in (runs / 'r').iterdir()) == ['good'], list((runs / 'r').iterdir())   # no partial copy, nothing else
    assert _tree(results) == before   # read only

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
