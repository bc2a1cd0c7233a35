"""Check the reference model (skipganomaly_pp.py) against the figures of the spec and exercise it.

    python3 tests/reference/check_spec.py   (a python3 with PyTorch)

1. Parameter counts and forward MFLOP per image (2 x multiply-adds of conv / transposed conv /
   linear, every kernel tap counted; see skipganomaly_pp.forward_flops) for
   G (S=32, C=3, width 1; nearest and transposed), D (S=32) and the U-Net baseline (S=32), compared
   with spec line 27 (G: 4.06 M / 490 MFLOP nearest, 5.44 M / 590 MFLOP transposed) and spec line 33
   (D: 1.07 M / 36 MFLOP). A figure passes when it rounds to the spec's figure at the precision the
   spec gives it (4.06 M: +-0.005 M; 490 MFLOP: +-0.5). The spec gives no figure for the U-Net.
2. Cross-checks of semantics that are easy to get subtly wrong:
   a. the U-Net against a literal transcription of pix2pix's nested UnetSkipConnectionBlock (in-place
      activations included), same weights: same output and same input gradient;
   b. losses_and_grads() against the textbook formulation (err_g.backward() for G; a separate D
      forward on x and x_hat.detach() for D, on copies): same losses and gradients; and the BN
      forward counts (G's BN layers see 1 training forward per step, D's see 2);
   c. a safetensors checkpoint round trip (save, load into a differently initialised model), and a
      truncated file rejected;
   d. the discriminator re-initialisation of spec line 44 (threshold forced): D's parameters become
      exactly init_weights(D, reinit_seed); BN running statistics and Adam state are kept.
3. A forward, one training step and a score at S=32 and S=64 (batch 2, random data) for G in both
   upsample modes and for the U-Net baseline, each with the discriminator.
Exits 1 if any check fails.
"""

import copy
import os
import sys
import tempfile

import torch
import torch.nn as nn

import skipganomaly_pp as sg

torch.set_num_threads(max(1, os.cpu_count() or 1))
FAIL = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        FAIL.append(what)


