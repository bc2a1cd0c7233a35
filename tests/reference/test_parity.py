"""The engine against the independent PyTorch reference (skipganomaly_pp.py), computed in float64.

tests/parity_dump (C) writes a model (freshly initialised, or trained for some steps so that its
outputs are of order 1), its eval outputs on a fixed batch, and the model after one training step
from there. This script loads the same weights into the PyTorch modules, recomputes everything in
float64, and requires:
  - generator output x_hat, discriminator features f(x) and f(x_hat), scores, heat maps: max abs error
    1e-4 (relative to the largest value where that is above 1) and 1e-3 of the largest value;
  - the seven losses of the training step: 1e-4 (relative for the large ones);
  - the step's gradients (read back from Adam's first moment, exp_avg = (1-b1) g after a first step)
    of G and of D: max abs error 1e-5 of the largest gradient, against the float64 gradient for some
    choice of subgradients at the elements within float32 rounding of a ReLU/max-pool/L1 kink
    (subgradients.py says why and how; the elements flipped are reported). PyTorch's own float32
    error is printed beside it for information only: it varies with the CPU.
  - every parameter and BN running statistic after the step (Adam, in float64 from that gradient):
    1e-4 (relative for the ones above 1). Adam's first step moves a parameter by about lr * sign(g) whatever |g| is, so where |g| is
    below the engine's gradient error its sign is noise in any float32 engine (e.g. the biases of
    convolutions followed by batch norm, whose exact gradient is 0): those elements are counted and
    reported, not compared.

usage: python3 test_parity.py PARITY_DUMP_BINARY [arch upsample width trained_steps ...]
(arch skipganomaly++/drop-skips=1,2: the generator with those skips left out)
Exits 77 (a skip for meson) when PyTorch is not installed.
"""

import copy
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print(f"SKIP: {sys.executable} has no PyTorch (Debian: apt-get install python3-torch)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skipganomaly_pp as ref  # noqa: E402
import st_io  # noqa: E402
import subgradients  # noqa: E402

TOL = 1e-4        # outputs, losses, parameters after the step
FLT_MIN = 1.1754944e-38
GRAD_TOL = 1e-5   # gradients, relative to the largest gradient of the network
failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "FAIL - ") + what, flush=True)
    failures += 0 if ok else 1


def max_err(a, b):
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def unflat(vector, like):
    out, offset = [], 0
    for t in like:
        out.append(vector[offset:offset + t.numel()].view_as(t))
        offset += t.numel()
    return out


