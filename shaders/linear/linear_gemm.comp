#version 450
// The three products of a fully connected layer as one strided kernel, one
// thread per output element (r, c) of a rows x cols result:
//   out[r*cols + c] = (accumulate ? out : 0) + (has_bias ? bias[c] : 0)
//                     + sum_j (has_a ? a[r*a_rs + j*a_js] : 1) * b[c*b_cs + j*b_js]
// forward  y[n,o]  = x[n,:] . w[o,:] + bias[o]  (r=n, c=o, j=i)
// dx[n,i] += sum_o dy[n,o] w[o,i]               (r=n, c=i, j=o)
// dw[o,i] += sum_n dy[n,o] x[n,i]               (r=o, c=i, j=n)
// db[o]   += sum_n dy[n,o]  (no a, one row)     (r=0, c=o, j=n)
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats bias;
    Floats out_;
    uint rows, cols, inner;
    uint a_rs, a_js;
    uint b_cs, b_js;
    uint has_a, has_bias, accumulate;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.rows * p.cols)
        return;
    uint r = i / p.cols;
    uint c = i - r * p.cols;
    float s = 0.0;
    uint ai = r * p.a_rs, bi = c * p.b_cs;
    for (uint j = 0u; j < p.inner; j++) {
        float bv = p.b.v[bi + j * p.b_js];
        s += p.has_a != 0u ? p.a.v[ai + j * p.a_js] * bv : bv;
    }
    if (p.has_bias != 0u)
        s += p.bias.v[c];
    if (p.accumulate != 0u)
        s += p.out_.v[i];
    p.out_.v[i] = s;
}
