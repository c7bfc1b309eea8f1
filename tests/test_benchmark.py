"""The sweep benchmark runs and covers at least 1,000 configurations (its timing is printed, not asserted)."""
import re, subprocess, sys
from conftest import ROOT, clean_env

def test_sweep_covers_1000_configurations():
    r = subprocess.run([sys.executable, 'benchmarks/footprint_sweep.py'], cwd=ROOT, capture_output=True, text=True, env=clean_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r'configs=(\d+) seconds=([\d.]+)', r.stdout.strip().splitlines()[-1])
    assert m and int(m.group(1)) >= 1000, r.stdout
    print(r.stdout.strip().splitlines()[-1])
