#version 450
// out[i] (+)= a[i] * b[i / b_div]
// b_div is 1 when b has a's shape and H*W when b is per-channel (N,C,1,1):
// i / (H*W) is then n*C + c. Forward: y = a*b (accumulate 0). Backward uses
// it for da += dy*b (accumulate 1, a = dy) and for db += dy*a when same-shape.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats out_;
    uint count;
    uint b_div;
    uint accumulate;
    uint a_base, b_base; // CONV_TEXEL: floats from the texel views' starts to a, to b
    uint out_base;       // CONV_TEXEL: floats from the storage buffer's start to out_
    uint stored;         // CONV_TEXEL: out_ through the storage buffer (binding 4), else its buffer reference
} p;

#ifdef CONV_TEXEL
// The _texel build reads a and b as R32 texels (bindings 0, 1): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
// out_, which it writes (and reads to accumulate), it reaches through a
// storage-buffer descriptor where it fits one: a float stored so costs lavapipe
// a third of one through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer a_floats;
layout(set = 0, binding = 1) uniform samplerBuffer b_floats;
layout(set = 0, binding = 4, std430) buffer Stored { float out_stored[]; };
#define A_AT(i) texelFetch(a_floats, int(p.a_base + (i))).x
#define B_AT(i) texelFetch(b_floats, int(p.b_base + (i))).x
#else
#define A_AT(i) p.a.v[i]
#define B_AT(i) p.b.v[i]
#endif

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float v = A_AT(i) * B_AT(i / p.b_div);
#ifdef CONV_TEXEL
    if (p.stored != 0u) {
        if (p.accumulate != 0u)
            v += out_stored[p.out_base + i];
        out_stored[p.out_base + i] = v;
        return;
    }
#endif
    if (p.accumulate != 0u)
        v += p.out_.v[i];
    p.out_.v[i] = v;
}
