"""Time the main job: `glmlab run` cold (empty cache and outputs: the proxy is trained, quantized, served, benchmarked,
evaluated) and warm (the same again), in a temporary folder so the project's own outputs/ are untouched.
Targets (issue 5): cold <= 300 s after installation on 2 cores, warm <= 60 s.
Usage: .venv/bin/python benchmarks/main_job.py   ->  prints cold_s=... warm_s=... and the targets met or not
"""
import os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def timed_run(env) -> float:
    t0 = time.time()
    r = subprocess.run([str(Path(sys.executable).parent / 'glmlab'), 'run'], cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode: sys.exit(f"glmlab run failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
    return time.time() - t0

def main():
    tmp = Path(tempfile.mkdtemp(prefix='glmlab-main-job-'))
    env = {k: v for k, v in os.environ.items() if not k.startswith('GLMLAB_')}
    # its own servers too: a pair someone shares on this machine (glmlab serve --experiment --share) would skip their start
    env.update(GLMLAB_OUTPUTS_PATH=str(tmp / 'outputs'), GLMLAB_CACHE_PATH=str(tmp / 'cache'), GLMLAB_SERVERS_FILE='')
    cold = timed_run(env)
    warm = timed_run(env)
    print(f"cold_s={cold:.0f} (target 300: {'met' if cold <= 300 else 'MISSED'}) warm_s={warm:.0f} (target 60: {'met' if warm <= 60 else 'MISSED'}) "
          f"cores={os.cpu_count()} outputs={tmp}")

if __name__ == '__main__': main()
