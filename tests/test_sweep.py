"""glmlab sweep with papermill: a sweep interrupted midway resumes without redoing a finished configuration (the main
job's own experiment serves as that one), no server outlives the interruption, and a failing configuration is
recorded while the sweep goes on. The failing configuration asks for more memory than the machine has (glmlab refuses
its servers before starting them); the one interrupted, then finished, runs a small workload on the suite's shared
pair. Two experiments at once start pairs of their own, and each measures only its own."""
import json, os, re, shutil, signal, subprocess, time
import pytest, yaml
from conftest import ROOT, exe, clean_env, holding, SERVERS

MAIN = yaml.safe_load((ROOT / 'data/sweeps/main.yaml').read_text())
SMALL = dict(hardware='cpu', model='tiny-glm4', recipe='nvfp4-glm', baseline_recipe='bf16', num_prompts=4, input_len=16,
             output_len=8, eval_items=10, logprobs=5, repeats=1)   # the default max_model_len: the shared servers' command

def _matrix(path, configs, parameters=SMALL):
    path.write_text(yaml.safe_dump(dict(run_id='t', notebook='nbs/30_run.ipynb', parameters=parameters, configs=configs)))
    return path

def _sweep(matrix, runs, **env):
    "`glmlab sweep` in its own session, its servers' logs under the runs folder's outputs/logs/."
    return subprocess.Popen([exe('glmlab'), 'sweep', str(matrix), '--runs-dir', str(runs)], cwd=ROOT, env=_env(runs, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

def _env(runs, **env): return clean_env(GLMLAB_OUTPUTS_PATH=str(runs.parent / 'outputs'), **env)

def _status(runs, cid):
    m = runs / 't' / cid / 'manifest.json'
    return json.loads(m.read_text()) if m.exists() else {}

def _servers_left(runs):
    "Processes still holding a log of a server this sweep started (a server and its workers write to it)."
    return holding(runs.parent / 'outputs' / 'logs')

@SERVERS
def test_interrupted_sweep_resumes_without_redoing(main_job, shared_servers, tmp_path):
    """[main's finished configuration, a failing one, b]: the first pass skips main, records the failure, goes on
    and is interrupted while b runs; the second skips main again, fails the same way and finishes b."""
    out, _ = main_job
    runs, main_id = tmp_path / 'runs', MAIN['configs'][0]['id']
    shutil.copytree(out / 'runs' / MAIN['run_id'] / main_id, runs / 't' / main_id)   # as if this sweep had finished it
    done_main = _status(runs, main_id)
    assert done_main['status'] == 'done', done_main
    m = _matrix(tmp_path / 'm.yaml', [dict(id=main_id, **MAIN['parameters']),
                                      dict(id='too-big', **SMALL, concurrency=[1], kv_cache_space_gib=100000),
                                      dict(id='b', **SMALL, concurrency=[2])], parameters={})
    p = _sweep(m, runs, **shared_servers.env)
    deadline = time.time() + 600
    while time.time() < deadline and _status(runs, 'b').get('status') != 'running':
        assert p.poll() is None, p.stdout.read()
        time.sleep(0.2)
    os.killpg(p.pid, signal.SIGINT)                 # Ctrl-C in a terminal reaches the whole foreground group
    first, _ = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, _status(runs, 'b'), first[-1500:])
    assert f'{main_id}: done at' in first                          # skipped, not rerun
    bad = _status(runs, 'too-big')
    assert bad['status'] == 'failed' and 'this machine has' in bad['error'], bad   # refused before any server started
    assert _status(runs, 'b')['status'] in ('interrupted', 'running'), _status(runs, 'b')
    time.sleep(2)
    assert (runs.parent / 'outputs' / 'logs').is_dir() and _servers_left(runs) == []
    r = subprocess.run([exe('glmlab'), 'sweep', str(m), '--runs-dir', str(runs)], cwd=ROOT, env=_env(runs, **shared_servers.env),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-3000:]   # too-big failed; the sweep went on
    assert f'{main_id}: done at' in r.stderr + r.stdout and _status(runs, main_id)['ended'] == done_main['ended']
    bad = _status(runs, 'too-big')
    assert bad['status'] == 'failed' and bad['error'].startswith('ServerError') and '\n' not in bad['error'], bad
    b = _status(runs, 'b')
    assert b['status'] == 'done' and b['parameters']['concurrency'] == [2] and (runs / 't' / 'b' / 'run.ipynb').exists(), b
    assert 'concurrency = [2]' in (runs / 't' / 'b' / 'run.ipynb').read_text()   # papermill injected the parameters
    assert (pred := (runs / 't' / 'b' / 'predictions.csv').read_text()).count(',shared') == 2, pred   # b used the shared pair
    assert _servers_left(runs) == []

def test_bad_parameter_stops_before_anything_runs(tmp_path):
    m = _matrix(tmp_path / 'm.yaml', [dict(id='a', concurrency=[1]), dict(id='typo', concurency=[2])])
    r = subprocess.run([exe('glmlab'), 'sweep', str(m), '--runs-dir', str(tmp_path / 'runs')], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and "config typo: unknown parameter 'concurency'" in r.stderr, r.stderr
    assert not (tmp_path / 'runs').exists()

def test_experiment_notebook_rejects_a_bad_parameter(tmp_path):
    import papermill as pm
    with pytest.raises(pm.PapermillExecutionError, match='parameter concurrency'):
        pm.execute_notebook(str(ROOT / 'nbs/30_run.ipynb'), str(tmp_path / 'out.ipynb'), parameters=dict(concurrency=[0]),
                            kernel_name='glmlab', cwd=str(ROOT / 'nbs'), progress_bar=False)

def _requests(log:str) -> int: return sum('"POST /v1/' in l for l in log.splitlines())   # uvicorn's access log: one line per request

def _lifetime(log:str) -> tuple:
    "First and last of vLLM's own timestamps in a server's log ('INFO 12-07 16:08:03'): when it ran, to the second."
    plain = re.sub(r'\x1b\[[0-9;]*m', '', log)   # vLLM may colour its log lines
    ts = re.findall(r'(?:DEBUG|INFO|WARNING|ERROR) (\d\d-\d\d \d\d:\d\d:\d\d) ', plain)
    return ts[0], ts[-1]

def test_two_experiments_at_once_measure_only_their_own_servers(proxies, tmp_path):
    """Two experiments started at the same moment in two outputs folders, as two clones on one machine: each starts
    its own pair (ports reserved across processes, every server answering to a name of its own that clients check),
    and every server receives exactly its own experiment's requests: the same number as its twin in the other run.
    Servers of the two runs that were up at the same time hold different ports; when the machine's memory was short
    (other tests' servers), the second pair waited for the first to end instead (glmlab's memory admission) and may
    reuse its ports."""
    m = _matrix(tmp_path / 'm.yaml', [dict(id='n', concurrency=[2])])
    runs = [tmp_path / x / 'runs' for x in 'ab']
    ps = [_sweep(m, r) for r in runs]   # no servers file: neither may use the other's servers
    outs = [p.communicate(timeout=900)[0] for p in ps]
    assert [p.returncode for p in ps] == [0, 0], [o[-2000:] for o in outs]
    seen = {}
    for r in runs:
        logs = sorted((r.parent / 'outputs' / 'logs').glob('vllm-*.log'))
        assert len(logs) == 2, logs
        for f in logs:
            text = f.read_text(errors='replace')
            role = 'twin' if 'bf16-twin' in text.split('non-default args', 1)[-1][:2000] else 'proxy'
            port = int(text.split('Starting vLLM server on http://127.0.0.1:', 1)[1][:5].strip())
            seen[(r.parent.name, role)] = (_requests(text), port, _lifetime(text))
        pred = (r / 't' / 'n' / 'predictions.csv').read_text()
        assert pred.count(',own') == 2, pred   # its own servers, not the other run's
    both = [(x, y) for x in seen for y in seen if x[0] == 'a' and y[0] == 'b']
    overlapped = [(x, y) for x, y in both if max(seen[x][2][0], seen[y][2][0]) < min(seen[x][2][1], seen[y][2][1])]
    assert all(seen[x][1] != seen[y][1] for x, y in overlapped), seen         # up at once: never one port
    waited = [r for r in runs if 'waiting for memory' in (r / 't' / 'n' / 'run.ipynb').read_text()]   # the kernel's stderr
    assert overlapped or waited, (seen, [o[-1000:] for o in outs])          # one after the other only by admission
    assert seen[('a', 'proxy')][0] == seen[('b', 'proxy')][0] > 0 and seen[('a', 'twin')][0] == seen[('b', 'twin')][0] > 0, seen
    assert _servers_left(runs[0]) == [] and _servers_left(runs[1]) == []
