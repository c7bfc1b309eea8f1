"""glmlab quantize / validate as a user runs them, on both proxies; bad input gets one line."""
import json
import pytest
from conftest import ROOT, glmlab

# The CLI's quantize/validate path once, on the DSA proxy with NVIDIA's layout; every (proxy, recipe) pair is quantized
# and validated through the same library functions in nbs/16_quant.validate.ipynb, so the CLI is not run for each.
@pytest.fixture(scope='module')
def exported(proxies, tmp_path_factory):
    out = tmp_path_factory.mktemp('quantize') / 'tiny-glm5-nvfp4-glm'
    r = glmlab('quantize', '--model', 'tiny-glm5', '--recipe', 'nvfp4-glm', '--out', str(out), '--dequantize')
    assert r.returncode == 0 and 'validate: ok' in r.stdout, r.stdout + r.stderr[-3000:]
    return out

def test_quantize_then_validate(exported):
    v = json.loads(glmlab('validate', str(exported), '--json').stdout)
    assert v['ok'] and v['bytes_found'] == v['bytes_predicted'] and v['recipe'] == 'nvfp4-glm'
    twin = json.loads(glmlab('validate', str(exported.with_name(f'{exported.name}-bf16-twin')), '--json').stdout)
    assert twin['ok'] and twin['recipe'] == 'bf16'
    assert (exported / 'hf_quant_config.json').is_file() and json.loads((exported / 'config.json').read_text())['quantization_config']['quant_method'] == 'modelopt'

def test_plan_downloads_nothing():
    r = glmlab('quantize', '--model', 'glm-5.2', '--recipe', 'nvfp4-glm', '--plan')
    assert r.returncode == 0 and 'expected output 464.12 GB' in r.stdout and 'mtq.quantize' in r.stdout

def test_validate_reports_mismatches(exported):
    "The export checked against a recipe it does not follow: each tensor in another format named (NVIDIA's layout keeps shared experts in BF16)."
    r = glmlab('validate', str(exported), '--recipe', 'nvfp4-mlp-only')
    assert r.returncode == 1 and 'shared_experts.down_proj.weight: BF16' in r.stdout and 'missing tensor' in r.stdout, r.stdout[-2000:]

def test_bad_input_is_one_line(proxies, tmp_path):
    (tmp_path / 'cfg-only').mkdir()
    (tmp_path / 'cfg-only' / 'config.json').write_text((ROOT / 'data/models/tiny-glm5/config.json').read_text())
    (tmp_path / 'cfg-only' / 'model.safetensors').write_bytes(b'\x00' * 4)
    for args, message in [(('quantize', '--model', 'tiny-glm5', '--recipe', 'int4'), "--recipe='int4' is not valid"),
                          (('quantize', '--model', 'glm-6'), "--model='glm-6' is not valid"),
                          (('quantize', '--model', str(tmp_path / 'cfg-only'), '--out', str(tmp_path / 'x')), 'cannot load the checkpoint'),
                          (('validate', str(tmp_path / 'nowhere')), 'no config.json'),
                          (('validate', str(tmp_path / 'cfg-only'), '--recipe', 'bf16'), 'not a safetensors file'),
                          (('quantize', '--model', 'tiny-glm5', '--plan'), "no source checkpoint known")]:
        r = glmlab(*args)
        assert r.returncode == 2 and r.stderr.strip().count('\n') == 0 and message in r.stderr, (args, r.stderr[-2000:])
    assert not (tmp_path / 'x').exists()

def test_a_checkpoint_folder_works_as_model(proxies, tmp_path):
    r = glmlab('quantize', '--model', str(proxies['tiny-glm5']), '--recipe', 'fp8', '--out', str(tmp_path / 'q'))
    assert r.returncode == 0 and 'validate: ok' in r.stdout, r.stderr[-2000:]
    assert 'UserWarning' not in r.stderr
