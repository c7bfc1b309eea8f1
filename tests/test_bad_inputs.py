"""Property-based tests of every boundary glmlab reads: a `config.json`, the data files, settings and `GLMLAB_*`
variables, CLI flags, matrices, safetensors headers and a checkpoint's side files, manifests. Hypothesis generates
inputs that are wrong (from each boundary's own schema where there is one: pydantic's JSON schema of it says which
values are valid, so the values generated are the ones it must refuse) and each must give exit code 2, exactly one
`glmlab: error:` line, no traceback and no file written. The probe's cases are kept as explicit examples.

The CLI runs in this process (`glmlab.cli.main`), so a few hundred inputs take seconds; a traceback would surface as
the test's own exception. `HYPOTHESIS_PROFILE=explore` runs many more examples, with fresh randomness."""
import contextlib, io, json, math, os, re, shutil, struct
from pathlib import Path
import pytest, yaml
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st
from conftest import ROOT

hsettings.register_profile('ci', max_examples=40, deadline=None, derandomize=True, database=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
hsettings.register_profile('explore', max_examples=1000, deadline=None, database=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
hsettings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))

@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    "A folder whose `out/` is every path glmlab may write to (outputs, cache, servers file) while these tests run."
    d = tmp_path_factory.mktemp('bad-inputs'); (d / 'out').mkdir()
    return d

def _clear_caches():
    "Forget every cached data file and spec (a test edits data/ or points GLMLAB_DATA_PATH elsewhere)."
    import glmlab.core.data, glmlab.footprint.spec, glmlab.footprint.params, glmlab.footprint.kvcache, glmlab.footprint.recipes, glmlab.footprint.placement
    for m in (glmlab.core.data, glmlab.footprint.spec, glmlab.footprint.params, glmlab.footprint.kvcache, glmlab.footprint.recipes, glmlab.footprint.placement):
        for f in vars(m).values():
            if callable(getattr(f, 'cache_clear', None)): f.cache_clear()

@contextlib.contextmanager
def _env(**over):
    old = {k: os.environ.get(k) for k in over}
    os.environ.update({k: str(v) for k, v in over.items()})
    try: yield
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v

def _files(d:Path) -> set: return {p for p in Path(d).rglob('*')}

def cli(sandbox:Path, *argv, **env) -> tuple[int, str, str]:
    "`glmlab *argv` in this process, writing only under `sandbox/out`: (exit code, stdout, stderr)."
    from glmlab.cli import main
    out, err = io.StringIO(), io.StringIO()
    o = sandbox / 'out'
    with _env(GLMLAB_OUTPUTS_PATH=o, GLMLAB_CACHE_PATH=o / 'cache', GLMLAB_SERVERS_FILE=o / 'servers.json', **env):
        _clear_caches()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main([str(a) for a in argv])
        finally: _clear_caches()
    return rc, out.getvalue(), err.getvalue()

def refused(sandbox:Path, *argv, contains:str='', **env) -> str:
    "Assert `glmlab *argv` is refused the way every bad input must be: exit 2, one `glmlab: error:` line, no traceback, nothing written."
    before = _files(sandbox)
    rc, out, err = cli(sandbox, *argv, **env)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('glmlab: error: ') and 'Traceback' not in err, (rc, argv, err[-1500:])
    assert len(lines[0]) <= 420, (len(lines[0]), lines[0])
    assert contains in lines[0], (contains, lines[0])
    assert out == '', out[-500:]
    assert _files(sandbox) == before, sorted(map(str, _files(sandbox) - before))
    return lines[0]

# ---- values a JSON-schema node refuses ---------------------------------------------------------------------------