def run(binary, arch, upsample, width, steps):
    tag = (f"{arch}/{upsample}" if arch == "skipganomaly++" else arch) + (f"/width {width}" if width != "1" else "") \
        + (f"/trained {steps} steps" if steps != "0" else "")
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([binary, d, arch, upsample, width, steps], capture_output=True, text=True)
        check(r.returncode == 0, f"{tag}: engine dump ran ({r.stderr.strip()[-300:]})")
        if r.returncode:
            return
        io, _ = st_io.read(os.path.join(d, "io.safetensors"))
        after, _ = st_io.read(os.path.join(d, "step1.safetensors"))
        torch.manual_seed(0)
        if arch == "skipganomaly":
            G = ref.UNetGenerator(3, 32)
        else:
            drop = arch.partition("/drop-skips=")[2]
            G = ref.Generator(3, 32, float(width), upsample, tuple(int(k) for k in drop.split(",") if k))
        D = ref.Discriminator(3, 32)
        init = os.path.join(d, "init.safetensors")
        ref.load_checkpoint(init, G, prefix="G.")
        ref.load_checkpoint(init, D, prefix="D.")
    x = io["x"]
    G64, D64, x64 = copy.deepcopy(G).double(), copy.deepcopy(D).double(), x.double()

    # eval outputs
    s, heat, x_hat = ref.score(G64, D64, x64)
    G64.eval()
    D64.eval()
    with torch.no_grad():
        f_x = D64(x64)[1]
        f_x_hat = D64(x_hat)[1]
    for name, want in (("x_hat", x_hat), ("f_x", f_x), ("f_x_hat", f_x_hat), ("score", s), ("heatmap", heat)):
        e = max_err(io[name], want)
        scale = want.abs().max().item()
        # float32 keeps 24 bits: an absolute bound cannot hold for outputs of order 50 (a trained D's features);
        # outputs all below float32's smallest normal number are zeros to a device that flushes denormals,
        # as Vulkan allows (an untrained generator without its upper skips, in eval mode, gives 1e-42)
        check(e <= TOL * max(1.0, scale) and (e <= 1e-3 * scale or scale < FLT_MIN),
              f"{tag}: eval {name} max error {e:.2e} (values up to {scale:.2e})")

    # PyTorch's float32 gradients, for information
    _, g32_g, g32_d = ref.losses_and_grads(G, D, x)

    # the step in float64, recording the elements at kinks
    tape = subgradients.Tape()
    tape.track(G64, "G")
    tape.track(D64, "D")
    nets = (("G", G64, list(G64.parameters())), ("D", D64, list(D64.parameters())))

    def forward_moved(net):
        def forward(offset):  # on copies: the recorded graph's tensors and running statistics stay as they are
            Gc, Dc = copy.deepcopy(G64), copy.deepcopy(D64)
            with torch.no_grad():
                moved = list((Gc if net == "G" else Dc).parameters())
                for p, o in zip(moved, unflat(offset, moved)):
                    p.add_(o)
                orig, ref.F = ref.F, tape.functional()
                try:
                    ref.objectives(Gc, Dc, x64)
                finally:
                    ref.F = orig
        return forward

    orig, ref.F = ref.F, tape.functional()
    try:
        losses, g_objective, err_d = ref.objectives(G64, D64, x64)
    finally:
        ref.F = orig
    names = ["err_g", "err_g_adv", "err_g_con", "err_g_lat", "err_d", "err_d_real", "err_d_fake"]
    for i, n in enumerate(names):
        got, want = io["losses"][i].item(), losses[n]
        check(abs(got - want) <= TOL * max(1.0, abs(want)), f"{tag}: loss {n} engine {got:.6f} float64 {want:.6f}")

    grads = {}
    for (net, module, params), objective, g32 in zip(nets, (g_objective, err_d), (g32_g, g32_d)):
        base = tape.base_grad(net, objective, params)
        names_ = [n for n, _ in module.named_parameters()]
        engine = subgradients.flat([after[f"adam.{net}.exp_avg.{n}"].double() / (1 - ref.BETAS[0]) for n in names_])
        scale = base.abs().max().item()
        raw = (engine - base).abs().max().item()
        err32 = (subgradients.flat(g32).double() - base).abs().max().item()
        err, flips, tried, grad = subgradients.explain(tape, net, objective, params, base, engine, GRAD_TOL * scale,
                                                         forward_moved(net))
        how = "no element at a kink flipped"
        if flips:
            how = (f"after flipping {len(flips)} of {len(tape.candidates(net))} elements at a kink "
                   f"({', '.join(f'{k} after {w} at {m:.1e} of its RMS from it' for k, w, m in flips)}; {tried} tried); "
                   f"{raw / scale:.2e} before")
        check(err <= GRAD_TOL * scale,
              f"{tag}: {net} gradients vs float64: engine error {err / scale:.2e} of the largest gradient "
              f"(bound {GRAD_TOL:.0e}), {how}; PyTorch float32 error {err32 / scale:.2e} (information)")
        grads[net] = (grad, err)  # the engine's gradient as float64 has it (with its subgradient choices)

    # one Adam step in float64 from those gradients, compared with the engine's step
    opt_g, opt_d = ref.make_optimizers(G64, D64)
    for (net, module, params) in nets:
        g, _ = grads[net]
        for p, gp in zip(params, unflat(g, params)):
            p.grad = gp.clone()
    opt_g.step()
    opt_d.step()
    worst, worst_name, skipped, compared = 0.0, "", 0, 0
    for net, module, params in nets:
        g, err = grads[net]
        grad_of = dict(zip([n for n, _ in module.named_parameters()], unflat(g, params)))
        floor = 4 * err
        for n, t in ref.checkpoint_state(module).items():
            got = after[f"{net}.{n}"]
            mask = grad_of[n].abs() >= floor if n in grad_of else torch.ones_like(t, dtype=torch.bool)
            skipped += int((~mask).sum())
            compared += int(mask.sum())
            # relative for the large ones (running variances grow during training)
            e = ((got[mask].double() - t[mask].double()).abs() / t[mask].double().abs().clamp_min(1.0)).max().item() \
                if mask.any() else 0.0
            if e > worst:
                worst, worst_name = e, f"{net}.{n}"
    check(worst <= TOL, f"{tag}: {compared} parameters and statistics after one step, max error {worst:.2e} (relative above 1)"
          f" ({worst_name or '-'}); {skipped} elements with |grad| under the engine's gradient error not compared")


def main():
    binary = sys.argv[1]
    # (arch, upsample, generator width multiplier, training steps before the comparison) quadruples
    configs = sys.argv[2:] or ["skipganomaly++", "transposed", "1", "0",
                               "skipganomaly++", "nearest", "1", "0",
                               "skipganomaly++", "nearest", "0.25", "0",
                               "skipganomaly", "-", "1", "0",
                               "skipganomaly++", "transposed", "0.25", "30",
                               "skipganomaly++/drop-skips=1,2", "transposed", "0.25", "0"]
    for i in range(0, len(configs), 4):
        run(binary, *configs[i:i + 4])
    print(f"parity: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
