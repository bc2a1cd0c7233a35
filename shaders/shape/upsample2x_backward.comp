#version 450
// dx[nc, i, j] += sum of the 2x2 block of dy it was copied to, one thread per
// input element (so the sum needs no atomics).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dx;
    uint count; // N*C*H*W
    uint h, w;  // input size
    uint dy_base; // CONV_TEXEL: floats from the texel view's start to dy
    uint dx_base; // WHOLE_GROUPS: floats from the storage buffer's start to dx (a multiple of 4)
} p;

// 1: the whole form, for rows of whole quads (w % 4 == 0) and whole
// workgroups of them (ops/shape.c): an invocation per quad of dx, adding the
// 4 quads of dy it was copied to (RGBA32 texels), through the storage buffer,
// without a branch (on lavapipe any branch makes every later store a loop
// over the lanes: eltwise/add_forward.comp). The same sums in the same order.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads dy as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer dy_floats;
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 dx_stored4[]; };
#else
#define DY_AT(i) p.dy.v[i]
#endif

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint q = gl_GlobalInvocationID.x, w4 = p.w / 4u;
        uint row = q / w4, col = q - row * w4;  // dx's row over (n, c, h), and quad in it
        // dy's rows 2*row and 2*row + 1 hold w/2 quads each (the view is RGBA32)
        int o = int(p.dy_base / 4u + row * p.w + 2u * col), next = int(p.w / 2u);
        vec4 a = texelFetch(dy_floats, o), b = texelFetch(dy_floats, o + 1);
        vec4 c = texelFetch(dy_floats, o + next), d = texelFetch(dy_floats, o + next + 1);
        dx_stored4[p.dx_base / 4u + q] += vec4((a.x + a.y) + (c.x + c.y), (a.z + a.w) + (c.z + c.w),
                                               (b.x + b.y) + (d.x + d.y), (b.z + b.w) + (d.z + d.w));
        return;
    }
#endif
    uint i = global_index();
    if (i >= p.count)
        return;
    uint j = i % p.w;
    uint t = i / p.w;
    uint r = t % p.h;
    uint nc = t / p.h;
    uint w2 = 2u * p.w;
    uint base = nc * 4u * p.h * p.w + 2u * r * w2 + 2u * j;
    p.dx.v[i] += (DY_AT(base) + DY_AT(base + 1u)) + (DY_AT(base + w2) + DY_AT(base + w2 + 1u));
}
