"""Time the main job and the docs build's step, in a temporary folder so the project's own outputs/ are untouched:
`glmlab run` cold (empty cache and outputs: the proxy is trained, quantized, served, benchmarked, evaluated), warm
(the same again: the experiment is found done), then `glmlab run --notebooks` (the notebooks that train, quantize or
serve, executed whole for their docs pages: the second proxy is trained there).
Targets (issue 25): cold <= 300 s after installation on 2 cores, warm <= 60 s; the notebooks step has none.
Usage: .venv/bin/python benchmarks/main_job.py [--no-notebooks]  ->  prints cold_s=... warm_s=... notebooks_s=... and the CPU
"""
import os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def timed_run(env, *args) -> float:
    t0 = time.time()
    r = subprocess.run([str(Path(sys.executable).parent / 'glmlab'), 'run', *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode: sys.exit(f"glmlab run {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
    return time.time() - t0

def cpu() -> str:
    "The CPU's model and whether it has AVX-512 / AMX (what vLLM's CPU build can serve depends on them)."
    info = Path('/proc/cpuinfo').read_text() if Path('/proc/cpuinfo').exists() else ''
    model = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('model name')), '?')
    flags = set(next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('flags')), []))
    return f"{model}; avx512f={'avx512f' in flags} amx_tile={'amx_tile' in flags}"

def main():
    tmp = Path(tempfile.mkdtemp(prefix='glmlab-main-job-'))
    env = {k: v for k, v in os.environ.items() if not k.startswith('GLMLAB_') or k == 'GLMLAB_CPU_FLAGS'}
    # its own servers file too: a pair someone shares on this machine (glmlab serve --experiment --share) would skip their start
    env.update(GLMLAB_OUTPUTS_PATH=str(tmp / 'outputs'), GLMLAB_CACHE_PATH=str(tmp / 'cache'), GLMLAB_SERVERS_FILE=str(tmp / 'servers.json'))
    cold = timed_run(env)
    warm = timed_run(env)
    print(f"cold_s={cold:.0f} (target 300: {'met' if cold <= 300 else 'MISSED'}) warm_s={warm:.0f} (target 60: {'met' if warm <= 60 else 'MISSED'}) "
          f"cores={os.cpu_count()} cpu=({cpu()}) outputs={tmp}", flush=True)
    if '--no-notebooks' not in sys.argv: print(f"notebooks_s={timed_run(env, '--notebooks'):.0f} (glmlab run --notebooks after them)")

if __name__ == '__main__': main()
