/* Fully connected layer: GPU against the C reference (with and without bias,
 * x and w in several layouts of the same element count), the reference
 * backward against finite differences, accumulation, refused shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

typedef struct fd_ctx {
    int n, in, out;
    const float *x, *w, *b;
} fd_ctx;

static void fd_forward(void *ctx, float *y)
{
    fd_ctx *c = ctx;
    sg_ref_linear_forward(c->n, c->in, c->out, c->x, c->w, c->b, y);
}

/* xs and ws: any layouts of N*In and Out*In elements (x's batch first) */
static void test_one(sg_shape xs, sg_shape ws, int out, bool bias, uint64_t seed)
{
    int n = xs.n, in = (int)(sg_shape_count(xs) / (size_t)n);
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    sg_shape ys = sg_shape4(n, out, 1, 1), bs = sg_shape4(1, out, 1, 1);
    char what[192], base[128];
    snprintf(base, sizeof base, "linear N=%d In=%d Out=%d x(%d,%d,%d,%d) w(%d,%d,%d,%d)%s", n, in,
             out, xs.n, xs.c, xs.h, xs.w, ws.n, ws.c, ws.h, ws.w, bias ? " +b" : "");
    float *x = t_random_array(nx, -1, 1, seed), *w = t_random_array(nw, -1, 1, seed + 1),
          *b = bias ? t_random_array((size_t)out, -1, 1, seed + 2) : NULL, *y = t_alloc(ny),
          *dy = t_random_array(ny, -1, 1, seed + 3), *dx0 = t_random_array(nx, -1, 1, seed + 4),
          *dw0 = t_random_array(nw, -1, 1, seed + 5), *db0 = t_random_array((size_t)out, -1, 1, seed + 6);
    float *dx = t_copy_array(dx0, nx), *dw = t_copy_array(dw0, nw), *db = t_copy_array(db0, (size_t)out);
    sg_ref_linear_forward(n, in, out, x, w, b, y);
    sg_ref_linear_backward(n, in, out, x, w, dy, dx, dw, db);

    sg_tensor *tx = t_tensor(xs, x), *tw = t_tensor(ws, w), *tb = bias ? t_tensor(bs, b) : NULL,
              *ty = t_tensor(ys, NULL), *tdy = t_tensor(ys, dy), *tdx = t_tensor(xs, dx0),
              *tdw = t_tensor(ws, dw0), *tdb = t_tensor(bs, db0);
    /* float sums of up to a few hundred products against double ones */
    T_RUN(sg_linear_forward(seq, tx, tw, tb, ty));
    float *got = t_download(ty);
    snprintf(what, sizeof what, "%s forward", base);
    t_close(what, got, y, ny, 1e-5, 1e-5);
    free(got);
    T_RUN(sg_linear_backward(seq, tx, tw, tdy, tdx, tdw, tdb));
    got = t_download(tdx);
    snprintf(what, sizeof what, "%s backward adds to dx", base);
    t_close(what, got, dx, nx, 1e-5, 1e-5);
    free(got);
    got = t_download(tdw);
    snprintf(what, sizeof what, "%s backward adds to dw", base);
    t_close(what, got, dw, nw, 1e-5, 1e-5);
    free(got);
    got = t_download(tdb);
    snprintf(what, sizeof what, "%s backward adds to db", base);
    t_close(what, got, db, (size_t)out, 1e-5, 1e-5);
    free(got);

    /* each gradient alone, the others NULL: a second pass adds the same again */
    T_RUN(sg_linear_backward(seq, tx, tw, tdy, tdx, NULL, NULL));
    T_RUN(sg_linear_backward(seq, tx, tw, tdy, NULL, tdw, NULL));
    T_RUN(sg_linear_backward(seq, tx, tw, tdy, NULL, NULL, tdb));
    sg_ref_linear_backward(n, in, out, x, w, dy, dx, dw, db);
    got = t_download(tdx);
    snprintf(what, sizeof what, "%s dx alone, twice", base);
    t_close(what, got, dx, nx, 1e-5, 1e-5);
    free(got);
    got = t_download(tdw);
    snprintf(what, sizeof what, "%s dw alone, twice", base);
    t_close(what, got, dw, nw, 1e-5, 1e-5);
    free(got);
    got = t_download(tdb);
    snprintf(what, sizeof what, "%s db alone, twice", base);
    t_close(what, got, db, (size_t)out, 1e-5, 1e-5);
    free(got);

    /* reference backward against finite differences: y is linear in each of
     * x, w, b, so with eps 1e-2 only float rounding of y remains (|y| < In,
     * ulp/eps < 1e-4); tolerance 1e-3 + 1e-3 relative */
    float *gx = t_alloc(nx), *gw = t_alloc(nw), *gb = t_alloc((size_t)out);
    sg_ref_linear_backward(n, in, out, x, w, dy, gx, gw, gb);
    fd_ctx c = {n, in, out, x, w, b};
    snprintf(what, sizeof what, "%s reference dx", base);
    t_grad_check(what, fd_forward, &c, x, nx, gx, dy, ny, 1e-2f, 1e-3, 1e-3, 60);
    snprintf(what, sizeof what, "%s reference dw", base);
    t_grad_check(what, fd_forward, &c, w, nw, gw, dy, ny, 1e-2f, 1e-3, 1e-3, 60);
    if (bias) {
        snprintf(what, sizeof what, "%s reference db", base);
        t_grad_check(what, fd_forward, &c, b, (size_t)out, gb, dy, ny, 1e-2f, 1e-3, 1e-3, 60);
    }

    sg_tensor *ts[] = {tx, tw, tb, ty, tdy, tdx, tdw, tdb};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i])
            sg_tensor_destroy(ts[i]);
    float *bufs[] = {x, w, b, y, dy, dx0, dw0, db0, dx, dw, db, gx, gw, gb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

static void test_errors(void)
{
    sg_tensor *x = t_tensor_fill(sg_shape4(4, 6, 1, 1), 0), *w = t_tensor_fill(sg_shape4(3, 6, 1, 1), 0),
              *b = t_tensor_fill(sg_shape4(1, 3, 1, 1), 0), *y = t_tensor_fill(sg_shape4(4, 3, 1, 1), 0),
              *w_bad = t_tensor_fill(sg_shape4(3, 5, 1, 1), 0), *b_bad = t_tensor_fill(sg_shape4(1, 4, 1, 1), 0),
              *y_n = t_tensor_fill(sg_shape4(2, 3, 1, 1), 0), *y_out = t_tensor_fill(sg_shape4(4, 4, 1, 1), 0),
              *dx_bad = t_tensor_fill(sg_shape4(4, 5, 1, 1), 0);
    T_REFUSED(SG_ERR_SHAPE, "linear_forward", sg_linear_forward(seq, x, w_bad, b, y));
    T_REFUSED(SG_ERR_SHAPE, "linear_forward", sg_linear_forward(seq, x, w, b_bad, y));
    T_REFUSED(SG_ERR_SHAPE, "linear_forward", sg_linear_forward(seq, x, w, b, y_n));
    T_REFUSED(SG_ERR_SHAPE, "linear_forward", sg_linear_forward(seq, x, w, b, y_out));
    T_REFUSED(SG_ERR_ARGUMENT, "linear_forward", sg_linear_forward(seq, x, NULL, b, y));
    T_REFUSED(SG_ERR_SHAPE, "linear_backward", sg_linear_backward(seq, x, w_bad, y, x, w, b));
    T_REFUSED(SG_ERR_SHAPE, "linear_backward", sg_linear_backward(seq, x, w, y_n, x, w, b));
    T_REFUSED(SG_ERR_SHAPE, "linear_backward", sg_linear_backward(seq, x, w, y, dx_bad, w, b));
    T_REFUSED(SG_ERR_SHAPE, "linear_backward", sg_linear_backward(seq, x, w, y, x, w_bad, b));
    T_REFUSED(SG_ERR_SHAPE, "linear_backward", sg_linear_backward(seq, x, w, y, x, w, b_bad));
    T_REFUSED(SG_ERR_ARGUMENT, "linear_backward", sg_linear_backward(seq, x, w, NULL, x, w, b));
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_linear_backward(seq, x, w, y, NULL, NULL, NULL), "backward with no gradients");
    t_check(sg_seq_dispatch_count(seq) == 0, "no gradients: no dispatch recorded");
    sg_seq_destroy(seq);
    sg_tensor *all[] = {x, w, b, y, w_bad, b_bad, y_n, y_out, dx_bad};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
}

