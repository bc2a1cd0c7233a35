// The texel builds' inner steps, shared by conv_fwd and conv_bwd_data (their
// accumulate_texel, and their row windows below the channel steps): one channel of the
// summed side (conv_fwd's input channels,
// conv_bwd_data's output channels) at one tap, its PX inputs times the C_T
// weights of its tile row. The includer defines PX, C_T and acc[PX][C_T], and
// binds in_floats (its input, one float per texel), in_quads (the same, 4 per
// texel) and w_quads (the packed weights, 4 per texel).

// The PX inputs of one channel (rows: PX consecutive floats from g, read as 3
// vec4 texels shifted into place; else one R32 texel each, at off), zero where
// !ok; then on to the next channel's plane.
void channel_inputs(bool rows, inout int g, inout int off[PX], int plane, int last_quad, bool ok[PX],
                    out float v[PX])
{
    if (rows) {
        // texels outside the tensor are clamped in: they only feed masked pixels
        float f[12];
        int q = g >> 2, shift = g & 3;
        for (int i = 0; i < 3; i++) {
            vec4 t = texelFetch(in_quads, clamp(q + i, 0, last_quad));
            f[4 * i] = t.x; f[4 * i + 1] = t.y; f[4 * i + 2] = t.z; f[4 * i + 3] = t.w;
        }
        // in[g + j] = f[shift + j]: shift by 2, then by 1
        float h[PX + 1];
        for (int i = 0; i <= PX; i++)
            h[i] = (shift & 2) != 0 ? f[i + 2] : f[i];
        for (int j = 0; j < PX; j++)
            v[j] = mix(0.0, (shift & 1) != 0 ? h[j + 1] : h[j], ok[j]);
        g += plane;
    } else {
        for (int j = 0; j < PX; j++) {
            v[j] = mix(0.0, texelFetch(in_floats, off[j]).x, ok[j]);
            off[j] += plane;
        }
    }
}

// acc += one channel's products: its inputs times the weights at texel wq
// (C_T / 4 of them), then wq on to the next channel's row of the tile.
void channel_step(bool rows, inout int g, inout int off[PX], inout int wq, int plane, int last_quad,
                  bool ok[PX])
{
    float v[PX];
    channel_inputs(rows, g, off, plane, last_quad, ok, v);
    for (int t = 0; t < C_T / 4; t++) {
        vec4 w4 = texelFetch(w_quads, wq + t);
        for (int j = 0; j < PX; j++) {
            acc[j][4 * t] = fma(v[j], w4.x, acc[j][4 * t]);
            acc[j][4 * t + 1] = fma(v[j], w4.y, acc[j][4 * t + 1]);
            acc[j][4 * t + 2] = fma(v[j], w4.z, acc[j][4 * t + 2]);
            acc[j][4 * t + 3] = fma(v[j], w4.w, acc[j][4 * t + 3]);
        }
    }
    wq += C_T / 4;
}

// Two channels: each sum takes the first channel's product, then the second's,
// as two channel_steps would (the same bits), but back to back, so that on
// lavapipe, whose register tile does not fit the CPU's registers, each sum is
// loaded and stored once for two products instead of once for each.
void channel_pair(bool rows, inout int g, inout int off[PX], inout int wq, int plane, int last_quad,
                  bool ok[PX])
{
    float v0[PX], v1[PX];
    channel_inputs(rows, g, off, plane, last_quad, ok, v0);
    channel_inputs(rows, g, off, plane, last_quad, ok, v1);
    for (int t = 0; t < C_T / 4; t++) {
        vec4 w0 = texelFetch(w_quads, wq + t), w1 = texelFetch(w_quads, wq + C_T / 4 + t);
        for (int j = 0; j < PX; j++) {
            acc[j][4 * t] = fma(v1[j], w1.x, fma(v0[j], w0.x, acc[j][4 * t]));
            acc[j][4 * t + 1] = fma(v1[j], w1.y, fma(v0[j], w0.y, acc[j][4 * t + 1]));
            acc[j][4 * t + 2] = fma(v1[j], w1.z, fma(v0[j], w0.z, acc[j][4 * t + 2]));
            acc[j][4 * t + 3] = fma(v1[j], w1.w, fma(v0[j], w0.w, acc[j][4 * t + 3]));
        }
    }
    wq += C_T / 2;
}

