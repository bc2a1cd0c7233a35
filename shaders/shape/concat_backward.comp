#version 450
// Backward of a channel concat for one input: dpart[i] += dy[...], where part
// (N, Cp, H, W) occupies channels [c0, c0+Cp) of dy (N, Cy, H, W): per sample,
// part_len = Cp*H*W floats at offset c0*H*W of y_len = Cy*H*W.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dpart;
    uint count; // N * part_len
    uint part_len;
    uint y_len;
    uint offset; // c0 * H * W
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint n = i / p.part_len;
    p.dpart.v[i] += p.dy.v[n * p.y_len + p.offset + (i - n * p.part_len)];
}
