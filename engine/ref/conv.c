/* Reference convolution and transposed convolution (direct loops).
 *
 * conv2d:   y[n,co,oh,ow] = b[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d]
 * transposed conv2d is the adjoint of conv2d in x: it scatters each input pixel
 * through the kernel, y[n,co,ih*s-p+kh*d, iw*s-p+kw*d] += w[ci,co,kh,kw] * x[n,ci,ih,iw]. */
#include <stdlib.h>
#include <string.h>

#include "sgad/ref.h"

/* Visit every (output pixel, tap, input pixel) triple of a convolution with input
 * xs and out_c output channels; the three ref functions differ only in what they
 * accumulate at each one. */
typedef struct conv_geom {
    int n, ci, h, w, co, ho, wo, kh, kw, s, p, d;
} conv_geom;

static conv_geom geom(const sg_conv2d *p, sg_shape xs, int out_c)
{
    conv_geom g = {xs.n, xs.c, xs.h, xs.w, out_c,
                   sg_conv2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation),
                   sg_conv2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation),
                   p->kernel_h, p->kernel_w, p->stride, p->padding, p->dilation};
    return g;
}

#define X_AT(g, n, c, i, j) ((((size_t)(n) * (g).ci + (c)) * (g).h + (i)) * (g).w + (j))
#define Y_AT(g, n, c, i, j) ((((size_t)(n) * (g).co + (c)) * (g).ho + (i)) * (g).wo + (j))
#define W_AT(g, o, c, i, j) ((((size_t)(o) * (g).ci + (c)) * (g).kh + (i)) * (g).kw + (j))

void sg_ref_conv2d_forward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                           const float *w, const float *b, float *y)
{
    conv_geom g = geom(p, xs, out_c);
    for (int n = 0; n < g.n; n++)
        for (int co = 0; co < g.co; co++)
            for (int oh = 0; oh < g.ho; oh++)
                for (int ow = 0; ow < g.wo; ow++) {
                    double acc = b ? b[co] : 0.0;
                    for (int ci = 0; ci < g.ci; ci++)
                        for (int kh = 0; kh < g.kh; kh++) {
                            int ih = oh * g.s - g.p + kh * g.d;
                            if (ih < 0 || ih >= g.h)
                                continue;
                            for (int kw = 0; kw < g.kw; kw++) {
                                int iw = ow * g.s - g.p + kw * g.d;
                                if (iw >= 0 && iw < g.w)
                                    acc += (double)w[W_AT(g, co, ci, kh, kw)] * x[X_AT(g, n, ci, ih, iw)];
                            }
                        }
                    y[Y_AT(g, n, co, oh, ow)] = (float)acc;
                }
}

void sg_ref_conv2d_backward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                            const float *w, const float *dy, float *dx, float *dw, float *db)
{
    conv_geom g = geom(p, xs, out_c);
    size_t nx = sg_shape_count(xs), nw = (size_t)g.co * g.ci * g.kh * g.kw;
    double *gx = dx ? calloc(nx, sizeof *gx) : NULL;
    double *gw = dw ? calloc(nw, sizeof *gw) : NULL;
    for (int n = 0; n < g.n; n++)
        for (int co = 0; co < g.co; co++)
            for (int oh = 0; oh < g.ho; oh++)
                for (int ow = 0; ow < g.wo; ow++) {
                    double gy = dy[Y_AT(g, n, co, oh, ow)];
                    for (int ci = 0; ci < g.ci; ci++)
                        for (int kh = 0; kh < g.kh; kh++) {
                            int ih = oh * g.s - g.p + kh * g.d;
                            if (ih < 0 || ih >= g.h)
                                continue;
                            for (int kw = 0; kw < g.kw; kw++) {
                                int iw = ow * g.s - g.p + kw * g.d;
                                if (iw < 0 || iw >= g.w)
                                    continue;
                                if (gx)
                                    gx[X_AT(g, n, ci, ih, iw)] += gy * w[W_AT(g, co, ci, kh, kw)];
                                if (gw)
                                    gw[W_AT(g, co, ci, kh, kw)] += gy * x[X_AT(g, n, ci, ih, iw)];
                            }
                        }
                }
    for (size_t i = 0; gx && i < nx; i++)
        dx[i] += (float)gx[i];
    for (size_t i = 0; gw && i < nw; i++)
        dw[i] += (float)gw[i];
    if (db)
        for (int co = 0; co < g.co; co++) {
            double acc = 0;
            for (int n = 0; n < g.n; n++)
                for (int i = 0; i < g.ho * g.wo; i++)
                    acc += dy[Y_AT(g, n, co, 0, 0) + i];
            db[co] += (float)acc;
        }
    free(gx);
    free(gw);
}

/* A transposed convolution with input xs (Ci channels) and out_c outputs is the
 * input-gradient of a convolution from out_c channels (the transposed conv's
 * output) to Ci channels whose weight (Ci, out_c, kh, kw) is exactly w. */
static sg_shape transposed_out_shape(const sg_conv2d *p, sg_shape xs, int out_c)
{
    return sg_shape4(xs.n, out_c,
                     sg_conv_transpose2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation),
                     sg_conv_transpose2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation));
}

void sg_ref_conv_transpose2d_forward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                                     const float *w, const float *b, float *y)
{
    sg_shape ys = transposed_out_shape(p, xs, out_c);
    size_t ny = sg_shape_count(ys), plane = (size_t)ys.h * ys.w;
    for (size_t i = 0; i < ny; i++)
        y[i] = b ? b[(i / plane) % (size_t)out_c] : 0.0f;
    /* y += dconv(x)/d(input), the conv mapping y's shape to x's shape */
    sg_ref_conv2d_backward(p, ys, NULL, xs.c, w, x, y, NULL, NULL);
}

void sg_ref_conv_transpose2d_backward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                                      const float *w, const float *dy, float *dx, float *dw,
                                      float *db)
{
    sg_shape ys = transposed_out_shape(p, xs, out_c);
    /* the adjoint of the adjoint: dx += conv(dy, w) */
    if (dx) {
        size_t nx = sg_shape_count(xs);
        float *t = malloc(nx * sizeof *t);
        sg_ref_conv2d_forward(p, ys, dy, xs.c, w, NULL, t);
        for (size_t i = 0; i < nx; i++)
            dx[i] += t[i];
        free(t);
    }
    /* weight gradient of the equivalent conv (input dy-shaped, output x-shaped) */
    if (dw)
        sg_ref_conv2d_backward(p, ys, dy, xs.c, w, x, NULL, dw, NULL);
    if (db) {
        size_t plane = (size_t)ys.h * ys.w;
        for (int co = 0; co < out_c; co++) {
            double acc = 0;
            for (int n = 0; n < ys.n; n++)
                for (size_t i = 0; i < plane; i++)
                    acc += dy[((size_t)n * out_c + co) * plane + i];
            db[co] += (float)acc;
        }
    }
}