def close(a, b, rtol=1e-4, atol=1e-6):
    return torch.allclose(a, b, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------------------
# 1. Counts against the spec
# --------------------------------------------------------------------------------------------

def counts():
    print("1. parameter counts and forward FLOP per image (S=32, C=3)")
    x = torch.randn(2, 3, 32, 32)
    # (label, module, spec params in M, spec MFLOP, spec line)
    rows = [
        ("G nearest    (width 1)", sg.Generator(3, 32, 1, "nearest"), 4.06, 490, 27),
        ("G transposed (width 1)", sg.Generator(3, 32, 1, "transposed"), 5.44, 590, 27),
        ("D                     ", sg.Discriminator(3, 32), 1.07, 36, 33),
        ("U-Net (ngf 64, 5 lvl) ", sg.UNetGenerator(3, 32), None, None, None),
    ]
    print(f"  {'model':24s} {'params':>10s} {'M':>7s} {'spec M':>7s} {'MFLOP':>9s} {'spec':>6s}")
    for label, m, sp, sf, line in rows:
        p = sg.param_count(m)
        fl = sg.forward_flops(m, x) / 1e6
        print(f"  {label:24s} {p:10d} {p / 1e6:7.3f} {'' if sp is None else sp:>7} {fl:9.2f} {'' if sf is None else sf:>6}")
        if sp is not None:
            check(abs(p / 1e6 - sp) <= 0.005 + 1e-9, f"{label.strip()}: {p / 1e6:.4f} M params rounds to spec line {line}'s {sp} M")
            check(abs(fl - sf) <= 0.5 + 1e-9, f"{label.strip()}: {fl:.2f} MFLOP rounds to spec line {line}'s {sf} MFLOP")


# --------------------------------------------------------------------------------------------
# 2a. U-Net vs a literal pix2pix transcription
# --------------------------------------------------------------------------------------------

class Pix2pixBlock(nn.Module):
    """pix2pix's UnetSkipConnectionBlock with BatchNorm (use_bias False), no dropout, written as in
    pytorch-CycleGAN-and-pix2pix (networks.py), in-place LeakyReLU/ReLU included."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False):
        super().__init__()
        self.outermost = outermost
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=False)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = nn.BatchNorm2d(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = nn.BatchNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=False)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=False)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


def pix2pix_unet(input_nc, output_nc, num_downs, ngf=64):
    """pix2pix's UnetGenerator.__init__ (returns the outermost block)."""
    blk = Pix2pixBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(num_downs - 5):
        blk = Pix2pixBlock(ngf * 8, ngf * 8, submodule=blk)
    blk = Pix2pixBlock(ngf * 4, ngf * 8, submodule=blk)
    blk = Pix2pixBlock(ngf * 2, ngf * 4, submodule=blk)
    blk = Pix2pixBlock(ngf, ngf * 2, submodule=blk)
    return Pix2pixBlock(output_nc, ngf, input_nc=input_nc, submodule=blk, outermost=True)


@torch.no_grad()
def copy_unet_into_pix2pix(ours, theirs):
    """Level i of ours = the i-th nested block of pix2pix (1 = outermost)."""
    blk = theirs
    for i in range(1, ours.depth + 1):
        layers = list(blk.model)
        convs = [m for m in layers if isinstance(m, nn.Conv2d)]
        convts = [m for m in layers if isinstance(m, nn.ConvTranspose2d)]
        bns = [m for m in layers if isinstance(m, nn.BatchNorm2d)]
        down, up = getattr(ours, f"down{i}"), getattr(ours, f"up{i}")
        pairs = [(down.conv, convs[0]), (up.conv, convts[0])]
        ours_bns = [b for b in (getattr(down, "bn", None), getattr(up, "bn", None)) if b is not None]
        assert len(ours_bns) == len(bns), f"level {i}: {len(ours_bns)} BN layers vs pix2pix's {len(bns)}"
        pairs += list(zip(ours_bns, bns))
        for a, b in pairs:
            assert type(a) is type(b)
            for name, t in a.state_dict().items():
                b.state_dict()[name].copy_(t)
        subs = [m for m in layers if isinstance(m, Pix2pixBlock)]
        blk = subs[0] if subs else None
    assert blk is None, "pix2pix has more levels than ours"


def unet_vs_pix2pix():
    print("2a. U-Net vs a literal pix2pix UnetGenerator transcription (same weights, train mode)")
    for size in (32, 64):
        ours = sg.init_weights(sg.UNetGenerator(3, size), seed=1)
        theirs = pix2pix_unet(3, 3, int(round(torch.log2(torch.tensor(float(size))).item())))
        check(sg.param_count(ours) == sum(p.numel() for p in theirs.parameters()),
              f"S={size}: same parameter count ({sg.param_count(ours)})")
        copy_unet_into_pix2pix(ours, theirs)
        x = torch.randn(2, 3, size, size)
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = ours(xa), theirs(xb)
        w = torch.randn_like(ya)
        (ya * w).sum().backward()
        (yb * w).sum().backward()
        check(close(ya, yb, atol=1e-5), f"S={size}: same output (max diff {(ya - yb).abs().max():.2e})")
        check(close(xa.grad, xb.grad, atol=1e-5), f"S={size}: same input gradient (max diff {(xa.grad - xb.grad).abs().max():.2e})")


# --------------------------------------------------------------------------------------------
# 2b. Training-step semantics
# --------------------------------------------------------------------------------------------

def nbt(module):
    return [m.num_batches_tracked.item() for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


def step_semantics():
    print("2b. losses_and_grads() vs the textbook formulation (G transposed, S=32, batch 4)")
    torch.manual_seed(3)
    G = sg.init_weights(sg.Generator(3, 32, 1, "transposed"), seed=11)
    D = sg.init_weights(sg.Discriminator(3, 32), seed=12)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    G2, D2, D3 = copy.deepcopy(G), copy.deepcopy(D), copy.deepcopy(D)

    losses, gg, gd = sg.losses_and_grads(G, D, x)
    check(set(nbt(G)) == {1} and set(nbt(D)) == {2}, "each G BN saw 1 training forward, each D BN saw 2")

    # textbook G gradient: plain backward of err_g (D's gradients from it are ignored)
    G2.train(); D2.train(); D3.train()
    bce, l1, mse = nn.BCELoss(), nn.L1Loss(), nn.MSELoss()
    x_hat = G2(x)
    p_real, f_real = D2(x)
    p_fake, f_fake = D2(x_hat)
    err_g = bce(p_fake, torch.ones_like(p_fake)) + 50 * l1(x_hat, x) + mse(f_fake, f_real)
    err_g.backward()
    # textbook D gradient: separate forwards on x and x_hat.detach() (D3 holds the step's starting state)
    pr, _ = D3(x)
    pf, _ = D3(x_hat.detach())
    err_d = bce(pr, torch.ones_like(pr)) + bce(pf, torch.zeros_like(pf))
    err_d.backward()

    check(abs(losses["err_g"] - err_g.item()) <= 1e-5 * abs(err_g.item()), f"err_g {losses['err_g']:.6f} = {err_g.item():.6f}")
    check(abs(losses["err_d"] - err_d.item()) <= 1e-5 * abs(err_d.item()), f"err_d {losses['err_d']:.6f} = {err_d.item():.6f}")
    dg = max(((a - p.grad).abs().max() / (p.grad.abs().max() + 1e-12)).item() for a, p in zip(gg, G2.parameters()))
    dd = max(((a - p.grad).abs().max() / (p.grad.abs().max() + 1e-12)).item() for a, p in zip(gd, D3.parameters()))
    check(dg < 1e-4, f"G gradients match (max relative diff {dg:.1e})")
    check(dd < 1e-4, f"D gradients match (max relative diff {dd:.1e})")

    # detach_latent: G's gradient = gradient of the adversarial + contextual terms only
    G4, D4 = copy.deepcopy(G2), copy.deepcopy(D2)
    for p in list(G4.parameters()) + list(D4.parameters()):
        p.grad = None
    _, gg_det, _ = sg.losses_and_grads(G4, D4, x, detach_latent=True)
    G5, D5 = copy.deepcopy(G2), copy.deepcopy(D2)
    _, gg_nolat, _ = sg.losses_and_grads(G5, D5, x, w_lat=0.0)
    same = all(torch.equal(a, b) for a, b in zip(gg_det, gg_nolat))
    check(same, "detach_latent gives G the gradient of w_adv*adv + w_con*con exactly")


# --------------------------------------------------------------------------------------------
# 2c. Checkpoint round trip
# --------------------------------------------------------------------------------------------

def checkpoint_roundtrip():
    print("2c. safetensors checkpoint round trip")
    G = sg.init_weights(sg.Generator(3, 32, 1, "nearest"), seed=5)
    D = sg.init_weights(sg.Discriminator(3, 32), seed=6)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    opt_g, opt_d = sg.make_optimizers(G, D)
    sg.train_step(G, D, opt_g, opt_d, x)  # non-trivial running statistics
    with tempfile.TemporaryDirectory() as tmp:
        pg, pd = os.path.join(tmp, "g.safetensors"), os.path.join(tmp, "d.safetensors")
        sg.save_checkpoint(pg, G, {"model": "generator", "upsample": "nearest"})
        sg.save_checkpoint(pd, D)
        G2 = sg.init_weights(sg.Generator(3, 32, 1, "nearest"), seed=99)
        D2 = sg.init_weights(sg.Discriminator(3, 32), seed=98)
        meta = sg.load_checkpoint(pg, G2)
        sg.load_checkpoint(pd, D2)
    check(meta == {"model": "generator", "upsample": "nearest"}, "metadata survives")
    s1, h1, _ = sg.score(G, D, x)
    s2, h2, _ = sg.score(G2, D2, x)
    check(torch.equal(s1, s2) and torch.equal(h1, h2), "reloaded G and D score bit-identically (eval mode)")
    with tempfile.TemporaryDirectory() as tmp:
        pd = os.path.join(tmp, "d.safetensors")
        sg.save_checkpoint(pd, D)
        with open(pd, "rb") as fh:
            blob = fh.read()
        with open(pd, "wb") as fh:
            fh.write(blob[:-4])
        try:
            sg.load_checkpoint(pd, D2)
            rejected = False
        except sg.st_io.SafetensorsError as e:
            rejected = "out of range" in str(e)
    check(rejected, "a truncated file is rejected")


# --------------------------------------------------------------------------------------------
# 2d. Discriminator re-initialisation
# --------------------------------------------------------------------------------------------

def d_reinit():
    print("2d. discriminator re-initialisation (threshold forced above err_d)")
    G = sg.init_weights(sg.Generator(3, 32, 1, "nearest"), seed=5)
    D = sg.init_weights(sg.Discriminator(3, 32), seed=6)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    opt_g, opt_d = sg.make_optimizers(G, D)
    saved = sg.D_REINIT_BELOW
    sg.D_REINIT_BELOW = float("inf")
    try:
        losses = sg.train_step(G, D, opt_g, opt_d, x, reinit_seed=77)
    finally:
        sg.D_REINIT_BELOW = saved
    fresh = sg.init_weights(sg.Discriminator(3, 32), seed=77)
    same_w = all(torch.equal(a, b) for a, b in zip(D.parameters(), fresh.parameters()))
    kept = any(not torch.equal(m.running_mean, torch.zeros_like(m.running_mean))
               for m in D.modules() if isinstance(m, nn.BatchNorm2d))
    check(losses["d_reinit"] and same_w, "D's parameters are exactly init_weights(D, reinit_seed)")
    check(kept and len(opt_d.state) > 0, "D's BN running statistics and Adam state are kept")


# --------------------------------------------------------------------------------------------
# 3. Runs at S=32 and S=64
# --------------------------------------------------------------------------------------------

def runs():
    print("3. forward, one training step and a score, batch 2, random data in [-1, 1]")
    for size in (32, 64):
        for label, make in (("G transposed", lambda s: sg.Generator(3, s, 1, "transposed")),
                            ("G nearest", lambda s: sg.Generator(3, s, 1, "nearest")),
                            ("U-Net", lambda s: sg.UNetGenerator(3, s))):
            torch.manual_seed(size)
            G = sg.init_weights(make(size), seed=1)
            D = sg.init_weights(sg.Discriminator(3, size), seed=2)
            x = torch.rand(2, 3, size, size) * 2 - 1
            with torch.no_grad():
                y = G(x)
                p, f = D(x)
            shapes_ok = (tuple(y.shape) == tuple(x.shape) and tuple(p.shape) == (2,)
                         and tuple(f.shape) == (2, 100, 1, 1))
            opt_g, opt_d = sg.make_optimizers(G, D)
            before = [t.clone() for t in G.parameters()]
            losses = sg.train_step(G, D, opt_g, opt_d, x)
            moved = all(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
            s, heat, _ = sg.score(G, D, x)
            finite = all(torch.isfinite(torch.tensor(v)) for k, v in losses.items() if k != "d_reinit")
            print(f"    S={size:3d} {label:13s} err_g {losses['err_g']:8.4f} (adv {losses['err_g_adv']:.4f}, "
                  f"con {losses['err_g_con']:.4f}, lat {losses['err_g_lat']:.4f})  err_d {losses['err_d']:.4f}  "
                  f"score {s[0].item():.4f} {s[1].item():.4f}")
            check(shapes_ok and finite and moved and tuple(heat.shape) == (2, 1, size, size)
                  and bool(torch.isfinite(s).all()),
                  f"S={size} {label}: shapes G {tuple(y.shape)}, p {tuple(p.shape)}, f {tuple(f.shape)}, "
                  f"heat {tuple(heat.shape)}; finite losses; every G parameter updated")


def main():
    counts()
    unet_vs_pix2pix()
    step_semantics()
    checkpoint_roundtrip()
    d_reinit()
    runs()
    if FAIL:
        print(f"\n{len(FAIL)} check(s) FAILED:")
        for f in FAIL:
            print("  - " + f)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
