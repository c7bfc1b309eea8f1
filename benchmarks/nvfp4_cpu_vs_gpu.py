"""Compare glmlab's CPU NVFP4 fake-quant kernel with modelopt's own GPU kernel on the same tensors.

Needs a CUDA GPU (modelopt's Triton/CUDA kernel); without one it says so and exits 0.
Prints, per tensor shape, the share of values that differ and the largest difference relative to the tensor's max.
Usage: python benchmarks/nvfp4_cpu_vs_gpu.py
"""
import torch

def main():
    if not torch.cuda.is_available():
        print("skipped: no CUDA device (modelopt's NVFP4 kernel needs one)"); return
    from modelopt.torch.quantization.tensor_quant import dynamic_block_quantize_op
    from glmlab.quantize import nvfp4_fake_quant_cpu
    g = torch.Generator().manual_seed(0)
    worst = 0.0
    for shape in [(128, 256), (2048, 6144), (6144, 2048), (512, 7168)]:
        w = torch.randn(*shape, generator=g, dtype=torch.float32) * 0.02
        amax = w.abs().max()
        cpu = nvfp4_fake_quant_cpu(w, 16, amax, 4, 2, 8, 4)
        gpu = dynamic_block_quantize_op(w.cuda(), 16, amax.cuda(), 4, 2, 8, 4).cpu()
        diff = (cpu - gpu).abs()
        worst = max(worst, diff.max().item() / amax.item())
        print(f"{str(shape):14} differing={(diff > 0).float().mean().item():.2e} max_rel={diff.max().item() / amax.item():.2e}")
    print(f"worst max_rel={worst:.2e}")

if __name__ == '__main__': main()
