#version 450
// One part of a channel concat, in whole workgroups of whole quads (ops/shape.c
// takes it where every sample's part is whole workgroups of vec4s): workgroup
// (x, y) moves quads [256x, 256x + 256) of sample y's part. Straight-line, no
// condition before the store: on lavapipe (Mesa 22.3) any branch or early
// return makes every later store a loop over the lanes, ~3x slower
// (add_forward.comp, docs/benchmarks.md). Built with CONV_TEXEL only.
//   WHOLE_GROUPS 1, the forward:  y[sample's slice] = part  (part: texels, y: storage buffer)
//   WHOLE_GROUPS 2, the backward: dpart += dy[sample's slice]  (dy: texels, dpart: storage buffer)
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    uint part_len; // the part's quads per sample
    uint y_len;    // the concat's quads per sample
    uint offset;   // the part's first quad within a sample of the concat
    uint src_base; // floats from the texel view's start to the source (a multiple of 4)
    uint dst_base; // floats from the storage buffer's start to the destination (a multiple of 4)
} p;

layout(constant_id = 1) const uint WHOLE_GROUPS = 1u;

layout(set = 0, binding = 0) uniform samplerBuffer src;
layout(set = 0, binding = 4, std430) buffer Dst { vec4 dst[]; };

void main()
{
    uint r = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x, n = gl_WorkGroupID.y;
    uint in_part = n * p.part_len + r, in_concat = n * p.y_len + p.offset + r;
    if (WHOLE_GROUPS == 1u) // constants: one of the two is in the pipeline
        dst[p.dst_base / 4u + in_concat] = texelFetch(src, int(p.src_base / 4u + in_part));
    if (WHOLE_GROUPS == 2u)
        dst[p.dst_base / 4u + in_part] += texelFetch(src, int(p.src_base / 4u + in_concat));
}
