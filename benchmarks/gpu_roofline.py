"""Measure the two roofline inputs of the GPU this runs on: memory bandwidth (device-to-device copy) and dense
BF16 / FP8 matrix-multiply rates, beside the datasheet figures glmlab's hardware catalog uses.

Needs a CUDA GPU; without one it says so and exits 0. Usage:
    python benchmarks/gpu_roofline.py [--device h200] [--json out.json]
Copy bandwidth counts bytes read plus bytes written. Matmuls are 8192^3 on random data, mean of 10 after 3 warm-ups.
"""
import argparse, json, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

def _time(fn, n=10, warm=3):
    import torch
    for _ in range(warm): fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(n): fn()
    b.record(); torch.cuda.synchronize()
    return a.elapsed_time(b) / 1e3 / n

def _copy_gbs(gib:int=4) -> float:
    "Device-to-device copy of `gib` GiB: bytes read plus written per second."
    import torch
    src = torch.empty(gib * 2**30 // 2, dtype=torch.bfloat16, device='cuda'); dst = torch.empty_like(src)
    return 2 * src.numel() * src.element_size() / _time(lambda: dst.copy_(src)) / 1e9

def measure() -> dict:
    import torch
    out = dict(gpu=torch.cuda.get_device_name(), torch=torch.__version__)
    out['copy_gbs'] = _copy_gbs()
    n = 8192
    a = torch.randn(n, n, device='cuda', dtype=torch.bfloat16); b = torch.randn(n, n, device='cuda', dtype=torch.bfloat16)
    out['bf16_tflops'] = 2 * n**3 / _time(lambda: a @ b) / 1e12
    try:
        a8, b8 = a.to(torch.float8_e4m3fn), b.t().contiguous().to(torch.float8_e4m3fn).t()
        one = torch.ones((), device='cuda')
        out['fp8_tflops'] = 2 * n**3 / _time(lambda: torch._scaled_mm(a8, b8, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)) / 1e12
    except Exception as e: out['fp8_error'] = f"{type(e).__name__}: {e}"[:200]
    return out

def main():
    p = argparse.ArgumentParser(); p.add_argument('--device', default='h200'); p.add_argument('--json')
    a = p.parse_args()
    try: import torch
    except ImportError: print("skipped: no torch"); return
    if not torch.cuda.is_available(): print("skipped: no CUDA device"); return
    m = measure()
    from glmlab.core.data import load_yaml
    d = load_yaml('hardware')['devices'].get(a.device, {})
    m['datasheet'] = dict(bandwidth_gbs=d.get('bandwidth_gbs'), tflops=d.get('tflops'))
    print(f"{m['gpu']}: copy {m['copy_gbs']:,.0f} GB/s (datasheet {d.get('bandwidth_gbs')}), "
          f"BF16 {m['bf16_tflops']:,.0f} TFLOP/s (datasheet dense {d.get('tflops', {}).get('bf16')}), "
          f"FP8 {m.get('fp8_tflops', float('nan')):,.0f} TFLOP/s (datasheet dense {d.get('tflops', {}).get('fp8')})")
    if a.json: Path(a.json).write_text(json.dumps(m, indent=1))

if __name__ == '__main__': main()
