#version 450
// The cost of one loaded float on a device (tools/bench_loads.c): every
// invocation loads 4 floats per step, from addresses that differ between lanes
// (lane i reads floats 4i..4i+3 of a 64 KiB table, moving on each step) or
// from one address for all (lane_step 0, as a convolution's weights), and
// feeds each into 16 FMAs, as a convolution's register tile does. The load
// path is the specialization constant VARIANT:
//   0 no load (the 4 values computed from the index: the FMA-only baseline)
//   1 4 floats through a buffer reference (the engine's tensors today)
//   2 one vec4 through a buffer reference
//   3 4 texelFetch from a uniform texel buffer, R32_SFLOAT
//   4 one vec4 texelFetch, R32G32B32A32_SFLOAT
//   5 4 floats from a storage buffer descriptor (SSBO)
//   6 one vec4 from a uniform buffer (UBO), non-uniform index
//   7 with all lanes on one address (lane_step 0): 16 lanes load 16 steps' vec4
//     texels into shared memory, then every lane reads them at constant offsets
//     (a loop unrolled), which llvmpipe may load once and broadcast; otherwise
//     as 4
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x = 64) in;
layout(constant_id = 0) const int VARIANT = 0;
// 1: the address is built from uniform values only (the loop counter), as a
// weight's is when its channel tile is the workgroup's: a compiler may then
// load it once for all lanes
layout(constant_id = 1) const int UNIFORM_INDEX = 0;

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Floats { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer Vec4s { vec4 v[]; };

layout(push_constant) uniform Params {
    Floats src;     // the table, 4096 vec4
    Floats dst;     // one float per invocation
    uint iterations;
    uint mask;      // floats in the table - 1
    uint lane_step; // 4: lanes read different floats, 0: all read the same
} p;

layout(set = 0, binding = 0) uniform samplerBuffer tex1;  // the table as R32_SFLOAT
layout(set = 0, binding = 1) uniform samplerBuffer tex4;  // the table as R32G32B32A32_SFLOAT
layout(set = 0, binding = 2, std140) uniform Table { vec4 u[4096]; };
layout(set = 0, binding = 3, std430) readonly buffer Store { float s[]; };

vec4 load4(uint i)  // floats i..i+3, i a multiple of 4
{
    if (VARIANT == 0)
        return vec4(float(i), float(i + 1u), float(i + 2u), float(i + 3u)) * 1e-6;
    if (VARIANT == 1)
        return vec4(p.src.v[i], p.src.v[i + 1u], p.src.v[i + 2u], p.src.v[i + 3u]);
    if (VARIANT == 2)
        return Vec4s(p.src).v[i >> 2];
    if (VARIANT == 3)
        return vec4(texelFetch(tex1, int(i)).x, texelFetch(tex1, int(i + 1u)).x,
                    texelFetch(tex1, int(i + 2u)).x, texelFetch(tex1, int(i + 3u)).x);
    if (VARIANT == 4 || VARIANT == 7)
        return texelFetch(tex4, int(i >> 2));
    if (VARIANT == 5)
        return vec4(s[i], s[i + 1u], s[i + 2u], s[i + 3u]);
    return u[i >> 2];
}

// 4 floats x 16 accumulators = 64 FMA
void fma64(vec4 x, inout vec4 a0, inout vec4 a1, inout vec4 a2, inout vec4 a3)
{
    const vec4 w0 = vec4(0.5, 0.25, 0.125, 1.0), w1 = vec4(-0.5, 2.0, 0.75, -1.0);
    const vec4 w2 = vec4(1.5, -0.25, 0.375, 3.0), w3 = vec4(-2.0, 0.625, -0.75, 0.1);
    a0 = fma(vec4(x.x), w0, a0); a1 = fma(vec4(x.x), w1, a1);
    a2 = fma(vec4(x.x), w2, a2); a3 = fma(vec4(x.x), w3, a3);
    a0 = fma(vec4(x.y), w1, a0); a1 = fma(vec4(x.y), w2, a1);
    a2 = fma(vec4(x.y), w3, a2); a3 = fma(vec4(x.y), w0, a3);
    a0 = fma(vec4(x.z), w2, a0); a1 = fma(vec4(x.z), w3, a1);
    a2 = fma(vec4(x.z), w0, a2); a3 = fma(vec4(x.z), w1, a3);
    a0 = fma(vec4(x.w), w3, a0); a1 = fma(vec4(x.w), w0, a1);
    a2 = fma(vec4(x.w), w1, a2); a3 = fma(vec4(x.w), w2, a3);
}

const uint SHARED_STEPS = 64u;
shared vec4 staged[SHARED_STEPS];

void main()
{
    uint gid = gl_GlobalInvocationID.x, lid = gl_LocalInvocationID.x;
    vec4 a0 = vec4(0.0), a1 = vec4(0.0), a2 = vec4(0.0), a3 = vec4(0.0);
    if (VARIANT == 7 && UNIFORM_INDEX == 0 && p.lane_step == 0u && p.iterations % SHARED_STEPS == 0u) {
        for (uint it0 = 0u; it0 < p.iterations; it0 += SHARED_STEPS) {
            barrier();
            if (lid < SHARED_STEPS)
                staged[lid] = texelFetch(tex4, int((((it0 + lid) * 256u) & p.mask) >> 2));
            barrier();
            [[unroll]] for (uint j = 0u; j < SHARED_STEPS; j++)
                fma64(staged[j], a0, a1, a2, a3);
        }
    } else {
        for (uint it = 0u; it < p.iterations; it++)
            fma64(load4(((UNIFORM_INDEX != 0 ? 0u : gid * p.lane_step) + it * 256u) & p.mask), a0, a1, a2, a3);
    }
    vec4 r = a0 + a1 + a2 + a3;
    p.dst.v[gid] = r.x + r.y + r.z + r.w;
}