_JUNK = st.one_of(st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

def refused_by(node:dict) -> st.SearchStrategy:
    "Values that the (pydantic, strict) JSON-schema `node` does not accept: wrong types, numbers out of bounds, strings off the pattern, lists of wrong items."
    alts = [a for a in node.get('anyOf', [node]) if a.get('type') != 'null']
    if len(alts) != 1: raise ValueError(f"a schema node with {len(alts)} non-null types: {node}")
    a, out = alts[0], []
    t = 'object' if '$ref' in a else a.get('type')
    if t == 'integer':
        lo, hi = a.get('minimum'), a.get('maximum')
        if lo is not None: out.append(st.integers(max_value=lo - 1))
        if hi is not None: out.append(st.integers(min_value=hi + 1, max_value=hi * 2**20))
        out += [st.integers(0, 10**6).map(str), st.booleans(), st.floats(), st.text(max_size=6), _JUNK]
    elif t == 'number':
        lo, xlo, hi = a.get('minimum'), a.get('exclusiveMinimum'), a.get('maximum')
        if lo is not None: out.append(st.floats(max_value=lo, exclude_max=True, allow_nan=False))
        if xlo is not None: out.append(st.floats(max_value=xlo, allow_nan=False))
        if hi is not None: out.append(st.floats(min_value=hi, exclude_min=True, allow_infinity=False))
        out += [st.sampled_from([math.inf, -math.inf, math.nan]), st.floats(0, 100).map(str), st.booleans(), st.text(max_size=6), _JUNK]
    elif t == 'boolean': out += [st.sampled_from(['false', 'true', 'yes', 0, 1, 0.0]), st.integers(), _JUNK]
    elif t == 'string':
        out += [st.integers(), st.booleans(), st.floats(), _JUNK]
        if 'pattern' in a: out.append(st.text(max_size=12).filter(lambda s, p=a['pattern']: not re.search(p, s)))
        if 'enum' in a: out.append(st.text(max_size=8).filter(lambda s, e=a['enum']: s not in e))
    elif t == 'array':
        out += [st.integers(), st.text(max_size=6), st.booleans()]
        if 'enum' in a.get('items', {}):
            out.append(st.lists(st.text(max_size=6).filter(lambda s, e=a['items']['enum']: s not in e), min_size=1, max_size=3))
    elif t == 'object': out += [st.integers(), st.text(max_size=6), st.lists(st.integers(), max_size=2)]
    else: raise ValueError(f"no strategy for {a}")
    return st.one_of(out)

def _fields_of(schema, skip=()) -> dict:
    return {k: v for k, v in schema.model_json_schema()['properties'].items() if k not in skip}

# ---- config.json ---------------------------------------------------------------------------------------------------

from glmlab.footprint.spec import HfConfig
_CONFIGS = {m: json.loads((ROOT / 'data/models' / m / 'config.json').read_text()) for m in ('glm-5.2', 'tiny-glm5', 'tiny-glm4', 'glm-4.5')}
_CONFIG_FIELDS = _fields_of(HfConfig, skip=('model_type',))

@st.composite
def broken_config(draw):
    model = draw(st.sampled_from(sorted(_CONFIGS)))
    field = draw(st.sampled_from(sorted(_CONFIG_FIELDS)))
    return model, field, draw(refused_by(_CONFIG_FIELDS[field]))

def _write_config(sandbox, cfg) -> Path:
    p = sandbox / 'config.json'; p.write_text(json.dumps(cfg)); return p

def test_valid_configs_pass(sandbox):
    "The property below is only as good as its base: every config it breaks is accepted as it is."
    for m, cfg in _CONFIGS.items():
        rc, out, err = cli(sandbox, 'footprint', '--model', _write_config(sandbox, cfg), '--hardware', '8x-h200', '--json')
        assert rc == 0 and json.loads(out)['params_total'] > 0, (m, err)

@given(broken_config())
@example(('tiny-glm4', 'num_key_value_heads', '2')).via('probe: string numbers')
@example(('tiny-glm4', 'head_dim', '64')).via('probe')
@example(('tiny-glm5', 'n_routed_experts', '8')).via('probe')
@example(('tiny-glm5', 'first_k_dense_replace', '1')).via('probe')
@example(('glm-5.2', 'num_nextn_predict_layers', '1')).via('probe')
@example(('glm-5.2', 'index_topk_freq', '4')).via('probe')
@example(('glm-5.2', 'index_topk_pattern', 'FSX')).via('probe: letters other than F/S')
@example(('glm-5.2', 'tie_word_embeddings', 'false')).via('probe: "false" is truthy')
@example(('tiny-glm4', 'num_hidden_layers', True)).via('probe: true is not 1')
@example(('glm-5.2', 'n_routed_experts', 256.5)).via('probe: fractional experts')
@example(('glm-5.2', 'hidden_size', -6144)).via('probe: negatives')
@example(('glm-5.2', 'hidden_size', math.inf)).via('probe: a number too large for a float (1e999)')
def test_config_field_refused(sandbox, case):
    model, field, value = case
    cfg = {**_CONFIGS[model], field: value}
    refused(sandbox, 'footprint', '--model', _write_config(sandbox, cfg), '--hardware', '8x-h200', contains=field)

@given(st.sampled_from(sorted(_CONFIGS)), st.data())
def test_config_cross_field_rules(sandbox, model, data):
    "Fields that are each fine but wrong together: per-layer lists of the wrong length, more experts per token than experts, more dense layers than layers, KV heads that do not divide the heads."
    cfg = dict(_CONFIGS[model]); L = cfg['num_hidden_layers']
    experts = cfg.get('n_routed_experts') or cfg.get('num_experts')
    rules = {'mlp_layer_types': lambda: data.draw(st.lists(st.sampled_from(['dense', 'sparse']), min_size=1).filter(lambda v: len(v) != L)),
             'first_k_dense_replace': lambda: data.draw(st.integers(L + 1, 10 * L)),
             'num_experts_per_tok': lambda: data.draw(st.integers(experts + 1, 10 * experts))}
    if 'index_n_heads' in cfg:
        rules['index_topk_pattern'] = lambda: data.draw(st.text('FS', min_size=1, max_size=2 * L).filter(lambda v: len(v) != L))
        rules['indexer_types'] = lambda: data.draw(st.lists(st.sampled_from(['full', 'shared']), min_size=1).filter(lambda v: len(v) != L))
    if 'num_key_value_heads' in cfg and cfg['model_type'] == 'glm4_moe':
        h = cfg['num_attention_heads']
        rules['num_key_value_heads'] = lambda: data.draw(st.integers(1, 2 * h).filter(lambda k: k > h or h % k))
    field = data.draw(st.sampled_from(sorted(rules)))
    cfg[field] = rules[field]()
    refused(sandbox, 'footprint', '--model', _write_config(sandbox, cfg), '--hardware', '8x-h200', contains=field)

@given(st.one_of(st.binary(max_size=64), st.integers(1, len(json.dumps(_CONFIGS['glm-5.2'])) - 1).map(lambda n: json.dumps(_CONFIGS['glm-5.2']).encode()[:n]),
                 st.sampled_from([b'\xff\xfe{}', b'[' * 100_000, b'{"hidden_size": 1' + b'0' * 5000 + b'}', b'[1, 2]', b'null'])))
def test_config_file_refused(sandbox, raw):
    "A file that is not a JSON object of config fields: random bytes, a truncated config, invalid UTF-8, nesting too deep, a number too long."
    p = sandbox / 'config.json'; p.write_bytes(raw)
    refused(sandbox, 'footprint', '--model', p)

def test_a_left_out_field_takes_the_familys_default(sandbox):
    "No max_position_embeddings: vLLM, through transformers' Glm4MoeConfig, serves 131,072 tokens; so does glmlab (data/families.yaml)."
    cfg = {k: v for k, v in _CONFIGS['tiny-glm4'].items() if k != 'max_position_embeddings'}
    rc, out, err = cli(sandbox, 'footprint', '--model', _write_config(sandbox, cfg), '--hardware', 'cpu', '--json')
    assert rc == 0 and json.loads(out)['max_model_len'] == 131072, (rc, err)

@given(st.one_of(st.text(max_size=8), st.integers(), st.lists(st.integers(), max_size=2), st.fixed_dictionaries({'quant_method': st.integers()})))
@example('fp8').via('probe: a string where an object belongs')
def test_quantization_config_refused(sandbox, value):
    "A config's quantization_config is read or refused, never ignored: anything but an object with a quant_method is one line."
    refused(sandbox, 'footprint', '--model', _write_config(sandbox, {**_CONFIGS['tiny-glm4'], 'quantization_config': value}), '--hardware', 'cpu',
            contains='quantization_config=')

# ---- data files --------------------------------------------------------------------------------------------------

from glmlab.core.data import HardwareFile, RecipesFile
_DEVICE_FIELDS = HardwareFile.model_json_schema()['$defs']['_Device']['properties']

@pytest.fixture(scope='module')
def data_copy(sandbox):
    "A copy of data/ outside the sandbox's written part, whose files a test edits (GLMLAB_DATA_PATH points at it)."
    d = sandbox / 'data'; shutil.copytree(ROOT / 'data', d)
    return d

@given(st.sampled_from(['rtx-pro-6000', 'h200', 'cpu']), st.sampled_from(sorted(_DEVICE_FIELDS)), st.data())
def test_hardware_file_field_refused(sandbox, data_copy, device, field, data):
    hw = yaml.safe_load((ROOT / 'data/hardware.yaml').read_text())
    hw['devices'][device][field] = data.draw(refused_by(_DEVICE_FIELDS[field]))
    (data_copy / 'hardware.yaml').write_text(yaml.safe_dump(hw))
    try: refused(sandbox, 'footprint', '--hardware', '8x-h200', contains=f'devices.{device}.{field}', GLMLAB_DATA_PATH=data_copy)
    finally: shutil.copy(ROOT / 'data/hardware.yaml', data_copy / 'hardware.yaml')

@given(st.sampled_from(['device', 'gpus_per_node', 'nodes']), st.data())
def test_hardware_profile_refused(sandbox, data_copy, field, data):
    hw = yaml.safe_load((ROOT / 'data/hardware.yaml').read_text())
    node = HardwareFile.model_json_schema()['$defs']['_Profile']['properties'][field]
    value = data.draw(refused_by(node) if field != 'device' else st.text(max_size=8).filter(lambda s: s not in hw['devices']))
    hw['profiles']['8x-h200'][field] = value
    (data_copy / 'hardware.yaml').write_text(yaml.safe_dump(hw))
    try: refused(sandbox, 'footprint', '--hardware', '8x-h200', contains=f'profiles.8x-h200.{field}', GLMLAB_DATA_PATH=data_copy)
    finally: shutil.copy(ROOT / 'data/hardware.yaml', data_copy / 'hardware.yaml')

@given(st.sampled_from(['kv_cache', 'format', 'rules', 'description']), st.data())
def test_recipes_file_refused(sandbox, data_copy, field, data):
    top = yaml.safe_load((ROOT / 'data/recipes.yaml').read_text())
    r = top['recipes']['nvfp4-glm']
    rec = RecipesFile.model_json_schema()['$defs']['_Recipe']['properties']
    if field == 'format': r['rules'][-1]['format'] = data.draw(st.text(max_size=8).filter(lambda s: s not in top['recipes'] and s not in ('bf16', 'fp8', 'nvfp4', 'fp32')))
    elif field == 'rules': r['rules'] = data.draw(st.one_of(st.just([]), st.integers(), st.lists(st.integers(), min_size=1, max_size=2)))
    else: r[field] = data.draw(refused_by(rec[field]))
    (data_copy / 'recipes.yaml').write_text(yaml.safe_dump(top))
    try: refused(sandbox, 'footprint', '--recipe', 'nvfp4-glm', contains='recipes.yaml', GLMLAB_DATA_PATH=data_copy)
    finally: shutil.copy(ROOT / 'data/recipes.yaml', data_copy / 'recipes.yaml')

# ---- settings and GLMLAB_* variables -----------------------------------------------------------------------------

def _not_a_port_range(s:str) -> bool:
    m = re.fullmatch(r'(\d{1,5})-(\d{1,5})', s)
    return not (m and 1 <= int(m[1]) <= int(m[2]) <= 65535)

def _not_seconds(s:str) -> bool:
    try: v = float(s)
    except ValueError: return True
    return not (0 < v <= 7 * 86400)

@given(st.one_of(st.tuples(st.just('GLMLAB_PORT_RANGE'), st.one_of(st.text(max_size=12), st.tuples(st.integers(0, 99999), st.integers(0, 99999)).map(lambda t: f"{t[0]}-{t[1]}")).filter(_not_a_port_range)),
                 st.tuples(st.sampled_from(['GLMLAB_SERVER_START_TIMEOUT_S', 'GLMLAB_REQUEST_TIMEOUT_S']),
                           st.one_of(st.text(max_size=8), st.floats().map(str), st.integers(-10**6, 0).map(str)).filter(_not_seconds)),
                 st.tuples(st.sampled_from(['GLMLAB_DEFAULT_HARDWARE', 'GLMLAB_DEFAULT_RECIPE', 'GLMLAB_SERVER_HOST']), st.just(''))))
@example(('GLMLAB_PORT_RANGE', '8100')).via('probe')
@example(('GLMLAB_SERVER_START_TIMEOUT_S', 'soon')).via('probe')
def test_settings_variable_refused(sandbox, case):
    var, value = case
    if '\x00' in value: return   # not something an environment can hold
    refused(sandbox, 'footprint', contains=var, **{var: value})

@given(st.text(st.characters(codec='utf-8', exclude_characters='\x00'), min_size=1, max_size=20))
@example('/nonexistent').via('probe')
def test_root_variable_refused(sandbox, value):
    p = Path(value)
    if (p / 'settings.ini').is_file(): return
    refused(sandbox, 'footprint', contains='GLMLAB_ROOT', GLMLAB_ROOT=value)

# ---- CLI flags ---------------------------------------------------------------------------------------------------

def _not_positive_int(s:str) -> bool:
    try: return int(s) <= 0
    except ValueError: return True

_NOT_WHOLE = st.one_of(st.integers(max_value=0).map(str), st.text(max_size=6).filter(_not_positive_int), st.floats(allow_nan=True).map(str))
@given(st.sampled_from(['--tp', '--pp', '--dcp', '--dp', '--nodes', '--max-model-len', '--kv-cache-memory-bytes']), _NOT_WHOLE)
@example('--tp', '0').via('probe: 0 is not "unset"')
@example('--kv-cache-memory-bytes', '0').via('probe')
def test_footprint_flag_refused(sandbox, flag, value):
    refused(sandbox, 'footprint', f'{flag}={value}', contains=flag)

@given(st.one_of(st.floats(max_value=0), st.floats(min_value=1, exclude_min=True), st.sampled_from(['nan', 'inf', '-inf', 'half', ''])))
def test_utilization_refused(sandbox, value):
    refused(sandbox, 'footprint', f'--gpu-memory-utilization={value}', contains='--gpu-memory-utilization')

@given(st.sampled_from(['--model', '--recipe', '--hardware']), st.text(max_size=10))
def test_unknown_names_refused(sandbox, flag, value):
    from glmlab.core.data import hardware_names, model_names, recipe_names
    if value in {'--model': model_names(), '--recipe': recipe_names(), '--hardware': hardware_names()}[flag] or '\x00' in value: return
    if flag == '--model' and Path(value).exists(): return   # a path glmlab would read
    refused(sandbox, 'footprint', f'{flag}={value}', contains=flag)

@given(st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_serve_port_refused(sandbox, port):
    refused(sandbox, 'serve', '--model', 'tiny-glm4', '--recipe', 'bf16', '--hardware', 'cpu', '--checkpoint', 'x', f'--port={port}', contains='--port')

@pytest.mark.parametrize('argv,contains', [
    (('footprint', '--vllm-version', 'abc'), "--vllm-version='abc'"),
    (('quantize', '--model', 'tiny-glm4', '--calib-samples', '0'), '--calib-samples=0'),   # 0 is not "the default"
    (('quantize', '--model', 'tiny-glm4', '--calib-samples', '-3'), '--calib-samples=-3'),
    (('run', '--matrix', 'nope.yaml'), "matrix="),                                       # before the footprint report is written
    (('footprint', '--no-such-flag'), 'unrecognized arguments'),
    (('serve', '--profile', 'nope'), "--profile='nope'")])
def test_other_flags_refused(sandbox, argv, contains):
    refused(sandbox, *argv, contains=contains)

def test_serve_remote_host_needs_the_flag(sandbox):
    refused(sandbox, 'serve', '--model', 'tiny-glm4', '--recipe', 'bf16', '--hardware', 'cpu', '--checkpoint', str(sandbox),
            '--host', '0.0.0.0', contains='--allow-remote')

# A flag that does nothing beside the others given is refused, never dropped: every (flag, combination) of
# glmlab.cli.INERT is generated from the table itself, beside the probe's own cases.
def _inert_cases() -> list[tuple]:
    from glmlab.cli import INERT, parser
    base = {'serve': {'--profile': ['serve', '--profile', 'fp8-h200', '--dry-run'], '--experiment': ['serve', '--experiment', '--dry-run'],
                      'queue': ['serve', '--model', 'tiny-glm4', '--recipe', 'bf16', '--hardware', 'cpu', '--checkpoint', 'x', '--dry-run'],
                      '--k8s': ['serve', '--model', 'glm-5.2', '--k8s', 'out/x.yaml'], '--dry-run': ['serve', '--model', 'glm-5.2', '--dry-run']},
            'sweep': {'local': ['sweep', 'data/sweeps/main.yaml'],                       'k8s': ['sweep', 'data/sweeps/main.yaml', '--backend', 'k8s', '--out', 'out/k'], 'collect': ['sweep', '--collect', 'out/none']},
            'quantize': {'plan': ['quantize', '--model', 'glm-5.2', '--plan']}}
    sub = next(a for a in parser()._actions if a.dest == 'command').choices
    value = {'--tp': '4', '--tensor-parallel-size': '4', '--pp': '2', '--pipeline-parallel-size': '2', '--dcp': '2', '--decode-context-parallel-size': '2',
             '--max-model-len': '8192', '--kv-cache-dtype': 'fp8', '--gpu-memory-utilization': '0.9', '--kv-cache-memory-bytes': '1000000',
             '--max-num-batched-tokens': '2048', '--max-num-seqs': '8', '--block-size': '16', '--nodes': '1', '--dp': '1', '--data-parallel-size': '1', '--port': '9000',
             '--queue': 'q', '--head': '10.0.0.1', '--backend': 'mp', '--k8s': 'out/y.yaml', '--checkpoint': 'x', '--host': '127.0.0.1',
             '--priority': 'high', '--image': 'i', '--gpu-product': 'cpu=x', '--out': 'out/o', '--address': '10.0.0.1:6379', '--run-id': 'r',
             '--model': 'glm-5.2', '--recipe': 'fp8', '--hardware': '8x-h200', '--calib-samples': '8'}
    pick = {'serve': lambda why: next(k for k in ('--profile', '--experiment', '--k8s', '--dry-run') if k in why) if 'queue' not in why else 'queue',
            'sweep': lambda why: 'collect' if '--collect' in why else 'k8s' if 'workload' in why else 'local',
            'quantize': lambda why: 'plan'}
    out = []
    for cmd, rules in INERT.items():
        for flags, _, why in rules:
            argv = base[cmd][pick[cmd](why)]
            for f in flags:
                if f in argv or (cmd == 'sweep' and f == '--backend' and '--collect' not in argv): continue
                takes = sub[cmd]._option_string_actions[f].nargs != 0
                if not takes: out.append((cmd, f, [*argv, f])); continue
                out.append((cmd, f, [*argv, f, 'local' if (cmd, f) == ('sweep', '--backend') else value[f]]))
    return out

@pytest.mark.parametrize('cmd,flag,argv', _inert_cases())
def test_a_flag_that_does_nothing_is_refused(sandbox, cmd, flag, argv):
    refused(sandbox, *argv, contains=f"{flag} has no effect here")

@pytest.mark.parametrize('argv,contains', [   # the probe's cases: dropped silently before
    (('serve', '--model', 'glm-5.2', '--recipe', 'fp8', '--hardware', '8x-h200', '--nodes', '2', '--dp', '16', '--queue', 'team-a', '--dry-run'), '--queue has no effect'),
    (('serve', '--model', 'glm-5.2', '--recipe', 'fp8', '--hardware', '8x-h200', '--backend', 'ray', '--dry-run'), '--backend has no effect here (the plan is one node'),
    (('serve', '--profile', 'fp8-h200', '--tp', '4', '--dry-run'), '--tp has no effect here (--profile sets'),
    (('serve', '--prof', 'fp8-h200', '--dry-run'), 'unrecognized arguments: --prof')])   # abbreviations: what was typed is what was given
def test_the_probes_inert_flags(sandbox, argv, contains):
    refused(sandbox, *argv, contains=contains)

_NOT_AN_ADDRESS = st.one_of(st.text(min_size=1, max_size=40).filter(lambda t: any(c in t for c in ' \n\t;/@$`\'"<>|&*')),
                            st.text(alphabet='ab.', min_size=254, max_size=300), st.just(''), st.sampled_from(['-x', 'a..b', '10.0.0.256']))
@given(_NOT_AN_ADDRESS)
@example('10.0.0.1 ; rm -rf /').via('probe: a command after the address')
@example('a\nb').via('probe: a newline')
@example('h' * 300).via('probe: 300 characters')
def test_addresses_are_validated(sandbox, value):
    if value.startswith('-'): return   # argparse reads it as a flag: refused there already
    refused(sandbox, 'serve', '--model', 'glm-5.2', '--recipe', 'bf16', '--hardware', '8x-h200', '--nodes', '2', '--max-model-len', '131072',
            f'--head={value}', '--dry-run', contains='--head=')
    refused(sandbox, 'cluster', 'node', '--hardware', 'cpu', f'--node-ip={value}', contains='--node-ip=')
    refused(sandbox, 'cluster', 'node', '--hardware', 'cpu', f'--address={value}:6379', contains='--address=')

@given(st.text(min_size=1, max_size=12).filter(lambda t: not re.fullmatch(r' *([+-][a-z0-9_]+ *)*', t) and '\x00' not in t))
@example('avx512f').via('a flag without + or -')
def test_cpu_flags_variable_refused(sandbox, value):
    refused(sandbox, 'footprint', GLMLAB_CPU_FLAGS=value, contains='GLMLAB_CPU_FLAGS')

_JSON_ANY = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4)),
                         lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=4)), max_leaves=8)
