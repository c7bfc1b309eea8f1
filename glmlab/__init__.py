"""Fit, quantize, serve and measure GLM-5.2 (NVFP4) on one node: exact footprint math, modelopt, vLLM and papermill experiments, reproducible on CPU proxies

Modules:

- `glmlab.cli`: `glmlab footprint`, `run`, `sweep`, `quantize`, `validate` and `serve`: the same library functions the notebooks call, with one-line errors.
- `glmlab.core.data`: The inputs every figure comes from: model configs, quantization recipes, storage formats, the hardware catalog, vLLM's budget parameters and the published claims.
- `glmlab.core.store`: What glmlab keeps on disk: cache keys of everything that decides a result, locks for caches two processes fill, and files and folders written whole.
- `glmlab.footprint.audit`: The post's numbers recomputed two ways, its own naive arithmetic and the tensors' exact arithmetic, side by side, every difference traced to the formula that causes it.
- `glmlab.footprint.budget`: How vLLM turns a GPU's memory into a KV-cache pool: utilization, weights, activation peak, non-torch and CUDA-graph reserves, whole blocks.
- `glmlab.footprint.fit`: Everything together: per component and per GPU, whether a deployment fits, why, and the flags that would make it fit.
- `glmlab.footprint.kvcache`: Bytes of KV cache per token: GQA heads sharded by TP, MLA's latent replicated on every rank, DeepSeek-style FP8 slots, the sparse-attention indexer's own cache, the MTP layer's.
- `glmlab.footprint.observed`: vLLM's start-up logs read as facts, a corpus of published GPU start-ups, and glmlab's budget set beside each: predicted against logged, term by term.
- `glmlab.footprint.params`: Every tensor of the checkpoint, grouped, counted per component from the config alone, and checked to the parameter against transformers.
- `glmlab.footprint.placement`: Which tensors shard and which replicate under tensor, expert, pipeline and decode-context parallelism, and the weight bytes each GPU holds.
- `glmlab.footprint.report`: The footprint as a person reads it: text tables for the terminal, markdown for files, plots for notebooks and the docs, and the catalog-wide report the main job writes.
- `glmlab.lab.aggregate`: Every run under `outputs/runs/` read back into one set of tables, and the figures that compare them: footprint per hardware, the fit matrix, throughput against per-user speed, accuracy deltas, predicted against measured.
- `glmlab.lab.bench`: `vllm bench serve` over a concurrency sweep against a running server, its saved results turned into one tidy table that says what each metric means.
- `glmlab.lab.cluster`: Each configuration of a sweep runs on the hardware it names: a Ray cluster whose nodes are labelled with hardware profiles, or one Kubernetes Job per configuration queued by Kueue.
- `glmlab.lab.experiment`: Checked parameters, then: quantize the proxy, serve baseline and quantized, benchmark both, measure the accuracy regression, and check the footprint's predictions, each table written as it arrives.
- `glmlab.lab.notebooks`: The notebooks whose cells train, quantize or serve, executed whole by `glmlab run` on its own servers, each kept with the date and commit of that run: what their docs pages show.
- `glmlab.lab.regression`: The same prompts to the baseline and the quantized server: per-item exact match with a paired test, and drift of the next-token distribution from the servers' own logprobs.
- `glmlab.lab.roofline`: Upper bounds on decode and prefill speed from bytes and FLOPs per token, beside what was measured: here, and in published runs.
- `glmlab.lab.sweep`: `glmlab sweep MATRIX.yaml`: one executed notebook per configuration, a manifest beside each, finished configurations skipped on re-run, failures recorded and the sweep carried on.
- `glmlab.quant.dequant`: Unpack NVFP4 and FP8 tensors back to BF16 without modelopt, prove that the packed values are the ones the fake-quantized model computed with, and write the BF16 twin that CPU vLLM can serve.
- `glmlab.quant.fidelity`: What each recipe costs the proxy: KL divergence and top-1 agreement of next-token distributions, perplexity, and exact-match task accuracy against the BF16 model.
- `glmlab.quant.proxy`: Tiny GLM-architecture models glmlab builds, tokenizes and trains itself, deterministically, so that the real quantization, export and serving code runs on this machine.
- `glmlab.quant.quantize`: A recipe from `data/` through `modelopt.torch.quantization`, calibrated on the project's own data, exported as a checkpoint vLLM auto-detects, run for real on the proxies, planned for GLM-5.2.
- `glmlab.quant.tasks`: Deterministic, exactly checkable tasks (addition, copying, recall) and held-out text: what the proxies learn and what measures the damage quantization does.
- `glmlab.quant.validate`: Read the safetensors headers, `config.json` and `hf_quant_config.json`, and check every tensor against the recipe: names, dtypes, shapes, scales, the quantization config vLLM detects, and the bytes the footprint engine predicted.
- `glmlab.serving.explore`: The footprint of a deployment as controls: change the model, the hardware, the layout or vLLM's memory knobs and watch the per-GPU memory, the verdict, the fixes and the `vllm serve` command follow.
- `glmlab.serving.host`: The CPU features each vLLM feature needs, as data; a server whose command needs what this machine lacks is not started, and what could not be measured here is said in one line.
- `glmlab.serving.k8s`: How many nodes, in which layout, with which commands and Kubernetes manifests: the same plan as the footprint, one entry per node.
- `glmlab.serving.serve`: (checkpoint x recipe x hardware x layout) turned into the right `vllm serve` command, each flag explained, each footprint warning printed with the flag that fixes it.
- `glmlab.serving.server`: One object that starts vLLM in its own process group on a free local port, waits for it, reads what it says about itself, and stops it without leaving a process behind."""

__version__ = "0.1.0"
