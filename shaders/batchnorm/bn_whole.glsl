// The whole forms of the batch-norm kernels (their WHOLE_GROUPS bit 1): the
// per-value kernels (bn_normalize, bn_grad_input) take values [1024x, 1024x +
// 1024) of channel y in workgroup (x, y), 4 quads a lane (or 4096 values, 16
// quads a lane: WHOLE_QUADS); the reductions
// (bn_stats, bn_grad_sums) a block of `quads_per_lane` quads a lane. H*W/4 is
// a power of two (the push constants' hw4_log2), so that a quad's plane is a
// shift and nothing is conditional (ops/batchnorm.c). Included after the
// push-constant block, which holds C and hw4_log2.

// The tensor's quad for quad j of channel c (its values in (n, h, w) order).
uint channel_quad(uint j, uint c)
{
    uint hw4 = 1u << p.hw4_log2;
    return ((j >> p.hw4_log2) * p.C + c) * hw4 + (j & (hw4 - 1u));
}

// Quads a lane of the per-value kernels: 4, or 16 with bit 16 (channels of
// whole 4096 values), where the loads of a channel's terms (through buffer
// references, ~60 FMAs' worth each on lavapipe) serve 4x the values.
const uint WHOLE_QUADS = (WHOLE_GROUPS & 16u) != 0u ? 16u : 4u;

// The lane's quads of the per-value kernels, k = 0 .. WHOLE_QUADS-1 written
// out (in a loop lavapipe would store through the lanes' mask); DO_QUAD(k)
// is the shader's. WHOLE_QUADS is a constant: its test folds away.
#define WHOLE_QUADS_DO()                                                        \
    {                                                                           \
        DO_QUAD(0u) DO_QUAD(1u) DO_QUAD(2u) DO_QUAD(3u)                         \
        if (WHOLE_QUADS == 16u) {                                               \
            DO_QUAD(4u) DO_QUAD(5u) DO_QUAD(6u) DO_QUAD(7u)                     \
            DO_QUAD(8u) DO_QUAD(9u) DO_QUAD(10u) DO_QUAD(11u)                   \
            DO_QUAD(12u) DO_QUAD(13u) DO_QUAD(14u) DO_QUAD(15u)                 \
        }                                                                       \
    }

// The tensor's quad for quad k of the lane's WHOLE_QUADS in channel c (the per-value kernels).
uint whole_quad(uint k, uint c)
{
    return channel_quad((gl_WorkGroupID.x * WHOLE_QUADS + k) * gl_WorkGroupSize.x + gl_LocalInvocationID.x, c);
}
