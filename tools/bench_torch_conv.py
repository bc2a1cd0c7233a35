#!/usr/bin/python3
"""PyTorch twin of sgad-bench-engine: times the same convolutions on the CPU (or the GPU, --device cuda,
when the engine runs on one).

usage: bench_torch_conv.py [--device cpu|cuda] --size S --batch B CI,CO,K,STRIDE,PAD,DIL,SCALE,TRANSPOSED ...
Prints one line per layer: forward seconds and backward seconds (input and weight gradient), the best
of a few runs after a warm-up, as sgad-bench-engine measures its own.
"""
import argparse
import time

import torch
import torch.nn.functional as F


def best_time(fn, sync, budget=1.0):
    fn()
    sync()
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 2 or (spent < budget and runs < 20):
        t0 = time.perf_counter()
        fn()
        sync()  # a GPU's queued work inside the timed span
        t = time.perf_counter() - t0
        best, spent, runs = min(best, t), spent + t, runs + 1
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("layers", nargs="+")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_torch_conv.py: --device cuda, but PyTorch sees no CUDA device")
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    torch.manual_seed(0)
    for spec in a.layers:
        ci, co, k, s, p, d, scale, transposed = (int(v) for v in spec.split(","))
        h = a.size // scale
        if h < 4:
            print("inf inf")
            continue
        x = torch.randn(a.batch, ci, h, h, device=dev, requires_grad=True)
        if transposed:
            w = torch.randn(ci, co, k, k, device=dev, requires_grad=True)
            fwd = lambda: F.conv_transpose2d(x, w, None, s, p, 0, 1, d)  # noqa: E731
        else:
            w = torch.randn(co, ci, k, k, device=dev, requires_grad=True)
            fwd = lambda: F.conv2d(x, w, None, s, p, d)  # noqa: E731
        with torch.no_grad():
            tf = best_time(fwd, sync)
        y = fwd()
        g = torch.randn_like(y)
        tb = best_time(lambda: torch.autograd.grad(y, (x, w), g, retain_graph=True), sync)
        print(f"{tf:.6g} {tb:.6g}", flush=True)


if __name__ == "__main__":
    main()
