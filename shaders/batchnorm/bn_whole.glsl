// The whole forms of the batch-norm kernels (their WHOLE_GROUPS bit 1): the
// per-value kernels (bn_normalize, bn_grad_input) take values [1024x, 1024x +
// 1024) of channel y in workgroup (x, y), 4 quads a lane; the reductions
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

// The tensor's quad for quad k of the lane's 4 in channel c (the per-value kernels).
uint whole_quad(uint k, uint c)
{
    return channel_quad((gl_WorkGroupID.x * 4u + k) * gl_WorkGroupSize.x + gl_LocalInvocationID.x, c);
}
