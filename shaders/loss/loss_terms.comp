#version 450
// Per-element terms of the mean losses (L1, MSE, BCE): adds the scaled gradient
// into dpred/dtarget and writes one partial sum of the terms per workgroup
// (finished deterministically by loss_sum.comp).
//
// Workgroup g covers elements [g*chunk, (g+1)*chunk) with chunk = size*per_thread;
// thread t sums its per_thread elements t, t+size, ... then the workgroup adds
// the 256 thread sums as a tree: no long serial sum, and the same order every run.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats pred;
    Floats target;  // not used by BCE (constant target)
    Floats dpred;   // used when flags & 2
    Floats dtarget; // used when flags & 4
    Floats partial; // used when flags & 1: one sum per workgroup
    uint count;
    uint per_thread;
    uint kind;       // 0 L1, 1 MSE, 2 BCE
    uint flags;      // 1 loss, 2 dpred, 4 dtarget
    float grad_scale; // scale / count
    float bce_target;
} p;

shared float sums[gl_WorkGroupSize.x]; // a power of two (LOSS_GROUP in ops/loss.c)

// log(1 + x), accurate for small |x| where 1 + x would round: the series to x^5
// is exact to float precision for |x| < 0.01 and needs no library log.
float log1p_f(float x)
{
    if (abs(x) < 0.01)
        return x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * (0.25 - x * 0.2))));
    return log(1.0 + x);
}

// PyTorch's BCELoss clamps both logs at -100 (so p = 0 or 1 gives a finite loss).
float clamped_log(float x)
{
    if (x <= 0.0)
        return -100.0;
    // near 1, x - 1 is exact (Sterbenz) and the series avoids log's absolute error
    return max(abs(x - 1.0) < 0.01 ? log1p_f(x - 1.0) : log(x), -100.0);
}

float clamped_log1m(float x) // log(1 - x), clamped
{
    if (x >= 1.0)
        return -100.0;
    return max(log1p_f(-x), -100.0);
}

void main()
{
    uint size = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint first = group_index() * size * p.per_thread;
    bool want_loss = (p.flags & 1u) != 0u;
    bool want_dpred = (p.flags & 2u) != 0u;
    bool want_dtarget = (p.flags & 4u) != 0u;

    float acc = 0.0;
    for (uint k = 0u; k < p.per_thread; k++) {
        uint i = first + k * size + lid;
        if (i >= p.count)
            break;
        float x = p.pred.v[i];
        float term, grad; // loss term and d(term)/d(pred)
        if (p.kind == 0u) {
            float d = x - p.target.v[i];
            term = abs(d);
            grad = sign(d); // 0 at d == 0, as PyTorch
        } else if (p.kind == 1u) {
            float d = x - p.target.v[i];
            term = d * d;
            grad = 2.0 * d;
        } else {
            float t = p.bce_target;
            term = -(t * clamped_log(x) + (1.0 - t) * clamped_log1m(x));
            grad = (x - t) / max((1.0 - x) * x, 1e-12); // PyTorch's EPSILON
        }
        acc += term;
        if (want_dpred)
            p.dpred.v[i] += p.grad_scale * grad;
        if (want_dtarget)
            p.dtarget.v[i] -= p.grad_scale * grad; // MSE only: d/dt = -d/dp
    }
    if (!want_loss)
        return; // uniform across the dispatch: no barrier is skipped by some threads only

    sums[lid] = acc;
    barrier();
    for (uint s = size / 2u; s > 0u; s >>= 1u) {
        if (lid < s)
            sums[lid] += sums[lid + s];
        barrier();
    }
    // groups past the end exist only when the dispatch was split over x and y
    if (lid == 0u && first < p.count)
        p.partial.v[group_index()] = sums[0];
}
