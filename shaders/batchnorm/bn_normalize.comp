#version 450
// Batch-norm output: y = (x - mean) * invstd * gamma + beta, one workgroup per
// block of one channel (the blocks of bn_stats). In eval mode (from_var = 1)
// `invstd` holds the running variance and invstd = 1/sqrt(var + eps).
// activate != 0 (sg_batchnorm_act_forward_eval, _train): then
// y = y >= 0 ? y : slope * y (ReLU: slope 0) in the same pass.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    Floats mean;
    Floats invstd;
    Floats gamma;
    Floats beta;
    uint C;
    uint HW;
    uint M;
    uint B;
    uint L;
    uint step_n;
    uint step_hw;
    uint from_var;
    float eps;
    uint activate;
    float slope;
    uint x_base;  // CONV_TEXEL: floats from the texel view's start to x
    uint quads;   // H*W % 4 == 0: each lane takes 4 values of a plane at a time
    uint y_base;  // CONV_TEXEL: floats from the storage buffer's start to y (with quads a multiple of 4)
    uint stored;  // CONV_TEXEL: y through the storage buffer (binding 4), else its buffer reference
    uint hw4_log2; // WHOLE_GROUPS: log2(H*W/4)
} p;

// Bit 1: the whole form (bn_whole.glsl), through the texel and storage-buffer
// bindings in quads: straight-line, with no condition before the stores (on
// lavapipe any branch makes every later store a loop over the lanes, ~3x
// slower: eltwise/add_forward.comp); bit 2: activate; bit 4: from the running
// variance; bit 16: 16 quads a lane (bn_whole.glsl). The same arithmetic as the other form.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;
#include "bn_whole.glsl"

#ifdef CONV_TEXEL
// The _texel build reads x as texels (binding 0): R32, or RGBA32 with quads:
// ~6 FMAs a float on lavapipe against ~64 through a buffer reference
// (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#define X4_AT(q) texelFetch(x_floats, int(p.x_base / 4u + (q)))
// and writes y through a storage-buffer descriptor where it fits one: a float
// stored so costs lavapipe a fifth to a third of one through a buffer reference
// (vec4, float). `stored` is a constant where these expand.
layout(set = 0, binding = 4, std430) buffer Stored { float y_stored[]; };
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 y_stored4[]; };
#define STORE(stored_, i_, val_) if (stored_) y_stored[p.y_base + (i_)] = (val_); else p.y.v[i_] = (val_)
#define STORE4(stored_, q_, val_) \
    if (stored_) y_stored4[p.y_base / 4u + (q_)] = (val_); else Vec4s(uint64_t(p.y)).v[q_] = (val_)
#else
#define X_AT(i) p.x.v[i]
#define X4_AT(q) Vec4s(uint64_t(p.x)).v[q]
#define STORE(stored_, i_, val_) p.y.v[i_] = (val_)
#define STORE4(stored_, q_, val_) Vec4s(uint64_t(p.y)).v[q_] = (val_)
#endif

// The same per value as the scalar loop below, 4 values a lane: a vec4 store
// costs on lavapipe what a float store does.
void normalize_quads(bool stored, uint c, uint b, float mean, float scale, float shift)
{
    uint hw4 = p.HW / 4u, step_n = gl_WorkGroupSize.x / hw4, step_hw = gl_WorkGroupSize.x % hw4;
    uint first = b * (p.L / 4u) + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M) / 4u;
    uint n = first / hw4, hw = first % hw4;
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint q = (n * p.C + c) * hw4 + hw;
        vec4 v = (X4_AT(q) - mean) * scale + shift;
        if (p.activate != 0u)
            v = max(v, 0.0) + p.slope * min(v, 0.0);
        STORE4(stored, q, v);
        n += step_n;
        hw += step_hw;
        if (hw >= hw4) {
            hw -= hw4;
            n++;
        }
    }
}

void normalize_floats(bool stored, uint c, uint b, float mean, float scale, float shift)
{
    uint first = b * p.L + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M);
    uint n = first / p.HW, hw = first % p.HW;
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint i = (n * p.C + c) * p.HW + hw;
        float v = (X_AT(i) - mean) * scale + shift;
        if (p.activate != 0u)
            v = max(v, 0.0) + p.slope * min(v, 0.0);  // +0 for ReLU, as max(v, 0)
        STORE(stored, i, v);
        n += p.step_n;
        hw += p.step_hw;
        if (hw >= p.HW) {
            hw -= p.HW;
            n++;
        }
    }
}

// Channel c's terms: y = (x - mean) * scale + shift.
void channel_terms(uint c, bool from_var, out float mean, out float scale, out float shift)
{
    float is = from_var ? 1.0 / sqrt(p.invstd.v[c] + p.eps) : p.invstd.v[c];
    scale = is * p.gamma.v[c];
    mean = p.mean.v[c];
    shift = p.beta.v[c];
}

#ifdef CONV_TEXEL
// Quad k of the lane's 4 in the whole form.
void normalize_whole(uint k, uint c, float mean, float scale, float shift)
{
    uint q = whole_quad(k, c);
    vec4 v = (X4_AT(q) - mean) * scale + shift;
    if ((WHOLE_GROUPS & 2u) != 0u)
        v = max(v, 0.0) + p.slope * min(v, 0.0);
    y_stored4[p.y_base / 4u + q] = v;
}
#endif

void main()
{
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) { // constants: the other form's code is not in this pipeline
        uint c = gl_WorkGroupID.y;
        float mean, scale, shift;
        channel_terms(c, (WHOLE_GROUPS & 4u) != 0u, mean, scale, shift);
#define DO_QUAD(k) normalize_whole(k, c, mean, scale, shift);
        WHOLE_QUADS_DO()
        return;
    }
#endif
    uint g = group_index();
    if (g >= p.C * p.B)
        return;
    uint c = g / p.B, b = g % p.B;
    float mean, scale, shift;
    channel_terms(c, p.from_var != 0u, mean, scale, shift);
    bool stored = p.stored != 0u;
    if (p.quads != 0u && stored)
        normalize_quads(true, c, b, mean, scale, shift);
    else if (p.quads != 0u)
        normalize_quads(false, c, b, mean, scale, shift);
    else if (stored)
        normalize_floats(true, c, b, mean, scale, shift);
    else
        normalize_floats(false, c, b, mean, scale, shift);
}
