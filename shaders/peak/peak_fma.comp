#version 450
// Peak fp32 FMA rate: every invocation runs 8 independent multiply-add chains
// (two vec4), 128 FLOP per round, for `iterations` rounds. The result is stored
// so that nothing is optimised away.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats out_v;
    uint iterations;
    float seed;
} p;

void main()
{
    vec4 a = vec4(p.seed) + vec4(gl_LocalInvocationID.x, 1, 2, 3) * 1e-7;
    vec4 b = a + 0.5;
    const vec4 m = vec4(0.999999), c = vec4(1e-7);
    for (uint i = 0u; i < p.iterations; i++) {
        // 8 dependent steps per chain per round, 8 chains: 64 FMA = 128 FLOP
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
        a = fma(a, m, c); b = fma(b, m, c);
    }
    vec4 r = a + b;
    p.out_v.v[global_index()] = r.x + r.y + r.z + r.w;
}
