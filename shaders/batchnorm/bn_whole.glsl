// The whole forms of bn_normalize and bn_grad_input (their WHOLE_GROUPS bit
// 1): workgroup (x, y) takes values [1024x, 1024x + 1024) of channel y, 4
// quads a lane, H*W/4 a power of two (the push constants' hw4_log2), so that
// a quad's plane is a shift and nothing is conditional (ops/batchnorm.c).
// Included after the push-constant block, which holds C and hw4_log2.

// The tensor's quad for quad k of the lane's 4 in channel c.
uint whole_quad(uint k, uint c)
{
    uint j = (gl_WorkGroupID.x * 4u + k) * gl_WorkGroupSize.x + gl_LocalInvocationID.x; // quad of the channel
    uint hw4 = 1u << p.hw4_log2;
    return ((j >> p.hw4_log2) * p.C + c) * hw4 + (j & (hw4 - 1u));
}
