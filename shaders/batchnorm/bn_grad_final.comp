#version 450
// Batch-norm backward, stage 2: one workgroup per channel adds up the block
// partials into sums (C, 2) for bn_grad_input and accumulates
// dbeta += sum dy, dgamma += sum dy*xhat.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats partials; // (C, B, 2)
    Floats sums;     // (C, 2)
    Floats dgamma;   // unused when has_dgamma == 0
    Floats dbeta;    // unused when has_dbeta == 0
    uint C;
    uint B;
    uint has_dgamma;
    uint has_dbeta;
} p;

shared float s_dy[gl_WorkGroupSize.x];
shared float s_dyx[gl_WorkGroupSize.x];

void main()
{
    uint c = group_index();
    if (c >= p.C)
        return;
    uint lid = gl_LocalInvocationID.x;
    float sdy = 0.0, sdyx = 0.0;
    for (uint b = lid; b < p.B; b += gl_WorkGroupSize.x) {
        sdy += p.partials.v[(c * p.B + b) * 2];
        sdyx += p.partials.v[(c * p.B + b) * 2 + 1];
    }
    s_dy[lid] = sdy;
    s_dyx[lid] = sdyx;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (lid < s) {
            s_dy[lid] += s_dy[lid + s];
            s_dyx[lid] += s_dyx[lid + s];
        }
        barrier();
    }
    if (lid == 0) {
        p.sums.v[c * 2] = s_dy[0];
        p.sums.v[c * 2 + 1] = s_dyx[0];
        if (p.has_dbeta != 0)
            p.dbeta.v[c] += s_dy[0];
        if (p.has_dgamma != 0)
            p.dgamma.v[c] += s_dyx[0];
    }
}