@given(st.one_of(_JSON_ANY, st.dictionaries(st.just('KEY'), st.fixed_dictionaries({}, optional={k: _JSON_ANY for k in
                 ('url', 'host', 'port', 'pid', 'owner', 'log', 'nonce', 'started_s')}))))
def test_servers_file_entries_are_proven_or_ignored(sandbox, content):
    "Whatever the servers file holds (edited by hand, another version's, a foreign process's), a server command is never handed an entry it cannot prove."
    from glmlab.serving.server import Command, server_for
    f = sandbox / 'out' / 'servers.json'
    cmd = Command(['vllm', 'serve', '/ckpt', '--max-model-len', '512'])
    key = server_for(cmd, shared=False).key
    f.write_text(json.dumps(content).replace('"KEY"', json.dumps(key)))
    with _env(GLMLAB_SERVERS_FILE=f): assert server_for(cmd).shared_by is None
    f.unlink()

# ---- matrices ----------------------------------------------------------------------------------------------------

from glmlab.lab.experiment import PARAMETERS
def _bad_param(name:str) -> st.SearchStrategy:
    p = PARAMETERS[name]
    if p.type is int:
        return st.one_of(*([st.integers(max_value=p.lo - 1)] if p.lo is not None else []), *([st.integers(min_value=p.hi + 1)] if p.hi else []),
                         st.booleans(), st.integers(1, 99).map(str), st.floats(), st.lists(st.integers(1, 4), max_size=2))
    if p.type is list:
        return st.one_of(st.just([]), st.integers(), st.lists(st.one_of(st.booleans(), st.integers(max_value=0), st.text(max_size=3)), min_size=1, max_size=3))
    return st.one_of(st.integers(), st.booleans(), st.text(max_size=8).filter(lambda s: s not in (p.default, 'bf16', 'fp8', 'nvfp4-glm', 'nvfp4-experts-only',
                                                                                                  'nvfp4-mlp-only', 'nvfp4-all', 'cpu')))