/* dw has Out*In > 65535*256 elements (N = 1, a rank-1 update): the one
 * thread per output element kernel needs the 2-D group split. */
static void test_large(void)
{
    const int in = 4099, out = 4097;
    size_t nw = (size_t)in * out;
    float *x = t_random_array((size_t)in, -1, 1, 61), *dy = t_random_array((size_t)out, -1, 1, 62),
          *w = t_random_array(nw, -1, 1, 63), *dw = t_alloc(nw);
    sg_tensor *tx = t_tensor(sg_shape4(1, in, 1, 1), x), *tdy = t_tensor(sg_shape4(1, out, 1, 1), dy),
              *tw = t_tensor(sg_shape4(out, in, 1, 1), w), *tdw = t_tensor_fill(sg_shape4(out, in, 1, 1), 0);
    sg_ref_linear_backward(1, in, out, x, w, dy, NULL, dw, NULL);
    T_RUN(sg_linear_backward(seq, tx, tw, tdy, NULL, tdw, NULL));
    float *got = t_download(tdw);
    t_close("large dw (4097 x 4099)", got, dw, nw, 0, 1e-6);
    free(got);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tw);
    sg_tensor_destroy(tdw);
    free(x);
    free(dy);
    free(w);
    free(dw);
}

int main(void)
{
    t_begin("linear");
    uint64_t seed = 1;
    test_one(sg_shape4(1, 1, 1, 1), sg_shape4(1, 1, 1, 1), 1, true, seed += 10);
    test_one(sg_shape4(1, 7, 1, 1), sg_shape4(3, 7, 1, 1), 3, false, seed += 10);
    test_one(sg_shape4(4, 13, 1, 1), sg_shape4(5, 13, 1, 1), 5, true, seed += 10);
    test_one(sg_shape4(3, 4, 4, 4), sg_shape4(10, 64, 1, 1), 10, true, seed += 10); /* pooled map */
    test_one(sg_shape4(5, 1, 1, 3), sg_shape4(1, 1, 130, 3), 130, true, seed += 10); /* (N,In) */
    test_one(sg_shape4(2, 300, 1, 1), sg_shape4(1, 7, 300, 1), 7, false, seed += 10);
    test_errors();
    test_large();
    return t_end();
}