// The row windows (accumulate_windows of both kernels): the
// taps of one kernel row read one row of inputs at shifted places, so each channel's
// row is read once, as a window, and every tap of the row takes its PX inputs from it.
// A 3x3 stride-1 row's window is PX + 2 floats (tap kw's inputs are v[j + kw]), conv_fwd's
// 4x4 stride-2 row's 2 * PX + 2 (v[2 * j + kw]), conv_bwd_data's 4x4 stride-2 row in a
// phase PX + 1 (two taps); the arrays are sized for the largest.
#define WINDOW_MAX (2 * PX + 2)

// v[m] = in[g + m] for m < len (a constant at each call), zero where !ok[m]: the
// (len + 6) / 4 vec4 texels from g's, shifted into place
void window_at(int g, int len, int last_quad, bool ok[WINDOW_MAX], out float v[WINDOW_MAX])
{
    float f[WINDOW_MAX + 6];
    int q = g >> 2, shift = g & 3;
    [[unroll]] for (int i = 0; i < (len + 6) / 4; i++) {
        vec4 t = texelFetch(in_quads, clamp(q + i, 0, last_quad));
        f[4 * i] = t.x; f[4 * i + 1] = t.y; f[4 * i + 2] = t.z; f[4 * i + 3] = t.w;
    }
    float h[WINDOW_MAX + 1];  // in[g + m] = f[shift + m]: shift by 2, then by 1
    [[unroll]] for (int i = 0; i <= len; i++)
        h[i] = (shift & 2) != 0 ? f[i + 2] : f[i];
    [[unroll]] for (int m = 0; m < len; m++)
        v[m] = mix(0.0, (shift & 1) != 0 ? h[m + 1] : h[m], ok[m]);
}

// acc += two channels' products at a kernel row's `taps` taps: tap kw's inputs are
// a[s * j + o], b[s * j + o] with o = kw (conv_fwd) or taps - 1 - kw (flip:
// conv_bwd_data), its weights at texel wq[kw]; the taps in order, each sum taking the
// two channels' products back to back; then each wq on to the next pair's rows.
// flip, taps and s are constants at each call and the loops are unrolled, so that
// a[s * j + o] is a register, not a lookup in memory (3-5x slower on lavapipe).
void row_pair(bool flip, int taps, int s, float a[WINDOW_MAX], float b[WINDOW_MAX], inout int wq[4])
{
    [[unroll]] for (int kw = 0; kw < taps; kw++) {
        int o = flip ? taps - 1 - kw : kw;
        [[unroll]] for (int t = 0; t < C_T / 4; t++) {
            vec4 w0 = texelFetch(w_quads, wq[kw] + t), w1 = texelFetch(w_quads, wq[kw] + C_T / 4 + t);
            [[unroll]] for (int j = 0; j < PX; j++) {
                float u = a[s * j + o], v = b[s * j + o];
                acc[j][4 * t] = fma(v, w1.x, fma(u, w0.x, acc[j][4 * t]));
                acc[j][4 * t + 1] = fma(v, w1.y, fma(u, w0.y, acc[j][4 * t + 1]));
                acc[j][4 * t + 2] = fma(v, w1.z, fma(u, w0.z, acc[j][4 * t + 2]));
                acc[j][4 * t + 3] = fma(v, w1.w, fma(u, w0.w, acc[j][4 * t + 3]));
            }
        }
        wq[kw] += C_T / 2;
    }
}

// the same for one channel (an odd last one)
void row_single(bool flip, int taps, int s, float a[WINDOW_MAX], int wq[4])
{
    [[unroll]] for (int kw = 0; kw < taps; kw++) {
        int o = flip ? taps - 1 - kw : kw;
        [[unroll]] for (int t = 0; t < C_T / 4; t++) {
            vec4 w0 = texelFetch(w_quads, wq[kw] + t);
            [[unroll]] for (int j = 0; j < PX; j++) {
                float u = a[s * j + o];
                acc[j][4 * t] = fma(u, w0.x, acc[j][4 * t]);
                acc[j][4 * t + 1] = fma(u, w0.y, acc[j][4 * t + 1]);
                acc[j][4 * t + 2] = fma(u, w0.z, acc[j][4 * t + 2]);
                acc[j][4 * t + 3] = fma(u, w0.w, acc[j][4 * t + 3]);
            }
        }
    }
}
