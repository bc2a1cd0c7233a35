"""Exact (float64) gradients of the reference model, with the subgradient choices at kinks made explicit.

Why: ReLU, LeakyReLU, max-pool and the L1 loss have kinks. Where an input lies closer to a kink than
float32's rounding error of the forward, a float32 engine may take the other side of it: ReLU passes
the gradient where float64 blocks it, max-pool sends it to the runner-up of the window. The gradient
then differs by that element's whole contribution, far above any summation error (one such element
in the transposed model at initialisation moves G's gradients by 7e-4 of the largest). Either choice
is a correct gradient of the float32 function the engine computes; which one a given float32 engine
takes depends on how it rounds (PyTorch's float32 takes different ones on different CPUs).

So the comparison is: the engine's gradient must be within the bound of the float64 gradient for SOME
choice of subgradients at the elements within TAU (relative to the RMS of the kink's input tensor) of
a kink, and nowhere else. `Tape` records those elements during a float64 forward; `Tape.grad` reruns
the backward with chosen elements flipped to the other side; `explain` finds the flips that bring a
float32 gradient within the bound, trying the elements whose flip correlates most with the
discrepancy first (a directional derivative by central differences ranks them), so that only a few
extra backward passes run.
"""

import types

import torch
import torch.nn.functional as TF

# Float32 rounding in the forward reaches ~1e-6 of a tensor's RMS after the model's depth (measured:
# 1.6e-6 at the flipped element of the transposed model); elements ten times closer count as at a kink.
TAU = 1e-5


class Site:
    """One call of a kinked op: the flat indices of its near-kink elements, their margin to the kink
    (relative to the RMS of the op's input), and per backward objective the size of the gradient
    change a flip would make at each of them."""

    def __init__(self, kind, where, near, margin):
        self.kind = kind
        self.where = where  # the module that returned before the op (with track())
        self.index = near.flatten().nonzero().flatten()
        self.margin = margin.flatten()[self.index]
        self.swing = {}  # objective -> |change of the input gradient| per index, from the base backward
        self.probe = None  # the margin variable at the indices, in a probing forward


