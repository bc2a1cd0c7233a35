"""The engine against the independent PyTorch reference (skipganomaly_pp.py).

tests/parity_dump (C) writes a freshly initialised model, its eval outputs on a fixed batch, and the
model after one training step. This script loads the same initial weights into the PyTorch modules,
recomputes everything, and requires (fp32, max absolute error):
  - generator output x_hat, discriminator features f(x) and f(x_hat), scores, heat maps: 1e-4;
  - the seven losses of the training step: 1e-4 (relative for the large ones);
  - every parameter and BN running statistic after the step: 1e-4.
Gradients: the engine's gradients of the step (read back from Adam's first moment, exp_avg = (1-b1) g
after one step) must be as close to the exact float64 gradients as PyTorch's own float32 ones are
(within a factor 2): at initialisation the transposed-upsampling model is ill-conditioned enough that
float32 PyTorch itself is off by ~1e-3 of the largest gradient.
One exception in the parameter check, stated rather than hidden: Adam's first step moves a parameter
by about lr * sign(g) whatever |g| is, so where |g| is below the float32 error level its sign is noise
in any float32 engine (e.g. the biases of convolutions followed by batch norm, whose exact gradient is
0) and the engines may differ by up to 2*lr = 4e-4. Elements with |g| under 4x the measured float32
error are counted and reported, not compared.

usage: /usr/bin/python3 test_parity.py PARITY_DUMP_BINARY [arch upsample ...]
"""

import copy
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skipganomaly_pp as ref  # noqa: E402
import st_io  # noqa: E402

TOL = 1e-4
failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "FAIL - ") + what, flush=True)
    failures += 0 if ok else 1


def max_err(a, b):
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def run(binary, arch, upsample, width):
    tag = (f"{arch}/{upsample}" if arch == "skipganomaly++" else arch) + (f"/width {width}" if width != "1" else "")
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([binary, d, arch, upsample, width], capture_output=True, text=True)
        check(r.returncode == 0, f"{tag}: engine dump ran ({r.stderr.strip()[-300:]})")
        if r.returncode:
            return
        io, _ = st_io.read(os.path.join(d, "io.safetensors"))
        after, _ = st_io.read(os.path.join(d, "step1.safetensors"))
        torch.manual_seed(0)
        if arch == "skipganomaly":
            G = ref.UNetGenerator(3, 32)
        else:
            G = ref.Generator(3, 32, float(width), upsample)
        D = ref.Discriminator(3, 32)
        init = os.path.join(d, "init.safetensors")
        ref.load_checkpoint(init, G, prefix="G.")
        ref.load_checkpoint(init, D, prefix="D.")
        x = io["x"]

        # eval outputs
        s, heat, x_hat = ref.score(G, D, x)
        G.eval()
        D.eval()
        with torch.no_grad():
            f_x = D(x)[1]
            f_x_hat = D(x_hat)[1]
        # the absolute bound of the issue, and a relative one: freshly initialised weights make some of
        # these outputs small, where an absolute bound alone would prove little
        for name, want in (("x_hat", x_hat), ("f_x", f_x), ("f_x_hat", f_x_hat), ("score", s), ("heatmap", heat)):
            e = max_err(io[name], want)
            scale = want.abs().max().item()
            check(e <= TOL and e <= 1e-3 * scale, f"{tag}: eval {name} max error {e:.2e} (values up to {scale:.2e})")

        # exact gradients (float64) of the same step, to measure float32 error in both engines
        G64, D64 = copy.deepcopy(G).double(), copy.deepcopy(D).double()
        G64.train(), D64.train()
        _, g64_g, g64_d = ref.losses_and_grads(G64, D64, x.double())

        # one training step: same order and optimiser as the engine
        opt_g, opt_d = ref.make_optimizers(G, D)
        losses, grads_g, grads_d = ref.losses_and_grads(G, D, x)
        names = ["err_g", "err_g_adv", "err_g_con", "err_g_lat", "err_d", "err_d_real", "err_d_fake"]
        for i, n in enumerate(names):
            got, want = io["losses"][i].item(), losses[n]
            e = abs(got - want)
            check(e <= TOL * max(1.0, abs(want)), f"{tag}: loss {n} engine {got:.6f} torch {want:.6f}")

        floor = {}
        for prefix, module, g32, g64 in (("G.", G, grads_g, g64_g), ("D.", D, grads_d, g64_d)):
            names_ = [n for n, _ in module.named_parameters()]
            scale = max(g.abs().max().item() for g in g64)
            err32 = max(max_err(a, b) for a, b in zip(g32, g64))
            err_engine = max(max_err(after[f"adam.{prefix[0]}.exp_avg.{n}"] / (1 - ref.BETAS[0]), b)
                             for n, b in zip(names_, g64))
            # within twice PyTorch's own float32 error, or at float32's level for sums of thousands of terms
            # (the batch and pixels a weight gradient adds up; a wrong gradient is off by orders more)
            check(err_engine <= max(2 * err32, 1e-5 * scale),
                  f"{tag}: {prefix[0]} gradients vs float64: engine error {err_engine / scale:.2e}, PyTorch float32 "
                  f"error {err32 / scale:.2e} (relative to the largest gradient)")
            floor[prefix] = 4 * max(err32, err_engine)

        for p, g in zip(G.parameters(), grads_g):
            p.grad = g
        for p, g in zip(D.parameters(), grads_d):
            p.grad = g
        opt_g.step()
        opt_d.step()

        grad_of = {}
        for prefix, module, grads in (("G.", G, g64_g), ("D.", D, g64_d)):
            for (n, _), g in zip(module.named_parameters(), grads):
                grad_of[prefix + n] = g
        worst, worst_name, skipped, compared = 0.0, "", 0, 0
        for prefix, module in (("G.", G), ("D.", D)):
            for n, t in ref.checkpoint_state(module).items():
                key = prefix + n
                got = after[key]
                mask = torch.ones_like(t, dtype=torch.bool)
                if key in grad_of:
                    mask = grad_of[key].abs() >= floor[prefix]
                skipped += int((~mask).sum())
                compared += int(mask.sum())
                e = max_err(got[mask], t[mask]) if mask.any() else 0.0
                if e > worst:
                    worst, worst_name = e, key
        check(worst <= TOL, f"{tag}: {compared} parameters and statistics after one step, max error {worst:.2e}"
              f" ({worst_name or '-'}); {skipped} elements with |grad| under the float32 error level not compared")


def main():
    binary = sys.argv[1]
    # (arch, upsample, generator width multiplier) triples
    configs = sys.argv[2:] or ["skipganomaly++", "transposed", "1", "skipganomaly++", "nearest", "1",
                               "skipganomaly++", "nearest", "0.25", "skipganomaly", "-", "1"]
    for i in range(0, len(configs), 3):
        run(binary, configs[i], configs[i + 1], configs[i + 2])
    print(f"parity: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
