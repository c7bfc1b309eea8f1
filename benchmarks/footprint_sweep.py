"""Evaluate the footprint of every (model x recipe x hardware x layout) combination glmlab's data spans.

Prints a line per model, then as its last line `configs=N seconds=S` (N: configurations evaluated to a verdict;
layouts that vLLM would refuse are counted apart). Target: at least 1,000 configurations in under 1 s on one core.
Usage: python benchmarks/footprint_sweep.py [--suggest]   (--suggest also searches for fixing flags, slower)
"""
import argparse, itertools, time
from glmlab.core.settings import GlmlabError
from glmlab.core.data import model_names, recipe_names, hardware_names, hardware
from glmlab.footprint.fit import footprint

def layouts(count):
    for tp in (d for d in range(1, count + 1) if count % d == 0):
        for dcp in sorted({1, 2, tp}):
            if tp % dcp == 0:
                for ep in (True, False): yield dict(tp=tp, pp=count // tp, dcp=dcp, ep=ep)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--suggest', action='store_true')
    a = ap.parse_args()
    t0, n, refused, fits = time.perf_counter(), 0, 0, 0
    for m in model_names():
        m0 = n
        for r, h in itertools.product(recipe_names(), hardware_names()):
            for lay in layouts(hardware(h).count):
                try: fp = footprint(m, r, h, **lay)
                except GlmlabError: refused += 1; continue
                n += 1; fits += fp.verdict.fits
                if a.suggest: fp.fixes   # the search for fixes, timed too
        print(f"{m:20} {n - m0:5} configurations")
    dt = time.perf_counter() - t0
    print(f"refused layouts={refused} fitting={fits}")
    print(f"configs={n} seconds={dt:.3f}")

if __name__ == '__main__': main()