class Tape:
    """Records the kinked ops of forwards run under `functional()` (in order, one Site per call)."""

    def __init__(self, tau=TAU):
        self.tau = tau
        self.sites = []
        self.flips = set()  # (site number, position in site.index) flipped in the next backward
        self.objective = None  # name under which a base backward records the swings
        self.probing = None  # list of sites being re-measured by a probing forward, else None
        self.last = "?"  # the tracked module that returned last (it usually made the kinked op's input)

    def track(self, module, prefix):
        """Name the sites by the module before them: `prefix` + its name in `module`."""
        for name, m in module.named_modules():
            full = prefix + (("." + name) if name else "")
            m.register_forward_hook(lambda _m, _i, _o, full=full: setattr(self, "last", full))

    def _new_site(self, kind, x, margin):
        if self.probing is not None:
            site = self.sites[len(self.probing)]
            site.probe = margin[0].flatten()[site.index]
            self.probing.append(site)
            return None
        rms = x.detach().pow(2).mean().sqrt().clamp_min(torch.finfo(x.dtype).tiny)
        near = margin[1].abs() <= self.tau * rms
        self.sites.append(Site(kind, self.last, near, (margin[1].abs() / rms).detach()))
        return len(self.sites) - 1

    def _flipped(self, site_no):
        return [pos for s, pos in self.flips if s == site_no]

    def _record(self, site_no, change):
        if site_no is not None and self.objective is not None:
            site = self.sites[site_no]
            site.swing[self.objective] = change.flatten()[site.index].abs()

    def functional(self):
        """A stand-in for torch.nn.functional whose kinked ops record into this tape."""
        tape = self

        class Relu(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, slope):
                ctx.slope = slope
                ctx.site = tape._new_site("relu" if slope == 0 else "leaky_relu", x, (x, x))
                ctx.save_for_backward(x)
                return torch.where(x > 0, x, x * slope)

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                d = torch.where(x > 0, torch.ones_like(x), torch.full_like(x, ctx.slope))
                tape._record(ctx.site, g * (1 - ctx.slope))
                if ctx.site is not None:
                    flat = d.view(-1)
                    for pos in tape._flipped(ctx.site):
                        i = tape.sites[ctx.site].index[pos]
                        flat[i] = ctx.slope if flat[i] == 1 else 1.0
                return g * d, None

        def windows(x):
            n, c, h, w = x.shape
            return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)

        class MaxPool(torch.autograd.Function):
            """2x2, stride 2; the kink is a near-tie between the two largest of a window."""

            @staticmethod
            def forward(ctx, x):
                win = windows(x)
                top = win.topk(2, dim=-1)
                site = tape.sites[len(tape.probing)] if tape.probing is not None else None
                if site is not None:  # the base pass's two elements, not this pass's
                    order = site.order
                    vals = win.gather(-1, order)
                    gap = vals[..., 0] - vals[..., 1]
                else:
                    gap = top.values[..., 0] - top.values[..., 1]
                ctx.site = tape._new_site("max_pool2d", x, (gap, gap))
                if ctx.site is not None:
                    tape.sites[ctx.site].order = top.indices
                ctx.save_for_backward(top.indices)
                ctx.shape = x.shape
                return top.values[..., 0]

            @staticmethod
            def backward(ctx, g):
                ind, = ctx.saved_tensors
                tape._record(ctx.site, g)
                arg = ind[..., 0].clone()
                if ctx.site is not None:
                    for pos in tape._flipped(ctx.site):
                        i = tape.sites[ctx.site].index[pos]
                        arg.view(-1)[i] = ind[..., 1].reshape(-1)[i]
                n, c, h, w = ctx.shape
                win = torch.zeros(n, c, h // 2, w // 2, 4, dtype=g.dtype)
                win.scatter_(-1, arg.unsqueeze(-1), g.unsqueeze(-1))
                return win.reshape(n, c, h // 2, w // 2, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)

        class L1(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                d = a - b
                ctx.site = tape._new_site("l1_loss", d, (d, d))
                ctx.save_for_backward(d)
                return d.abs().mean()

            @staticmethod
            def backward(ctx, g):
                d, = ctx.saved_tensors
                s = d.sign() * (g / d.numel())
                tape._record(ctx.site, torch.full_like(d, 2) * (g / d.numel()))
                if ctx.site is not None:
                    flat = s.view(-1)
                    for pos in tape._flipped(ctx.site):
                        i = tape.sites[ctx.site].index[pos]
                        flat[i] = -flat[i] if flat[i] != 0 else g / d.numel()
                return s, -s

        def max_pool2d(x, kernel_size, stride=None, **kw):
            if kernel_size != 2 or stride not in (2, None) or kw:
                raise NotImplementedError("only the 2x2 max-pool of stride 2 is recorded")
            return MaxPool.apply(x)

        ns = types.SimpleNamespace(**{n: getattr(TF, n) for n in dir(TF) if not n.startswith("_")})
        ns.relu = lambda x, inplace=False: Relu.apply(x, 0.0)
        ns.leaky_relu = lambda x, negative_slope=0.01, inplace=False: Relu.apply(x, float(negative_slope))
        ns.max_pool2d = max_pool2d
        ns.l1_loss = lambda a, b: L1.apply(a, b)
        return ns

    def grad(self, objective, params, flips=()):
        """The gradient of `objective` (a scalar of a recorded forward) with the given flips."""
        self.flips = set(flips)
        try:
            return flat(torch.autograd.grad(objective, params, retain_graph=True))
        finally:
            self.flips = set()

    def base_grad(self, name, objective, params):
        """The gradient with float64's own choices; records each site's swings under `name`."""
        self.objective = name
        try:
            return self.grad(objective, params)
        finally:
            self.objective = None

    def candidates(self, name):
        """(site number, position) of every near-kink element a flip would change for objective `name`."""
        return [(s, pos) for s, site in enumerate(self.sites) if name in site.swing
                for pos in range(len(site.index)) if site.swing[name][pos] > 0]

    def probe(self, forward):
        """Run forward() (the same graph as the recorded one, e.g. with perturbed parameters) and return
        the margin variables of every site at its near-kink elements."""
        self.probing = []
        try:
            forward()
            if len(self.probing) != len(self.sites):
                raise RuntimeError("the probing forward ran other kinked ops than the recorded one")
            return [site.probe for site in self.sites]
        finally:
            self.probing = None


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def explain(tape, name, objective, params, base, target, bound, forward, max_tries=12):
    """Find flips of near-kink elements under which the float64 gradient `base` (of `objective`
    w.r.t. `params`, from tape.base_grad(name, ...)) comes within `bound` (max abs) of `target`.

    forward(offset) must rerun the recorded forward (the tape's ops in the same order) on copies of the
    networks whose `params` are moved by `offset` (a flat vector), leaving the recorded graph intact. Returns (error, flips, tried, grad): the max abs error left, the flips taken as
    [(kind, margin)], how many candidate elements had their flip computed, and the float64 gradient
    with those flips (`base` when none)."""
    r = target - base
    error = r.abs().max().item()
    cands = tape.candidates(name)
    if error <= bound or not cands:
        return error, [], 0, base
    # rank by (change of the input gradient) x (directional derivative of the margin variable along r):
    # the inner product of a flip's effect with the discrepancy; the flips the engine took stand out
    step = 1e-7 / r.abs().max().item()
    probes = [tape.probe(lambda: forward(sign * step * r)) for sign in (1, -1)]
    score = {}
    for s, pos in cands:
        slope = (probes[0][s][pos] - probes[1][s][pos]).item() / (2 * step)
        score[(s, pos)] = abs(slope) * tape.sites[s].swing[name][pos].item()
    order = sorted(cands, key=lambda c: -score[c])[:max_tries]
    effects, tried = [], []
    for cand in order:
        effects.append(tape.grad(objective, params, flips=[cand]) - base)
        tried.append(cand)
        a = torch.stack(effects, 1)
        coef = torch.linalg.lstsq(a, r.unsqueeze(1)).solution.flatten().clamp(0, 1).round()
        left = (r - a @ coef).abs().max().item()
        if left <= bound:
            chosen = [c for c, k in zip(tried, coef.tolist()) if k == 1]
            # the chosen flips together, as one backward (they may interact)
            grad = tape.grad(objective, params, flips=chosen)
            left = (target - grad).abs().max().item()
            if left <= bound:
                return left, [(tape.sites[s].kind, tape.sites[s].where, tape.sites[s].margin[pos].item())
                              for s, pos in chosen], \
                    len(tried), grad
    return error, [], len(tried), base
