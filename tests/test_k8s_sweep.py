"""`glmlab sweep --backend k8s`: one Job per configuration and the Kueue objects, validated offline (kubernetes-validate
for the Jobs; the Kueue v1beta2 objects against the JSON schemas published for its CRDs, kept in tests/data/k8s with
their source), and `--collect` reading a results folder laid out as finished Jobs leave it."""
import json, shlex
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
    matrix = yaml.safe_load((ROOT / 'data/sweeps/blackwell.yaml').read_text())
    assert len(jobs) == len(matrix.get('configs', [])) or jobs, jobs
    for j in jobs:
        kv.validate(j, K8S_VERSION, strict=True)
        pod = j['spec']['template']['spec']
        assert (j['spec']['backoffLimit'], pod['restartPolicy']) == (0, 'Never')
        assert j['metadata']['labels']['kueue.x-k8s.io/queue-name'] == 'gpu-team' and j['metadata']['labels']['kueue.x-k8s.io/priority-class'] == 'high'
        assert pod['nodeSelector'] == {'nvidia.com/gpu.product': 'NVIDIA-B200-SXM6'}, pod.get('nodeSelector')
        assert pod['containers'][0]['resources']['limits']['nvidia.com/gpu'] == 8
        script = pod['containers'][0]['args'][0]
        one = yaml.safe_load(script.split("<<'GLMLAB_MATRIX'\n", 1)[1].split('GLMLAB_MATRIX', 1)[0])   # the pod's own one-configuration matrix
        from glmlab.lab.sweep import load_matrix
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

def _finished(root:Path, run:str, cid:str, status:str='done', ended:str='2026-12-02T10:00:00+0000'):
    d = root / run / cid; d.mkdir(parents=True)
    (d / 'manifest.json').write_text(json.dumps(dict(run_id=run, config_id=cid, status=status, pid=7, host='node-a', parameters=dict(hardware='8x-b200', model='glm-5.2', recipe='nvfp4-glm'),
                                                     code='c0de', started='2026-12-02T09:00:00+0000', ended=ended, seconds=3600.0, error=None)))
    (d / 'run.ipynb').write_text('{}'); (d / 'bench.csv').write_text('recipe,concurrency\nnvfp4-glm,1\n')
    return d

def test_collect_reads_finished_jobs_into_the_runs_folder(tmp_path):
    results, runs = tmp_path / 'results', tmp_path / 'runs'
    _finished(results, 'blackwell', 'a'); _finished(results, 'blackwell', 'b', status='failed')
    (results / 'blackwell' / 'c').mkdir(); (results / 'blackwell' / 'c' / 'manifest.json').write_text('{"status": ')   # a Job killed mid-write
    _finished(results, 'blackwell', '.d.new')                                                                        # an attempt in progress
    r = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert r.returncode == 0 and 'collected 2 configuration(s): blackwell/a, blackwell/b' in r.stdout, (r.stdout, r.stderr)
    assert 'corrupt manifest' in r.stdout and str(results / 'blackwell/c/manifest.json') in r.stdout, r.stdout
    assert (runs / 'blackwell/a/bench.csv').read_text().startswith('recipe') and not (runs / 'blackwell/c').exists() and not (runs / 'blackwell/.d.new').exists()
    again = glmlab('sweep', '--collect', str(results), '--runs-dir', str(runs))
    assert 'none new' in again.stdout, again.stdout   # what is here is as new: nothing copied twice
    from glmlab.lab.aggregate import load_runs
    t = load_runs(runs, say=lambda s: None)
    assert sorted(t['manifests'].config_id) == ['a', 'b'] and t['bench'].config_id.tolist() == ['a'], t['manifests']

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
