/* Reference math of the shape ops. */
#include <math.h>
#include <string.h>

#include "sgad/ref.h"

/* y (N, Ca+Cb, H, W): per sample, a's channels then b's. */
void sg_ref_concat_forward(sg_shape as, const float *a, sg_shape bs, const float *b, float *y)
{
    size_t hw = (size_t)as.h * as.w, la = (size_t)as.c * hw, lb = (size_t)bs.c * hw;
    for (int n = 0; n < as.n; n++) {
        memcpy(y + n * (la + lb), a + n * la, la * sizeof *y);
        memcpy(y + n * (la + lb) + la, b + n * lb, lb * sizeof *y);
    }
}

void sg_ref_concat_backward(sg_shape as, sg_shape bs, const float *dy, float *da, float *db)
{
    size_t hw = (size_t)as.h * as.w, la = (size_t)as.c * hw, lb = (size_t)bs.c * hw;
    for (int n = 0; n < as.n; n++) {
        const float *d = dy + n * (la + lb);
        for (size_t i = 0; da && i < la; i++)
            da[n * la + i] += d[i];
        for (size_t i = 0; db && i < lb; i++)
            db[n * lb + i] += d[la + i];
    }
}

/* Offset within x of the maximum of window (oh, ow) of plane p: the first in
 * row-major order on ties, a NaN counting as the maximum (as PyTorch). */
static size_t window_argmax(sg_shape xs, const float *p, int oh, int ow)
{
    size_t best = (size_t)(2 * oh) * xs.w + 2 * ow;
    for (int dh = 0; dh < 2; dh++)
        for (int dw = 0; dw < 2; dw++) {
            size_t k = (size_t)(2 * oh + dh) * xs.w + 2 * ow + dw;
            if (p[k] > p[best] || (isnan(p[k]) && k != best))
                best = k;
        }
    return best;
}

void sg_ref_maxpool2x2_forward(sg_shape xs, const float *x, float *y)
{
    int ho = xs.h / 2, wo = xs.w / 2;
    size_t planes = (size_t)xs.n * xs.c;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *p = x + pl * xs.h * xs.w;
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++)
                y[(pl * ho + oh) * wo + ow] = p[window_argmax(xs, p, oh, ow)];
    }
}

/* Each window's gradient goes to its argmax; an odd trailing row/column gets none. */
void sg_ref_maxpool2x2_backward(sg_shape xs, const float *x, const float *dy, float *dx)
{
    if (!dx)
        return;
    int ho = xs.h / 2, wo = xs.w / 2;
    size_t planes = (size_t)xs.n * xs.c;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *p = x + pl * xs.h * xs.w;
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++)
                dx[pl * xs.h * xs.w + window_argmax(xs, p, oh, ow)] += dy[(pl * ho + oh) * wo + ow];
    }
}

/* y (N,C,2H,2W): y[i][j] = x[i/2][j/2] */
void sg_ref_upsample2x_forward(sg_shape xs, const float *x, float *y)
{
    size_t planes = (size_t)xs.n * xs.c;
    int h2 = 2 * xs.h, w2 = 2 * xs.w;
    for (size_t pl = 0; pl < planes; pl++)
        for (int i = 0; i < h2; i++)
            for (int j = 0; j < w2; j++)
                y[(pl * h2 + i) * w2 + j] = x[(pl * xs.h + i / 2) * xs.w + j / 2];
}

void sg_ref_upsample2x_backward(sg_shape xs, const float *dy, float *dx)
{
    if (!dx)
        return;
    size_t planes = (size_t)xs.n * xs.c;
    int h2 = 2 * xs.h, w2 = 2 * xs.w;
    for (size_t pl = 0; pl < planes; pl++)
        for (int i = 0; i < h2; i++)
            for (int j = 0; j < w2; j++)
                dx[(pl * xs.h + i / 2) * xs.w + j / 2] += dy[(pl * h2 + i) * w2 + j];
}

/* y (N,C,1,1) = mean over H,W */
void sg_ref_avgpool_global_forward(sg_shape xs, const float *x, float *y)
{
    size_t planes = (size_t)xs.n * xs.c, hw = (size_t)xs.h * xs.w;
    for (size_t pl = 0; pl < planes; pl++) {
        double s = 0;
        for (size_t j = 0; j < hw; j++)
            s += x[pl * hw + j];
        y[pl] = (float)(s / (double)hw);
    }
}

void sg_ref_avgpool_global_backward(sg_shape xs, const float *dy, float *dx)
{
    if (!dx)
        return;
    size_t planes = (size_t)xs.n * xs.c, hw = (size_t)xs.h * xs.w;
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t j = 0; j < hw; j++)
            dx[pl * hw + j] = (float)(dx[pl * hw + j] + dy[pl] / (double)hw);
}
