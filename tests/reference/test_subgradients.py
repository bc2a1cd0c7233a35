"""subgradients.py on a small network: the parity test's gradient check finds the flips a float32
engine may take at kinks, and still fails a gradient with a real error.

The network has every kinked op the model uses (ReLU, LeakyReLU, 2x2 max-pool, L1 loss) and one ReLU
input placed 1e-9 from zero. Checks:
  1. float64's own gradient passes with no flip;
  2. the gradient with that element on the other side of its kink (as a float32 engine may compute it)
     is 10x the bound off, and passes once the check flips that element, which it names;
  3. the same plus an error of 3x the bound in one weight gradient element fails;
  4. an error of 3x the bound alone fails.
Exits 77 (a skip for meson) when PyTorch is not installed.
"""

import copy
import os
import sys

try:
    import torch
except ImportError:
    print(f"SKIP: {sys.executable} has no PyTorch (Debian: apt-get install python3-torch)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import subgradients  # noqa: E402

failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "FAIL - ") + what, flush=True)
    failures += 0 if ok else 1


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 3, 3, padding=1)
        self.up = torch.nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)

    def forward(self, x, F):
        h = F.relu(self.conv1(x))
        h = F.max_pool2d(F.leaky_relu(self.conv2(h), 0.2), 2, 2)
        return self.up(h)


def main():
    torch.manual_seed(1)
    net = Net().double()
    x = torch.randn(2, 2, 8, 8, dtype=torch.double)
    target = torch.randn(2, 2, 8, 8, dtype=torch.double)
    # put one ReLU input 1e-9 from its kink: shift conv1's bias of that channel
    with torch.no_grad():
        pre = net.conv1(x)
        net.conv1.bias[1] -= pre[0, 1, 3, 4] - 1e-9
    params = list(net.parameters())
    tape = subgradients.Tape()
    tape.track(net, "net")

    def objective_of(n, functional):
        return functional.l1_loss(n(x, functional), target)

    objective = objective_of(net, tape.functional())

    def forward(offset):
        moved = copy.deepcopy(net)
        with torch.no_grad():
            ps = list(moved.parameters())
            start = 0
            for p in ps:
                p.add_(offset[start:start + p.numel()].view_as(p))
                start += p.numel()
            objective_of(moved, tape.functional())

    base = tape.base_grad("net", objective, params)
    scale = base.abs().max().item()
    bound = 1e-5 * scale
    cands = tape.candidates("net")
    check(any(tape.sites[s].kind == "relu" for s, _ in cands), f"the element 1e-9 from the kink is a candidate "
          f"({len(cands)} candidates)")

    err, flips, _, _ = subgradients.explain(tape, "net", objective, params, base, base.clone(), bound, forward)
    check(err <= bound and not flips, f"float64's own gradient: error {err / scale:.1e}, {len(flips)} flips")

    relu = [c for c in cands if tape.sites[c[0]].kind == "relu"]
    flipped = tape.grad(objective, params, flips=relu[:1])
    off = (flipped - base).abs().max().item()
    err, flips, tried, _ = subgradients.explain(tape, "net", objective, params, base, flipped, bound, forward)
    check(off > 10 * bound and err <= bound and [f[0] for f in flips] == ["relu"] and flips[0][1] == "net.conv1",
          f"the flipped gradient ({off / scale:.1e} off): error {err / scale:.1e} after flips {flips} ({tried} tried)")

    wrong = flipped.clone()
    wrong[7] += 3 * bound
    err, flips, tried, _ = subgradients.explain(tape, "net", objective, params, base, wrong, bound, forward)
    check(err > bound, f"the flipped gradient with an error of 3x the bound at one element: error {err / scale:.1e} "
          f"({tried} flips tried), fails")

    wrong = base.clone()
    wrong[7] -= 3 * bound
    err, flips, tried, _ = subgradients.explain(tape, "net", objective, params, base, wrong, bound, forward)
    check(err > bound, f"an error of 3x the bound alone: error {err / scale:.1e} ({tried} flips tried), fails")

    print(f"subgradients: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
