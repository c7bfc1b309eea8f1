"""One answer per question: `glmlab footprint`, `glmlab serve --dry-run`, the explorer, `glmlab serve --k8s` and a
GPU sweep's configuration size a deployment from the same objects and write the flags they sized with. Each surface's
`vllm serve` command is read back with vLLM's own argument parser and sized again from those flags alone: its KV pool
and cache dtype must be `glmlab footprint`'s. And every suggested fix is a set of flags `glmlab footprint` accepts
that makes the deployment fit at the pool it states."""
import json, re, shlex
import pytest, yaml
from glmlab.cli import main
from glmlab.footprint.fit import checkpoint_quantization
from glmlab.footprint.observed import flags_deployment
from glmlab.lab.experiment import gpu_command
from glmlab.serving.explore import DEFAULTS, view

RECIPES, HARDWARE, CONTEXTS = ('nvfp4-glm', 'fp8', 'bf16'), ('8x-h200', '8x-b200', '8x-rtx-pro-6000'), (131_072, 1_048_576)
CASES = [(r, h, c) for r in RECIPES for h in HARDWARE for c in CONTEXTS]

@pytest.fixture(scope='module')
def vllm_args():
    "vLLM's own parser of `vllm serve` arguments, and its defaults: a command's flags as vLLM reads them."
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser
    p = make_arg_parser(FlexibleArgumentParser())
    base = {}
    def read(argv:list[str]) -> dict:
        i = argv.index('vllm')   # environment assignments may come first
        assert argv[i + 1] == 'serve', argv
        args = ['--model', argv[i + 2], *argv[i + 3:]]
        if argv[i + 2] not in base: base[argv[i + 2]] = vars(p.parse_args(['--model', argv[i + 2]]))
        got = vars(p.parse_args(args))
        return {k: v for k, v in got.items() if v != base[argv[i + 2]][k]}
    return read

def _pool(argv:list[str], read, recipe:str, hw:str) -> tuple[int, str]:
    "The KV pool and cache dtype of the deployment `argv` runs, sized from its flags alone."
    d = flags_deployment('glm-5.2', recipe, hw, read(argv), quantization=checkpoint_quantization('glm-5.2', recipe))
    return d.kv_pool_tokens, d.kv_cache_dtype

def _cli(capsys, *args) -> str:
    rc = main(list(args)); out = capsys.readouterr().out
    assert rc == 0, out
    return out

@pytest.mark.parametrize('recipe,hw,ctx', CASES)
def test_every_surface_sizes_the_same_pool(recipe, hw, ctx, vllm_args, capsys, tmp_path):
    flags = ['--model', 'glm-5.2', '--recipe', recipe, '--hardware', hw, '--max-model-len', str(ctx)]
    fp = json.loads(_cli(capsys, 'footprint', *flags, '--json'))
    want = (fp['kv_pool_tokens'], fp['kv_cache_dtype'])
    dry = shlex.split(_cli(capsys, 'serve', *flags, '--dry-run').splitlines()[0])
    rc = main(['serve', *flags, '--k8s', str(tmp_path / 'k8s.yaml')]); out = capsys.readouterr()
    surfaces = [('serve --dry-run', dry)]
    if fp['fits']:   # a manifest is written only for a deployment that fits; else refused with the fix, as serve says it
        assert rc == 0, out.err
        deploy = next(d for d in yaml.safe_load_all((tmp_path / 'k8s.yaml').read_text()) if d['kind'] == 'Deployment')
        surfaces.append(('--k8s', shlex.split(deploy['spec']['template']['spec']['containers'][0]['args'][0])))
    else:
        assert rc == 2 and 'does not fit' in out.err and not (tmp_path / 'k8s.yaml').exists(), (rc, out.err)
        assert not fp['suggestions'] or f"fix: {fp['suggestions'][0]}" in out.err, (fp['suggestions'], out.err)
    shown = view({**DEFAULTS, 'model': 'glm-5.2', 'recipe': recipe, 'hardware': hw, 'max_model_len': ctx})
    explorer = shlex.split(shown.command[0])
    sweep = gpu_command(dict(hardware=hw, model='glm-5.2', recipe=recipe, baseline_recipe='bf16' if recipe != 'bf16' else 'fp8',
                             max_model_len=ctx), recipe).argv
    got = {name: _pool(argv, vllm_args, recipe, hw) for name, argv in surfaces + [('explorer', explorer), ('sweep', sweep)]}
    got['explorer, as shown'] = (shown.deployment.kv_pool_tokens, shown.deployment.kv_cache_dtype)
    assert all(v == want for v in got.values()), (want, got)
    kv = vllm_args(dry).get('kv_cache_dtype')   # the cache sized is written out where vLLM's `auto` would run another
    assert (kv is None) == (fp['kv_cache_dtype'] == 'bf16'), (kv, fp['kv_cache_dtype'], dry)

def test_the_issues_case_fp8_on_h200_with_mtp(vllm_args, capsys):
    "GLM-5.2 FP8 on 8x H200 at 200K with MTP: footprint, serve and the explorer agree (BF16 cache, as the FP8 checkpoint runs)."
    flags = ['--model', 'glm-5.2', '--recipe', 'fp8', '--hardware', '8x-h200', '--max-model-len', '200000', '--mtp']
    for dcp in ('1', '2'):
        fp = json.loads(_cli(capsys, 'footprint', *flags, '--dcp', dcp, '--json'))
        dry = shlex.split(_cli(capsys, 'serve', *flags, '--dcp', dcp, '--dry-run').splitlines()[0])
        shown = view({**DEFAULTS, 'model': 'glm-5.2', 'recipe': 'fp8', 'hardware': '8x-h200', 'max_model_len': 200000, 'mtp': True, 'dcp': int(dcp)})
        got = (_pool(dry, vllm_args, 'fp8', '8x-h200'), shown.deployment.kv_pool_tokens)
        assert got == ((fp['kv_pool_tokens'], 'bf16'), fp['kv_pool_tokens']), (dcp, fp['kv_pool_tokens'], got)

FIX_CASES = [('glm-5.2', r, h, c) for r in RECIPES for h in HARDWARE + ('8x-h100', '4x-rtx-pro-6000') for c in CONTEXTS]

@pytest.mark.parametrize('model,recipe,hw,ctx', FIX_CASES)
def test_every_fix_is_flags_glmlab_accepts_and_fits_as_stated(model, recipe, hw, ctx, capsys):
    flags = ['--model', model, '--recipe', recipe, '--hardware', hw, '--max-model-len', str(ctx)]
    fp = json.loads(_cli(capsys, 'footprint', *flags, '--json'))
    for fix in fp['suggestions']:
        head, why = fix.split(': ', 1)
        fixed = json.loads(_cli(capsys, 'footprint', *flags, *shlex.split(head), '--json'))   # the user's command and the fix
        assert fixed['fits'], (fix, fixed['reasons'])
        stated = [int(n.replace(',', '')) for n in re.findall(r'([\d,]+) (?:KV )?tokens', why)]
        assert fixed['kv_pool_tokens'] in stated, (fix, fixed['kv_pool_tokens'])   # the pool it says is the pool it gets
