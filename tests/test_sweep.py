"""glmlab sweep with papermill: a two-configuration sweep interrupted midway resumes without redoing the finished
configuration, no server outlives the interruption, and a failing configuration is recorded while the sweep goes on."""
import json, os, signal, subprocess, time
import psutil, pytest, yaml
from conftest import ROOT, exe, clean_env

SMALL = dict(hardware='cpu', model='tiny-glm4', recipe='nvfp4-glm', baseline_recipe='bf16', num_prompts=4, input_len=16,
             output_len=8, eval_items=10, logprobs=5, max_model_len=256)

def _matrix(path, configs):
    path.write_text(yaml.safe_dump(dict(run_id='t', notebook='nbs/30_run.ipynb', parameters=SMALL, configs=configs)))
    return path

def _sweep(matrix, runs, **kw):
    return subprocess.Popen([exe('glmlab'), 'sweep', str(matrix), '--runs-dir', str(runs)], cwd=ROOT, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)

def _status(runs, cid):
    m = runs / 't' / cid / 'manifest.json'
    return json.loads(m.read_text()) if m.exists() else {}

def _vllm_servers():
    return [p for p in psutil.process_iter(['cmdline', 'status'])
            if 'vllm.entrypoints.openai.api_server' in ' '.join(p.info['cmdline'] or []) and p.info['status'] != psutil.STATUS_ZOMBIE]

@pytest.fixture(scope='module')
def runs(tmp_path_factory): return tmp_path_factory.mktemp('runs')

def test_interrupted_sweep_resumes_without_redoing(runs, tmp_path):
    m = _matrix(tmp_path / 'm.yaml', [dict(id='a', concurrency=[1]), dict(id='b', concurrency=[2])])
    p = _sweep(m, runs)
    deadline = time.time() + 600
    while time.time() < deadline and not (_status(runs, 'a').get('status') == 'done' and _status(runs, 'b').get('status') == 'running'):
        assert p.poll() is None, p.stdout.read()
        time.sleep(1)
    time.sleep(8)                                   # b is under way (its servers starting)
    os.killpg(p.pid, signal.SIGINT)                 # Ctrl-C in a terminal reaches the whole foreground group
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, _status(runs, 'b').get('status'), _status(runs, 'b').get('error'), out[-1500:])
    done_a = _status(runs, 'a')
    assert done_a['status'] == 'done' and _status(runs, 'b')['status'] in ('interrupted', 'running')
    time.sleep(2)
    assert _vllm_servers() == []
    r = subprocess.run([exe('glmlab'), 'sweep', str(m), '--runs-dir', str(runs)], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert 'a: done at' in r.stderr + r.stdout                   # skipped, not rerun
    assert _status(runs, 'a')['ended'] == done_a['ended']
    b = _status(runs, 'b')
    assert b['status'] == 'done' and b['parameters']['concurrency'] == [2] and (runs / 't' / 'b' / 'run.ipynb').exists()
    assert 'concurrency = [2]' in (runs / 't' / 'b' / 'run.ipynb').read_text()   # papermill injected the parameters

def test_failed_configuration_is_recorded_and_the_sweep_goes_on(runs, tmp_path):
    m = _matrix(tmp_path / 'm.yaml', [dict(id='too-big', concurrency=[1], kv_cache_space_gib=100000), dict(id='a', concurrency=[1])])
    r = subprocess.run([exe('glmlab'), 'sweep', str(m), '--runs-dir', str(runs)], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 1
    bad = _status(runs, 'too-big')
    assert bad['status'] == 'failed' and bad['error'].startswith('ServerError') and '\n' not in bad['error']
    assert 'a: done at' in r.stderr + r.stdout and _status(runs, 'a')['status'] == 'done'   # the sweep went on
    assert _vllm_servers() == []

def test_bad_parameter_stops_before_anything_runs(tmp_path):
    m = _matrix(tmp_path / 'm.yaml', [dict(id='a', concurrency=[1]), dict(id='typo', concurency=[2])])
    r = subprocess.run([exe('glmlab'), 'sweep', str(m), '--runs-dir', str(tmp_path / 'runs')], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and "config typo: unknown parameter 'concurency'" in r.stderr
    assert not (tmp_path / 'runs').exists()

def test_experiment_notebook_rejects_a_bad_parameter(tmp_path):
    import papermill as pm
    with pytest.raises(pm.PapermillExecutionError, match='parameter concurrency'):
        pm.execute_notebook(str(ROOT / 'nbs/30_run.ipynb'), str(tmp_path / 'out.ipynb'), parameters=dict(concurrency=[0]),
                            kernel_name='glmlab', cwd=str(ROOT / 'nbs'), progress_bar=False)
