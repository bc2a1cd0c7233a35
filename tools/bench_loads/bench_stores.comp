#version 450
// The cost of one stored float on a device (tools/bench_loads.c): every
// invocation computes 64 FMAs per step, as bench_loads.comp's no-load
// baseline does, then stores 4 of its accumulators, as a convolution's
// epilogue stores its register tile. Lane i writes floats 4i..4i+3 of one of
// 4 slots of the destination (it & 3; a fifth slot takes each lane's final
// sum), so lanes write different addresses and no two lanes the same float:
// the destination's final contents are the same whatever the path. Variants
// 7-10 add into the destination instead (dst += value, as an input gradient
// accumulates into dx), reading it first.
// The store path is the specialization constant VARIANT:
//   0 no store per step (the FMA-only baseline)
//   1 4 floats through a buffer reference (the engine's tensors today)
//   2 4 floats through a storage-buffer descriptor (SSBO)
//   3 4 imageStore to a storage texel buffer, r32f
//   4 one vec4 through a buffer reference
//   5 one vec4 through an SSBO
//   6 one vec4 imageStore, rgba32f
//   7 4 floats added into: buffer reference load + store
//   8 4 floats added into: SSBO load + store
//   9 4 floats added into: texelFetch (uniform texel buffer, R32) + imageStore r32f
//  10 4 floats added into: imageLoad + imageStore r32f
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

layout(local_size_x = 64) in;
layout(constant_id = 0) const int VARIANT = 0;

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Floats { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer Vec4s { vec4 v[]; };

layout(push_constant) uniform Params {
    Floats src;     // unused here (bench_loads.comp's table)
    Floats dst;     // 4 slots of 4 floats per invocation, then one float per invocation
    uint iterations;
    uint mask;      // unused here
    uint slot;      // floats per slot: 4 per invocation
} p;

layout(set = 0, binding = 4, r32f) uniform imageBuffer dst1;      // dst as R32_SFLOAT
layout(set = 0, binding = 5, rgba32f) uniform imageBuffer dst4;   // dst as R32G32B32A32_SFLOAT
layout(set = 0, binding = 6, std430) buffer Dst { float s[]; };   // dst as an SSBO
layout(set = 0, binding = 8, std430) buffer Dst4 { vec4 s4[]; };  // the same, as vec4
layout(set = 0, binding = 7) uniform samplerBuffer dst_read;      // dst as R32 texels, read

void store4(uint i, vec4 v)  // floats i..i+3, i a multiple of 4
{
    if (VARIANT == 1) {
        p.dst.v[i] = v.x; p.dst.v[i + 1u] = v.y; p.dst.v[i + 2u] = v.z; p.dst.v[i + 3u] = v.w;
    } else if (VARIANT == 2) {
        s[i] = v.x; s[i + 1u] = v.y; s[i + 2u] = v.z; s[i + 3u] = v.w;
    } else if (VARIANT == 3) {
        imageStore(dst1, int(i), vec4(v.x)); imageStore(dst1, int(i + 1u), vec4(v.y));
        imageStore(dst1, int(i + 2u), vec4(v.z)); imageStore(dst1, int(i + 3u), vec4(v.w));
    } else if (VARIANT == 4) {
        Vec4s(p.dst).v[i >> 2] = v;
    } else if (VARIANT == 5) {
        s4[i >> 2] = v;
    } else if (VARIANT == 6) {
        imageStore(dst4, int(i >> 2), v);
    } else if (VARIANT == 7) {
        p.dst.v[i] += v.x; p.dst.v[i + 1u] += v.y; p.dst.v[i + 2u] += v.z; p.dst.v[i + 3u] += v.w;
    } else if (VARIANT == 8) {
        s[i] += v.x; s[i + 1u] += v.y; s[i + 2u] += v.z; s[i + 3u] += v.w;
    } else if (VARIANT == 9) {
        for (uint k = 0u; k < 4u; k++)
            imageStore(dst1, int(i + k), vec4(texelFetch(dst_read, int(i + k)).x + v[k]));
    } else if (VARIANT == 10) {
        for (uint k = 0u; k < 4u; k++)
            imageStore(dst1, int(i + k), vec4(imageLoad(dst1, int(i + k)).x + v[k]));
    }
}

void main()
{
    uint gid = gl_GlobalInvocationID.x;
    vec4 a0 = vec4(0.0), a1 = vec4(0.0), a2 = vec4(0.0), a3 = vec4(0.0);
    const vec4 w0 = vec4(0.5, 0.25, 0.125, 1.0), w1 = vec4(-0.5, 2.0, 0.75, -1.0);
    const vec4 w2 = vec4(1.5, -0.25, 0.375, 3.0), w3 = vec4(-2.0, 0.625, -0.75, 0.1);
    for (uint it = 0u; it < p.iterations; it++) {
        uint i = gid * 4u + it * 256u;
        vec4 x = vec4(float(i), float(i + 1u), float(i + 2u), float(i + 3u)) * 1e-6;
        // 4 floats x 16 accumulators = 64 FMA, as bench_loads.comp
        a0 = fma(vec4(x.x), w0, a0); a1 = fma(vec4(x.x), w1, a1);
        a2 = fma(vec4(x.x), w2, a2); a3 = fma(vec4(x.x), w3, a3);
        a0 = fma(vec4(x.y), w1, a0); a1 = fma(vec4(x.y), w2, a1);
        a2 = fma(vec4(x.y), w3, a2); a3 = fma(vec4(x.y), w0, a3);
        a0 = fma(vec4(x.z), w2, a0); a1 = fma(vec4(x.z), w3, a1);
        a2 = fma(vec4(x.z), w0, a2); a3 = fma(vec4(x.z), w1, a3);
        a0 = fma(vec4(x.w), w3, a0); a1 = fma(vec4(x.w), w0, a1);
        a2 = fma(vec4(x.w), w1, a2); a3 = fma(vec4(x.w), w2, a3);
        store4((it & 3u) * p.slot + gid * 4u, a0);
    }
    // every variant keeps all 64 FMAs alive: the sum goes to a fifth slot
    vec4 r = a0 + a1 + a2 + a3;
    p.dst.v[4u * p.slot + gid] = r.x + r.y + r.z + r.w;
}
