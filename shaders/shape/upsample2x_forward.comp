#version 450
// Nearest x2: y[nc, i, j] = x[nc, i/2, j/2], one thread per output element.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count; // N*C*2H*2W
    uint h, w;  // input size
    uint x_base; // CONV_TEXEL: floats from the texel view's start to x
    uint y_base; // WHOLE_GROUPS: floats from the storage buffer's start to y (a multiple of 4)
} p;

// 1: the whole form, for rows of whole quads (w % 4 == 0) and whole
// workgroups of them (ops/shape.c): an invocation per quad of x, read as an
// RGBA32 texel and written as the 4 quads of y it becomes, through the
// storage buffer, without a branch (on lavapipe any branch makes every later
// store a loop over the lanes: eltwise/add_forward.comp). The same values.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads x as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
layout(set = 0, binding = 4, std430) writeonly buffer Stored4 { vec4 y_stored4[]; };
#else
#define X_AT(i) p.x.v[i]
#endif

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint q = gl_GlobalInvocationID.x, w4 = p.w / 4u;
        uint row = q / w4, col = q - row * w4;  // x's row over (n, c, h), and quad in it
        vec4 v = texelFetch(x_floats, int(p.x_base / 4u + q));  // the view is RGBA32
        // y's rows 2*row and 2*row + 1 hold w/2 quads each
        uint o = p.y_base / 4u + row * p.w + 2u * col;
        y_stored4[o] = v.xxyy;
        y_stored4[o + 1u] = v.zzww;
        y_stored4[o + p.w / 2u] = v.xxyy;
        y_stored4[o + p.w / 2u + 1u] = v.zzww;
        return;
    }
#endif
    uint i = global_index();
    if (i >= p.count)
        return;
    uint w2 = 2u * p.w, h2 = 2u * p.h;
    uint j = i % w2;
    uint t = i / w2;
    uint r = t % h2;
    uint nc = t / h2;
    p.y.v[i] = X_AT(nc * p.h * p.w + (r / 2u) * p.w + j / 2u);
}
