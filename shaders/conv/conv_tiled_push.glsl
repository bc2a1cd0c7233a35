// The push-constant block of conv_fwd_tiled and conv_bwd_data_tiled (the
// direct kernels', engine/ops/conv.c: conv_push), the copy of a row of packed
// weights into a_tile and the store of a finished sum. After conv_tiled.glsl.
layout(push_constant) uniform Params {
    Floats in_;   // x (forward) or dy (input gradient)
    Floats w;     // packed weights (CONV_PACKED_INDEX, tiles of 16 channels)
    Floats b;     // bias over out's channels, used when flags & 2
    Floats out_;  // y or dx
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, c_pad;
    uint flags;   // 1: add into out, 2: add bias, 4: then out = out >= 0 ? out : slope * out
    int in_base, w_base;  // (the texel kernels' fields: unused here)
    float slope;  // the epilogue's (ReLU: 0, LeakyReLU: its slope)
    uint run_lanes;
    int out_base;
} p;

// Copy this invocation's 4 weights of row A_ROW into a_tile: from packed_index
// (the row's column c0 + A_COL; negative for a row past k: zeros), columns
// past c_pad as zeros.
void put_a(int packed_index, int c0)
{
    vec4 v = vec4(0.0);
    if (packed_index >= 0)
        for (int c = 0; c < 4; c++)
            if (c0 + A_COL + c < p.c_pad)
                v[c] = p.w.v[packed_index + c];
    a_tile[A_ROW * (TILE_C / 4) + A_COL / 4] = v;
}

// out[index] (+)= sum + bias of channel c, then the activation (as the direct
// kernels' store_tile)
void store_sum(float sum, int c, uint index)
{
    float v = sum + ((p.flags & 2u) != 0u ? p.b.v[c] : 0.0);
    if ((p.flags & 1u) != 0u)
        v += p.out_.v[index];
    if ((p.flags & 4u) != 0u)
        v = max(v, 0.0) + p.slope * min(v, 0.0);
    p.out_.v[index] = v;
}
