"""Parameter counts equal transformers' to the parameter, for every family glmlab reads (tiny configs, meta device).
The models in data/ are checked in nbs/04_footprint.params.ipynb; here each other family and each config variant gets one."""
import pytest
from glmlab.footprint.spec import spec_from_config
from glmlab.footprint.params import glmlab_counts, transformers_counts

BASE = dict(hidden_size=64, num_hidden_layers=4, vocab_size=320, num_attention_heads=4, intermediate_size=96,
            max_position_embeddings=256, tie_word_embeddings=False)
MLA = dict(q_lora_rank=32, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16)
MOE = dict(n_routed_experts=6, num_experts_per_tok=2, moe_intermediate_size=32, n_shared_experts=1)

CONFIGS = {
    'glm_moe_dsa': dict(model_type='glm_moe_dsa', **MLA, **MOE, first_k_dense_replace=1, index_n_heads=2, index_head_dim=16, index_topk=8,
                        index_topk_freq=2, index_skip_topk_offset=1, num_key_value_heads=4),
    'glm_moe_dsa-pattern': dict(model_type='glm_moe_dsa', **MLA, **MOE, index_n_heads=2, index_head_dim=16, index_topk_pattern='FSSF'),
    'glm_moe_dsa-bias': dict(model_type='glm_moe_dsa', **MLA, **MOE, index_n_heads=2, index_head_dim=16, attention_bias=True),
    'deepseek_v3': dict(model_type='deepseek_v3', **MLA, **MOE, first_k_dense_replace=1, n_group=1, topk_group=1),
    'deepseek_v2-no-q-lora': dict(model_type='deepseek_v2', **{**MLA, 'q_lora_rank': None}, **MOE, first_k_dense_replace=1,
                                  n_group=1, topk_group=1, topk_method='greedy'),
    'glm4_moe_lite': dict(model_type='glm4_moe_lite', **MLA, **MOE, n_group=1, topk_group=1),
    'glm4_moe': dict(model_type='glm4_moe', **MOE, num_key_value_heads=2, head_dim=16, first_k_dense_replace=1,
                     attention_bias=True, use_qk_norm=True),
    'glm4_moe-no-qk-norm': dict(model_type='glm4_moe', **MOE, num_key_value_heads=2, head_dim=16, first_k_dense_replace=2),
    'qwen3_moe': dict(model_type='qwen3_moe', num_experts=6, num_experts_per_tok=2, moe_intermediate_size=32,
                      num_key_value_heads=2, head_dim=16, decoder_sparse_step=2, mlp_only_layers=[0]),
    'llama-tied-bias': dict(model_type='llama', num_key_value_heads=2, tie_word_embeddings=True, attention_bias=True, mlp_bias=True),
    'mistral': dict(model_type='mistral', num_key_value_heads=2, head_dim=16),
    'qwen2': dict(model_type='qwen2', num_key_value_heads=2),
    'qwen3': dict(model_type='qwen3', num_key_value_heads=2, head_dim=32),
}

@pytest.mark.parametrize('name', CONFIGS)
def test_counts_equal_transformers(name):
    cfg = {**BASE, **CONFIGS[name]}
    assert glmlab_counts(spec_from_config(cfg, name)) == transformers_counts(cfg)

# What a config.json leaves out is what its family's transformers config class defines (data/families.yaml), as vLLM
# loads it: leaving a field out must not change the answer. The probe's cases: a Qwen3 config without head_dim (128 in
# Qwen3Config, not hidden / heads: the KV cache was 37.5% short) and a Mistral one without num_key_value_heads (8 in
# MistralConfig, not the heads: 4x too large).
LEFT_OUT = {
    'qwen3-no-head-dim': dict(model_type='qwen3', hidden_size=2560, num_hidden_layers=2, vocab_size=320, num_attention_heads=32,
                              num_key_value_heads=8, intermediate_size=96),
    'mistral-no-kv-heads': dict(model_type='mistral', hidden_size=4096, num_hidden_layers=2, vocab_size=320, num_attention_heads=32,
                                intermediate_size=96),
    'glm4_moe-bare': dict(model_type='glm4_moe', hidden_size=64, num_hidden_layers=3, vocab_size=320, num_attention_heads=16, intermediate_size=96),
    'qwen3_moe-bare': dict(model_type='qwen3_moe', hidden_size=64, num_hidden_layers=2, vocab_size=320, num_attention_heads=8, intermediate_size=96),
    'deepseek_v3-bare': dict(model_type='deepseek_v3', hidden_size=64, num_hidden_layers=4, vocab_size=320, num_attention_heads=4,
                             intermediate_size=96, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16, n_group=1, topk_group=1),
}

@pytest.mark.parametrize('name', LEFT_OUT)
def test_left_out_fields_take_transformers_defaults(name):
    from transformers import AutoConfig
    from glmlab.footprint.kvcache import kv_bytes_per_token
    cfg, spec = LEFT_OUT[name], spec_from_config(LEFT_OUT[name], name)
    assert glmlab_counts(spec) == transformers_counts(cfg), name
    hf = AutoConfig.for_model(**cfg)
    if not spec.is_mla:   # GQA: what a token costs, from the config as transformers (and vLLM) fill it in
        head_dim = getattr(hf, 'head_dim', None) or hf.hidden_size // hf.num_attention_heads
        assert kv_bytes_per_token(spec, 'bf16') == 2 * hf.num_hidden_layers * hf.num_key_value_heads * head_dim * 2, (spec, hf)

def test_family_defaults_are_transformers():
    "Every default in data/families.yaml is the one the installed transformers defines, and the rules cover the rest."
    from transformers import AutoConfig
    from glmlab.core.data import load_yaml
    from glmlab.footprint.spec import FAMILIES
    table = load_yaml('families')['defaults']
    assert set(table) == set(FAMILIES), set(table) ^ set(FAMILIES)
    for mt, defaults in table.items():
        hf = AutoConfig.for_model(mt, hidden_size=2560, num_attention_heads=32)
        wrong = {f: (v, getattr(hf, f, None)) for f, v in defaults.items() if getattr(hf, f, None) != v}
        assert not wrong, (mt, wrong)
        if FAMILIES[mt]['attention'] == 'gqa':   # glmlab's rules where the table says nothing
            if 'num_key_value_heads' not in defaults: assert hf.num_key_value_heads == 32, (mt, hf.num_key_value_heads)
            if 'head_dim' not in defaults: assert getattr(hf, 'head_dim', None) in (None, 80), (mt, hf.head_dim)
