"""PyTorch twin of `sgad bench`: the same model (tests/reference/skipganomaly_pp.py) timed on the CPU,
or on the GPU (--device cuda) when the engine runs on one.

Run by `sgad bench` with /usr/bin/python3 (Debian's PyTorch) or $SGAD_PYTHON. Prints one line per measurement,
"train BATCH IMAGES_PER_SECOND" and "infer BATCH IMAGES_PER_SECOND", after one warm-up run and
the best of --reps timed runs, as the C side does (no training at batch 1, which the engine
refuses). A training step is the reference's train_step (G and D forwards, both backwards, both
Adam steps); inference is its eval-mode score()."""

import argparse
import os
import sys
import time

import torch

# beside this script when built or installed (meson copies it), in tests/reference in the source tree
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import skipganomaly_pp as ref  # noqa: E402


def best_time(fn, reps, sync, slow_s=20.0):
    """One warm-up, then the best of `reps` runs (only one when a run takes over slow_s, as sgad bench).
    sync() waits for the device, so that a GPU's queued work is inside the timed span."""
    fn()
    sync()
    best = float("inf")
    for r in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        spent = time.perf_counter() - t0
        best = min(best, spent)
        if spent > slow_s:
            break
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--width", type=float, default=1)
    ap.add_argument("--arch", choices=["skipganomaly++", "skipganomaly"], default="skipganomaly++")
    ap.add_argument("--upsample", choices=["transposed", "nearest"], default="transposed")
    ap.add_argument("--mode", choices=["train", "infer", "both"], default="both")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_torch_model.py: --device cuda, but PyTorch sees no CUDA device")
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)

    torch.manual_seed(0)
    if a.arch == "skipganomaly":
        G = ref.UNetGenerator(channels=a.channels, size=a.size)
    else:
        G = ref.Generator(channels=a.channels, size=a.size, width=a.width, upsample=a.upsample)
    D = ref.Discriminator(channels=a.channels, size=a.size)
    ref.init_weights(G, 1)
    ref.init_weights(D, 2)
    G, D = G.to(dev), D.to(dev)
    opt_g, opt_d = ref.make_optimizers(G, D)
    for batch in (int(b) for b in a.batches.split(",")):
        x = torch.rand(batch, a.channels, a.size, a.size, device=dev) * 2 - 1
        if a.mode in ("train", "both") and batch >= 2:  # as the engine: BatchNorm needs 2 images
            t = best_time(lambda: ref.train_step(G, D, opt_g, opt_d, x), a.reps, sync)
            print(f"train {batch} {batch / t:.6g}", flush=True)
        if a.mode in ("infer", "both"):
            t = best_time(lambda: ref.score(G, D, x), a.reps, sync)
            print(f"infer {batch} {batch / t:.6g}", flush=True)


if __name__ == "__main__":
    main()
