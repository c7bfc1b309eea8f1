"""`glmlab calibrate`: a start-up log of the user's own server becomes a local observation, and `glmlab footprint` of
that deployment then reports the calibrated pool beside the modelled one: on this machine's own CPU server (the
suite's shared one) and on two published GPU logs kept as fixtures (tests/data/vllm-logs, with their sources)."""
import json
from conftest import ROOT, glmlab, SERVERS

LOGS = ROOT / 'tests/data/vllm-logs'

def _footprint(out, *args):
    r = glmlab('footprint', *args, '--json', GLMLAB_OUTPUTS_PATH=str(out))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)

def test_published_gpu_logs_calibrate_their_deployments(tmp_path):
    out = tmp_path / 'outputs'
    r = glmlab('calibrate', str(LOGS / 'qwen2-7b-a100-80gb-util050.log'), '--model', 'qwen2-7b', '--recipe', 'bf16', '--hardware', '1x-a100-80gb', GLMLAB_OUTPUTS_PATH=str(out))
    assert r.returncode == 0 and 'logged 24.83 GiB' in r.stdout, (r.stdout, r.stderr)   # flags from the log's own non-default args
    j = _footprint(out, '--model', 'qwen2-7b', '--recipe', 'bf16', '--hardware', '1x-a100-80gb', '--gpu-memory-utilization', '0.5', '--max-model-len', '16384', '--vllm-version', '0.10.1')
    c = j['calibrated']
    assert abs(c['kv_budget_bytes'] / 2**30 - 24.83) < 0.01 and abs(c['kv_pool_tokens'] / 464_848 - 1) < 0.001, c   # the logged pool, 16-token blocks
    longer = _footprint(out, '--model', 'qwen2-7b', '--recipe', 'bf16', '--hardware', '1x-a100-80gb', '--gpu-memory-utilization', '0.9', '--vllm-version', '0.10.1')
    assert longer['calibrated']['kv_budget_bytes'] - longer['per_gpu'][0]['kv_budget_bytes'] == c['shift_bytes'], longer['calibrated']   # the rig's correction carried over
    r = glmlab('calibrate', str(LOGS / 'qwen3-235b-fp8-4x-rtx-pro-6000.log'), '--model', 'qwen3-235b-a22b', '--recipe', 'fp8', '--hardware', '8x-rtx-pro-6000',
               '--flag', 'tensor_parallel_size=4', '--flag', 'gpu_memory_utilization=0.9', '--flag', 'max_num_seqs=32', '--flag', 'max_model_len=32768',
               '--flag', 'kv_cache_dtype=auto', GLMLAB_OUTPUTS_PATH=str(out))
    assert r.returncode == 0 and 'logged 27.85 GiB' in r.stdout, (r.stdout, r.stderr)
    j = _footprint(out, '--model', 'qwen3-235b-a22b', '--recipe', 'fp8', '--hardware', '8x-rtx-pro-6000', '--tp', '4', '--pp', '1', '--no-ep', '--gpu-memory-utilization', '0.9',
                   '--max-num-seqs', '32', '--max-model-len', '32768', '--kv-cache-dtype', 'auto', '--vllm-version', '0.27.1')
    assert abs(j['calibrated']['kv_pool_tokens'] / 621_392 - 1) < 0.002, (j['calibrated'], j['kv_pool_tokens'])
    cases = (out / 'calibration/observations.yaml').read_text()
    assert cases.count('- id: local-') == 2, cases[:400]
    bad = glmlab('calibrate', str(LOGS / 'SOURCES.md'), '--model', 'qwen2-7b', '--recipe', 'bf16', '--hardware', '1x-a100-80gb', GLMLAB_OUTPUTS_PATH=str(out))
    assert bad.returncode == 2 and bad.stderr.count('glmlab: error:') == 1 and "no 'Available KV cache memory'" in bad.stderr, bad.stderr

@SERVERS
def test_the_cpu_servers_own_log_calibrates(shared_servers, tmp_path):
    "The suite's CPU server (BF16 proxy) logged its pool; calibrating on it gives that pool for its own deployment."
    from glmlab.footprint.observed import harvest
    srv = shared_servers.servers['bf16']
    logged = harvest(srv.log())
    out = tmp_path / 'outputs'
    r = glmlab('calibrate', str(srv.log_path), '--model', 'tiny-glm4', '--recipe', 'bf16', '--hardware', 'cpu', GLMLAB_OUTPUTS_PATH=str(out))
    assert r.returncode == 0 and f"{logged['kv_cache_tokens']}" in r.stdout, (r.stdout, r.stderr, logged)
    j = _footprint(out, '--model', 'tiny-glm4', '--recipe', 'bf16', '--hardware', 'cpu', '--max-model-len', '512')
    assert abs(j['calibrated']['kv_pool_tokens'] / logged['kv_cache_tokens'] - 1) < 0.01, (j['calibrated'], logged)

def test_a_corrupt_local_calibration_file_is_named_and_skipped(tmp_path):
    "A damaged outputs/calibration/observations.yaml (the probe's fault) used to stop every `glmlab footprint`: now one warning names it."
    out = tmp_path / 'outputs'; f = out / 'calibration' / 'observations.yaml'; f.parent.mkdir(parents=True)
    for garbage in (b'cases: [{id: 7}]', b'cases: [', b'\xff\xfe\x00', b'- 1'):
        f.write_bytes(garbage)
        r = glmlab('footprint', '--json', GLMLAB_OUTPUTS_PATH=str(out))
        assert r.returncode == 0 and 'calibrated' not in json.loads(r.stdout), (garbage, r.stderr)
        assert r.stderr.count('glmlab: warning:') == 1 and str(f) in r.stderr and 'skipped' in r.stderr, (garbage, r.stderr)