@st.composite
def broken_matrix(draw):
    kind = draw(st.sampled_from(['parameter', 'id', 'run_id', 'shape', 'unknown']))
    if kind == 'parameter':
        k = draw(st.sampled_from(sorted(PARAMETERS)))
        return {'configs': [{'id': 'a', k: draw(_bad_param(k))}]}, k
    if kind == 'id': return {'configs': [{'id': draw(st.one_of(st.sampled_from(['.', '..', '../x', '/tmp/x', 'a/b', '-x']), st.text(min_size=1, max_size=4).filter(lambda s: not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_.=-]*', s))))}]}, 'config id'
    if kind == 'run_id': return {'run_id': draw(st.sampled_from(['..', '../../escaped', '/tmp/abs', 'a/b', '.hidden'])), 'configs': [{'id': 'a'}]}, 'run_id'
    if kind == 'unknown': return {'configs': [{'id': 'a'}], draw(st.sampled_from(['config', 'param', 'runid'])): 1}, 'key'
    return {draw(st.sampled_from(['configs', 'grid', 'parameters'])): draw(st.one_of(st.integers(), st.text(min_size=1, max_size=4), st.lists(st.integers(), min_size=1, max_size=2)))}, ''

@given(broken_matrix())
def test_matrix_refused(sandbox, case):
    matrix, field = case
    m = sandbox / 'matrix.yaml'; m.write_text(yaml.safe_dump(matrix))
    refused(sandbox, 'sweep', m, '--runs-dir', sandbox / 'out' / 'runs', contains=field)
    assert not (sandbox / 'out' / 'runs').exists()

@given(st.binary(max_size=40))
@example(b'configs: [ {id: a\n').via('probe: YAML syntax')
@example(b'\xff\xfe').via('probe: invalid UTF-8')
def test_matrix_file_refused(sandbox, raw):
    m = sandbox / 'matrix.yaml'; m.write_bytes(raw)
    rc, out, err = cli(sandbox, 'sweep', m, '--runs-dir', sandbox / 'out' / 'runs')
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('glmlab: error: ') and not (sandbox / 'out' / 'runs').exists(), (raw, err[-800:])

# ---- safetensors headers and side files --------------------------------------------------------------------------

def _tensor_file(path:Path, header:dict, data:bytes=b'\0' * 64):
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack('<Q', len(h)) + h + data)

@pytest.fixture(scope='module')
def checkpoint(sandbox):
    "A small checkpoint folder: tiny-glm4's config and one well-formed safetensors file (validate finds problems, but reads it)."
    d = sandbox / 'ck'; d.mkdir()
    (d / 'config.json').write_text(json.dumps(_CONFIGS['tiny-glm4']))
    _tensor_file(d / 'model.safetensors', {'__metadata__': {'format': 'pt'}, 'w': {'dtype': 'BF16', 'shape': [4, 8], 'data_offsets': [0, 64]}})
    return d

def test_the_checkpoint_is_read(sandbox, checkpoint):
    rc, out, err = cli(sandbox, 'validate', checkpoint, '--recipe', 'bf16')
    assert rc == 1 and 'missing tensor' in out and err == '', (rc, out[-500:], err[-500:])

from glmlab.quant.validate import DTYPE_BYTES
_ENTRY = {'dtype': {'enum': sorted(DTYPE_BYTES), 'type': 'string'}}
@given(st.one_of(
    st.tuples(st.sampled_from(['dtype']), refused_by(_ENTRY['dtype'])),
    st.tuples(st.just('shape'), st.one_of(st.integers(), st.text(max_size=3), st.lists(st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2), st.booleans()), min_size=1, max_size=3))),
    st.tuples(st.just('data_offsets'), st.one_of(st.integers(), st.lists(st.integers(0, 64), max_size=1), st.lists(st.integers(0, 64), min_size=3, max_size=4),
                                                st.lists(st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2)), min_size=2, max_size=2)))))
