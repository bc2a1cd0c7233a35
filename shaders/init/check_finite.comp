#version 450
// flag[0] = 1 if any x[i] is NaN or Inf. Only threads that found one write, and
// all write the same value, so no atomics are needed.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats flag;
    uint count;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    // exponent all ones = NaN or Inf; a bit test cannot be folded away by a
    // compiler that assumes finite math, unlike isnan/isinf
    if ((floatBitsToUint(p.x.v[i]) & 0x7f800000u) == 0x7f800000u)
        p.flag.v[0] = 1.0;
}
