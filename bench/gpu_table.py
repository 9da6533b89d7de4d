#!/usr/bin/env python3
"""Ours beside PyTorch, from one gpu-check run: python3 gpu_table.py ours.jsonl torch.jsonl

ours.jsonl: `softmaxgpu bench --json` lines; torch.jsonl: torch_softmax_bench.py lines (fp32 and tf32).
Prints a markdown table: per shape and kernel variant, our step and epoch, PyTorch's, the floor, and the
ratios (x floor = ours / floor; PyTorch / ours > 1 means we are faster)."""
import json, sys

def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]

ours, torch = lines(sys.argv[1]), lines(sys.argv[2])
peer = {(t["N"], t["D"], t["K"], t["tf32"]): t for t in torch}
print("| shape | kernels | step ms | floor ms | x floor | PyTorch FP32 step | FP32/ours | TF32 step | TF32/ours "
      "| epoch ms | PyTorch epoch | PyTorch/ours |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for o in ours:
    key = (o["N"], o["D"], o["K"])
    f32, t32 = peer.get(key + (False,)), peer.get(key + (True,))
    def ratio(p, field, mine):
        return f"{p[field] / mine:.1f}" if p and mine else "n/a"
    print(f"| {o['N']}x{o['D']}x{o['K']} | {o['kernels']} | {o['step_ms']:.3f} | {o['floor_ms']:.3f} "
          f"| {o['step_over_floor']:.2f} | {f32['step_ms'] if f32 else 'n/a'} | {ratio(f32, 'step_ms', o['step_ms'])} "
          f"| {t32['step_ms'] if t32 else 'n/a'} | {ratio(t32, 'step_ms', o['step_ms'])} "
          f"| {o['epoch_ms']} | {f32['epoch_ms'] if f32 else 'n/a'} | {ratio(f32, 'epoch_ms', o['epoch_ms'])} |")
if ours:
    print(f"\nceilings measured by ILGPU kernels in the same run: copy {ours[0]['copy_gbs']} GB/s, "
          f"float32 multiply-add {ours[0]['fma_gflops']} GFLOP/s; device: {ours[0]['device']}; {ours[0]['tool']}")