def test_safetensors_header_entry_refused(sandbox, checkpoint, case):
    field, value = case
    entry = {'dtype': 'BF16', 'shape': [4, 8], 'data_offsets': [0, 64], field: value}
    _tensor_file(checkpoint / 'model.safetensors', {'w': entry})
    refused(sandbox, 'validate', checkpoint, '--recipe', 'bf16', contains='model.safetensors')

@given(st.one_of(st.binary(max_size=40), st.integers(0, 2**64 - 1).map(lambda n: struct.pack('<Q', n) + b'{}'),
                 st.binary(max_size=30).map(lambda b: struct.pack('<Q', len(b)) + b)))
@example(struct.pack('<Q', 10**12) + b'{}').via('probe: a header length past the end of the file')
def test_safetensors_file_refused(sandbox, checkpoint, raw):
    n = struct.unpack('<Q', raw[:8])[0] if len(raw) >= 8 else None
    try:
        if n is not None and n <= len(raw) - 8 and json.loads(raw[8:8 + n]) == {}: return   # an empty, valid header
    except (ValueError, RecursionError): pass
    (checkpoint / 'model.safetensors').write_bytes(raw)
    refused(sandbox, 'validate', checkpoint, '--recipe', 'bf16', contains='model.safetensors')

from glmlab.quant.validate import CheckpointMeta
@given(st.sampled_from(['glmlab.json', 'hf_quant_config.json']), st.data())
def test_side_file_refused(sandbox, checkpoint, name, data):
    "glmlab.json (which recipe made the checkpoint) and hf_quant_config.json (what modelopt says it did): malformed files and fields."
    if name == 'glmlab.json':
        node = CheckpointMeta.model_json_schema()['properties']['recipe']
        raw = data.draw(st.one_of(st.binary(max_size=20).filter(lambda b: not b.strip().startswith(b'{')), refused_by(node).map(lambda v: json.dumps({'recipe': v}).encode()),
                                  st.just(b'{}'), st.just(b'[]')))
        args = ()   # the recipe comes from glmlab.json
    else:
        raw = data.draw(st.one_of(st.binary(max_size=20).filter(lambda b: not b.strip().startswith(b'{')), st.just(b'{}'),
                                  st.one_of(st.integers(), st.booleans(), st.none(), st.lists(st.text(max_size=2), max_size=2)).map(lambda v: json.dumps({'producer': {'name': v}, 'quantization': {}}).encode())))
        args = ('--recipe', 'nvfp4-glm')
    (checkpoint / name).write_bytes(raw)
    cfg = dict(_CONFIGS['tiny-glm4'], quantization_config={'quant_method': 'modelopt'})
    (checkpoint / 'config.json').write_text(json.dumps(cfg))
    _tensor_file(checkpoint / 'model.safetensors', {'w': {'dtype': 'BF16', 'shape': [4, 8], 'data_offsets': [0, 64]}})
    try: refused(sandbox, 'validate', checkpoint, *args, contains=name)
    finally:
        (checkpoint / name).unlink(); (checkpoint / 'config.json').write_text(json.dumps(_CONFIGS['tiny-glm4']))

# ---- manifests ---------------------------------------------------------------------------------------------------

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)
_GOOD = dict(run_id='r', config_id='c', status='done', pid=1, host='h', parameters={}, code='x', started='t')

@given(st.one_of(st.binary(max_size=30), _JSON.map(lambda v: json.dumps(v).encode()),
                 st.tuples(st.sampled_from(sorted(_GOOD)), _JSON).map(lambda kv: json.dumps({**_GOOD, kv[0]: kv[1]}).encode())))
def test_manifest_read_or_refused_by_name(sandbox, raw):
    "Any manifest.json is either a valid manifest or said by name, in one line, and treated as not done: never a traceback."
    from glmlab.lab.sweep import read_manifest
    p = sandbox / 'manifest.json'; p.write_bytes(raw)
    said = []
    m = read_manifest(p, said.append)
    if m: assert not said and m['status'] in ('done', 'running', 'failed', 'interrupted') and isinstance(m['parameters'], dict), (m, said)
    else: assert len(said) == 1 and str(p) in said[0] and '\n' not in said[0] and len(said[0]) < 500, said
