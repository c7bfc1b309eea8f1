"""Compare glmlab's CPU NVFP4 fake-quant kernel with modelopt's own GPU kernel on the same tensors, and both with an
independent float64 reference written from the format's definition (glmlab.quant.dequant's arithmetic, not modelopt's).

Needs a CUDA GPU (modelopt's Triton/CUDA kernel); without one it says so and exits 0.
Prints, per tensor shape and for each pair, the share of values that differ by more than FP32 rounding and the
largest difference relative to the tensor's max; where the GPU differs from the reference it says whether the block scale or the value rounding differs.
Usage: python benchmarks/nvfp4_cpu_vs_gpu.py
"""
import sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

E2M1 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], dtype=torch.float64)

def reference(w, amax, block=16):
    "NVFP4 quantize-dequantize in float64: FP32 global scale amax/(6*448), E4M3 block scales, E2M1 values (nearest, ties to even code)."
    x = w.double().reshape(-1, block)
    s2 = (amax.double() / (6 * 448)).float().double()                       # the FP32 per-tensor scale
    s = (x.abs().amax(-1, keepdim=True) / 6 / s2).float().to(torch.float8_e4m3fn).double() * s2   # E4M3 block scale
    y = (x / torch.where(s == 0, torch.ones_like(s), s)).abs()
    d = (y[..., None] - E2M1).abs()
    code = d.argmin(-1)                                                     # first minimum: ties go to the smaller code...
    tie = (d.gather(-1, (code + 1).clamp(max=7)[..., None])[..., 0] == d.gather(-1, code[..., None])[..., 0]) & (code < 7)
    code = torch.where(tie & (code % 2 == 1), code + 1, code)               # ...unless that code is odd: ties to even
    return (E2M1[code] * x.sign() * s).reshape(w.shape), s.reshape(-1)

TOL = 1e-6   # relative to the tensor's max: differences below this are FP32 rounding of the same code and scale

def compare(a, b, amax):
    d = (a.double() - b.double()).abs() / amax.item()
    return f"differing={(d > TOL).double().mean().item():.2e} max_rel={d.max().item():.2e}"

def main():
    if not torch.cuda.is_available():
        print("skipped: no CUDA device (modelopt's NVFP4 kernel needs one)"); return
    from modelopt.torch.quantization.tensor_quant import dynamic_block_quantize_op
    from glmlab.quant.quantize import nvfp4_fake_quant_cpu
    g = torch.Generator().manual_seed(0)
    for shape in [(128, 256), (2048, 6144), (6144, 2048), (512, 7168)]:
        w = torch.randn(*shape, generator=g, dtype=torch.float32) * 0.02
        amax = w.abs().max()
        cpu = nvfp4_fake_quant_cpu(w, 16, amax, 4, 2, 8, 4)
        gpu = dynamic_block_quantize_op(w.cuda(), 16, amax.cuda(), 4, 2, 8, 4).cpu()
        ref, scales = reference(w, amax)
        print(f"{str(shape):14} cpu-gpu {compare(cpu, gpu, amax)} | cpu-ref {compare(cpu, ref, amax)} | gpu-ref {compare(gpu, ref, amax)}")
        bad = ((gpu.double() - ref).abs() / amax.item() > TOL).reshape(-1, 16).any(-1)
        if bad.any():   # do the differing blocks have a different scale? (recover the GPU's scale as max|q| / max code used)
            gb, rb = gpu.double().reshape(-1, 16)[bad], ref.reshape(-1, 16)[bad]
            same_max = (gb.abs().amax(-1) == rb.abs().amax(-1)).double().mean().item()
            print(f"{'':14} blocks differing from reference: {bad.double().mean().item():.2e}; of those, same block max: {same_max:.2f}; "
                  f"example ref {rb[0, :6].tolist()} gpu {gb[0, :6].tolist()}")

if __name__ == '__main__': main()
