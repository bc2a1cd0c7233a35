#version 450
// db[c] += sum over n, h, w of dy[n,c,h,w]: one workgroup per channel, a tree
// reduction in shared memory.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats db;
    uint N, C, plane;
} p;

shared float partial[256];

void main()
{
    uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    float s = 0.0;
    for (uint n = 0u; n < p.N; n++) {
        uint base = (n * p.C + c) * p.plane;
        for (uint i = t; i < p.plane; i += lanes)
            s += p.dy.v[base + i];
    }
    partial[t] = s;
    barrier();
    for (uint half_ = lanes / 2u; half_ > 0u; half_ /= 2u) {
        if (t < half_)
            partial[t] += partial[t + half_];
        barrier();
    }
    if (t == 0u)
        p.db.v[c] += partial[0];
}
