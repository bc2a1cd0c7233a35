/* Shape ops (concat, 2x2 max pool, nearest x2 upsampling, global average
 * pool): GPU against the C reference, the reference backward against finite
 * differences, accumulation, max-pool ties, refused shapes, large tensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

/* The finite-difference checks all use this: one unary reference forward. */
typedef struct fd_ctx {
    void (*forward)(sg_shape xs, const float *x, float *y);
    sg_shape xs;
    const float *x;
} fd_ctx;

static void fd_forward(void *ctx, float *y)
{
    fd_ctx *c = ctx;
    c->forward(c->xs, c->x, y);
}

/* Central differences with eps 1e-2 against the analytic gradient; the ops
 * are linear (max pool piecewise so), so the only error is float rounding of
 * the outputs, about ulp(y) / eps: atol is chosen per op from that. */
static void fd_check(const char *what, void (*forward)(sg_shape, const float *, float *),
                     sg_shape xs, float *x, const float *ana, const float *r, size_t ny,
                     double atol)
{
    fd_ctx c = {forward, xs, x};
    t_grad_check(what, fd_forward, &c, x, sg_shape_count(xs), ana, r, ny, 1e-2f, atol, 1e-3, 100);
}

/* ---- concat ------------------------------------------------------------ */

static sg_shape concat_other; /* b's shape while finite-differencing a, and the reverse */
static const float *concat_fixed;

static void concat_vary_a(sg_shape as, const float *a, float *y)
{
    sg_ref_concat_forward(as, a, concat_other, concat_fixed, y);
}

static void concat_vary_b(sg_shape bs, const float *b, float *y)
{
    sg_ref_concat_forward(concat_other, concat_fixed, bs, b, y);
}

static void test_concat(int n, int ca, int cb, int h, int w, uint64_t seed)
{
    sg_shape as = sg_shape4(n, ca, h, w), bs = sg_shape4(n, cb, h, w),
             ys = sg_shape4(n, ca + cb, h, w);
    size_t na = sg_shape_count(as), nb = sg_shape_count(bs), ny = sg_shape_count(ys);
    char what[160], base[96];
    snprintf(base, sizeof base, "concat (%d,%d,%d,%d)+(%d,%d,%d,%d)", n, ca, h, w, n, cb, h, w);
    float *a = t_random_array(na, -1, 1, seed), *b = t_random_array(nb, -1, 1, seed + 1),
          *dy = t_random_array(ny, -1, 1, seed + 2), *da0 = t_random_array(na, -1, 1, seed + 3),
          *db0 = t_random_array(nb, -1, 1, seed + 4), *y = t_alloc(ny);
    float *da = t_copy_array(da0, na), *db = t_copy_array(db0, nb);
    sg_ref_concat_forward(as, a, bs, b, y);
    sg_ref_concat_backward(as, bs, dy, da, db);

    sg_tensor *ta = t_tensor(as, a), *tb = t_tensor(bs, b), *ty = t_tensor(ys, NULL),
              *tdy = t_tensor(ys, dy), *tda = t_tensor(as, da0), *tdb = t_tensor(bs, db0);
    T_RUN(sg_concat_forward(seq, ta, tb, ty));
    float *got = t_download(ty);
    snprintf(what, sizeof what, "%s forward", base);
    t_close(what, got, y, ny, 0, 0);
    free(got);
    T_RUN(sg_concat_backward(seq, tdy, tda, tdb));
    got = t_download(tda);
    snprintf(what, sizeof what, "%s backward adds to da", base);
    t_close(what, got, da, na, 0, 0);
    free(got);
    got = t_download(tdb);
    snprintf(what, sizeof what, "%s backward adds to db", base);
    t_close(what, got, db, nb, 0, 0);
    free(got);
    /* one gradient at a time: its slice is found from the other's absence */
    t_ok(sg_tensor_upload(tda, da0), "upload");
    t_ok(sg_tensor_upload(tdb, db0), "upload");
    T_RUN(sg_concat_backward(seq, tdy, NULL, tdb));
    T_RUN(sg_concat_backward(seq, tdy, tda, NULL));
    got = t_download(tda);
    snprintf(what, sizeof what, "%s backward da alone", base);
    t_close(what, got, da, na, 0, 0);
    free(got);
    got = t_download(tdb);
    snprintf(what, sizeof what, "%s backward db alone", base);
    t_close(what, got, db, nb, 0, 0);
    free(got);

    float *ga = t_alloc(na), *gb = t_alloc(nb);
    sg_ref_concat_backward(as, bs, dy, ga, gb);
    concat_other = bs;
    concat_fixed = b;
    snprintf(what, sizeof what, "%s reference da", base);
    fd_check(what, concat_vary_a, as, a, ga, dy, ny, 1e-4);
    concat_other = as;
    concat_fixed = a;
    snprintf(what, sizeof what, "%s reference db", base);
    fd_check(what, concat_vary_b, bs, b, gb, dy, ny, 1e-4);

    sg_tensor_destroy(ta);
    sg_tensor_destroy(tb);
    sg_tensor_destroy(ty);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tda);
    sg_tensor_destroy(tdb);
    float *bufs[] = {a, b, dy, da0, db0, y, da, db, ga, gb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

/* ---- unary shape ops: forward and backward against the reference -------- */

typedef struct unary_op {
    const char *name;
    sg_shape (*out_shape)(sg_shape xs);
    void (*ref_forward)(sg_shape xs, const float *x, float *y);
    /* reference backward; x is passed for max pool, ignored by the others */
    void (*ref_backward)(sg_shape xs, const float *x, const float *dy, float *dx);
    sg_status (*forward)(sg_seq *seq, const sg_tensor *x, sg_tensor *y);
    sg_status (*backward)(sg_seq *seq, const sg_tensor *x, const sg_tensor *dy, sg_tensor *dx);
    double atol, rtol; /* forward and backward against the reference */
    bool distinct;     /* inputs without ties (max pool), else random in [-1, 1] */
    double fd_atol;    /* finite differences: see fd_check */
} unary_op;

static sg_shape maxpool_shape(sg_shape s) { return sg_shape4(s.n, s.c, s.h / 2, s.w / 2); }
static sg_shape upsample_shape(sg_shape s) { return sg_shape4(s.n, s.c, 2 * s.h, 2 * s.w); }
static sg_shape avgpool_shape(sg_shape s) { return sg_shape4(s.n, s.c, 1, 1); }

static void upsample_ref_backward(sg_shape xs, const float *x, const float *dy, float *dx)
{
    (void)x;
    sg_ref_upsample2x_backward(xs, dy, dx);
}
static void avgpool_ref_backward(sg_shape xs, const float *x, const float *dy, float *dx)
{
    (void)x;
    sg_ref_avgpool_global_backward(xs, dy, dx);
}
static sg_status upsample_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *dy,
                                   sg_tensor *dx)
{
    (void)x;
    return sg_upsample2x_backward(seq, dy, dx);
}
static sg_status avgpool_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *dy,
                                  sg_tensor *dx)
{
    (void)x;
    return sg_avgpool_global_backward(seq, dy, dx);
}

static const unary_op maxpool_op = {"maxpool2x2", maxpool_shape, sg_ref_maxpool2x2_forward,
                                    sg_ref_maxpool2x2_backward, sg_maxpool2x2_forward,
                                    sg_maxpool2x2_backward, 0, 0, true, 1e-3};
static const unary_op upsample_op = {"upsample2x", upsample_shape, sg_ref_upsample2x_forward,
                                     upsample_ref_backward, sg_upsample2x_forward,
                                     upsample_backward, 1e-6, 1e-6, false, 1e-4};
/* The device sums in float in a different order than the double reference.
 * Its gradient dy/(H*W) is small: finite differences get a tight atol. */
static const unary_op avgpool_op = {"avgpool_global", avgpool_shape, sg_ref_avgpool_global_forward,
                                    avgpool_ref_backward, sg_avgpool_global_forward,
                                    avgpool_backward, 1e-6, 1e-5, false, 1e-5};

/* Distinct values (a shuffled ramp with steps of 0.05) so that no max-pool
 * window has a tie and finite differences with eps 1e-2 never change the
 * argmax. They reach about +-20 (ulp 2e-6): hence max pool's fd atol 1e-3. */
static void distinct_values(float *x, size_t n, uint64_t seed)
{
    float *key = t_random_array(n, 0, 1, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.05f * (float)i - 0.025f * (float)n;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates with the random keys */
        size_t j = (size_t)(key[i - 1] * (float)i) % i;
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
    free(key);
}

static void test_unary(const unary_op *op, sg_shape xs, uint64_t seed)
{
    sg_shape ys = op->out_shape(xs);
    size_t nx = sg_shape_count(xs), ny = sg_shape_count(ys);
    char what[160], base[96];
    snprintf(base, sizeof base, "%s (%d,%d,%d,%d)", op->name, xs.n, xs.c, xs.h, xs.w);
    float *x = t_random_array(nx, -1, 1, seed), *y = t_alloc(ny),
          *dy = t_random_array(ny, -1, 1, seed + 1), *dx0 = t_random_array(nx, -1, 1, seed + 2);
    if (op->distinct)
        distinct_values(x, nx, seed);
    float *dx = t_copy_array(dx0, nx);
    op->ref_forward(xs, x, y);
    op->ref_backward(xs, x, dy, dx);

    sg_tensor *tx = t_tensor(xs, x), *ty = t_tensor(ys, NULL), *tdy = t_tensor(ys, dy),
              *tdx = t_tensor(xs, dx0);
    T_RUN(op->forward(seq, tx, ty));
    float *got = t_download(ty);
    snprintf(what, sizeof what, "%s forward", base);
    t_close(what, got, y, ny, op->atol, op->rtol);
    free(got);
    T_RUN(op->backward(seq, tx, tdy, tdx));
    got = t_download(tdx);
    snprintf(what, sizeof what, "%s backward adds to dx", base);
    t_close(what, got, dx, nx, op->atol, op->rtol);
    free(got);

    float *g = t_alloc(nx);
    op->ref_backward(xs, x, dy, g);
    snprintf(what, sizeof what, "%s reference backward", base);
    fd_check(what, op->ref_forward, xs, x, g, dy, ny, op->fd_atol);
    free(g);

    sg_tensor_destroy(tx);
    sg_tensor_destroy(ty);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tdx);
    free(x);
    free(y);
    free(dy);
    free(dx0);
    free(dx);
}

/* Ties: the gradient goes to the first maximum in row-major order within the
 * window (PyTorch), in the reference and on the device; NaN counts as the max. */
static void test_maxpool_ties(void)
{
    sg_shape xs = sg_shape4(1, 1, 2, 10), ys = sg_shape4(1, 1, 1, 5);
    /* five windows, columns (0,1) (2,3) ... (8,9):
     *   all equal -> top-left | 5 top-right and bottom-left -> top-right |
     *   3 bottom pair -> bottom-left | single max 2 top-right | NaN top-right */
    const float nan = __builtin_nanf("");
    float x[20] = {1, 1, 0, 5, 0, 0, 1, 2, 0, nan,
                   1, 1, 5, 0, 3, 3, 0, 0, 3, 1};
    float dy[5] = {1, 2, 3, 4, 5};
    float want[20] = {1, 0, 0, 2, 0, 0, 0, 4, 0, 5,
                      0, 0, 0, 0, 3, 0, 0, 0, 0, 0};
    float ref[20] = {0};
    sg_ref_maxpool2x2_backward(xs, x, dy, ref);
    bool ref_ok = true;
    for (int i = 0; i < 20; i++)
        ref_ok = ref_ok && ref[i] == want[i];
    t_check(ref_ok, "reference max pool: ties go to the first maximum, NaN is the maximum");
    sg_tensor *tx = t_tensor(xs, x), *tdy = t_tensor(ys, dy), *tdx = t_tensor_fill(xs, 0),
              *ty = t_tensor(ys, NULL);
    T_RUN(sg_maxpool2x2_backward(seq, tx, tdy, tdx));
    float *got = t_download(tdx);
    t_close("device max pool backward with ties", got, want, 20, 0, 0);
    free(got);
    T_RUN(sg_maxpool2x2_forward(seq, tx, ty));
    got = t_download(ty);
    t_check(got[0] == 1 && got[1] == 5 && got[2] == 3 && got[3] == 2 && got[4] != got[4],
            "device max pool forward with ties and NaN: %g %g %g %g %g", got[0], got[1], got[2],
            got[3], got[4]);
    free(got);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tdx);
    sg_tensor_destroy(ty);
}

/* The same ties and NaN in the whole forms (ops/shape.c: widths of whole pairs
 * of quads, whole workgroups of y's quads): 128 planes of 2 x 16, each the
 * five windows above and three of them again, against the reference. */
static void test_maxpool_ties_whole(void)
{
    enum { C = 128, W = 16, PLANE = 2 * W };
    sg_shape xs = sg_shape4(1, C, 2, W), ys = sg_shape4(1, C, 1, W / 2);
    const float nan = __builtin_nanf("");
    const float rows[PLANE] = {1, 1, 0, 5, 0, 0, 1, 2, 0, nan, 1, 1, 0, 5, 0, 0,
                               1, 1, 5, 0, 3, 3, 0, 0, 3, 1,   1, 1, 5, 0, 3, nan};
    size_t nx = sg_shape_count(xs), ny = sg_shape_count(ys);
    float *x = t_alloc(nx), *dy = t_random_array(ny, 1, 2, 91), *want = t_alloc(nx), *want_y = t_alloc(ny);
    for (size_t i = 0; i < nx; i++)
        x[i] = rows[i % PLANE];
    memset(want, 0, nx * sizeof *want);
    sg_ref_maxpool2x2_forward(xs, x, want_y);
    sg_ref_maxpool2x2_backward(xs, x, dy, want);
    sg_tensor *tx = t_tensor(xs, x), *tdy = t_tensor(ys, dy), *tdx = t_tensor_fill(xs, 0), *ty = t_tensor(ys, NULL);
    T_RUN(sg_maxpool2x2_backward(seq, tx, tdy, tdx));
    float *got = t_download(tdx);
    t_close("device max pool backward with ties, whole workgroups", got, want, nx, 0, 0);
    free(got);
    T_RUN(sg_maxpool2x2_forward(seq, tx, ty));
    got = t_download(ty);
    int differ = 0;
    for (size_t i = 0; i < ny; i++)
        differ += !(got[i] == want_y[i] || (got[i] != got[i] && want_y[i] != want_y[i]));
    t_check(differ == 0, "device max pool forward with ties and NaN, whole workgroups: %d of %zu differ", differ, ny);
    free(got);
    sg_tensor *ts[] = {tx, tdy, tdx, ty};
    for (int i = 0; i < 4; i++)
        sg_tensor_destroy(ts[i]);
    free(x), free(dy), free(want), free(want_y);
}

static void test_errors(void)
{
    sg_tensor *a = t_tensor_fill(sg_shape4(2, 3, 4, 6), 0), *b = t_tensor_fill(sg_shape4(2, 5, 4, 6), 0),
              *y = t_tensor_fill(sg_shape4(2, 8, 4, 6), 0), *bad_hw = t_tensor_fill(sg_shape4(2, 5, 4, 5), 0),
              *bad_n = t_tensor_fill(sg_shape4(1, 5, 4, 6), 0), *y9 = t_tensor_fill(sg_shape4(2, 9, 4, 6), 0),
              *half = t_tensor_fill(sg_shape4(2, 3, 2, 3), 0), *dbl = t_tensor_fill(sg_shape4(2, 3, 8, 12), 0),
              *pooled = t_tensor_fill(sg_shape4(2, 3, 1, 1), 0), *thin = t_tensor_fill(sg_shape4(2, 3, 1, 6), 0),
              *thin_y = t_tensor_fill(sg_shape4(2, 3, 1, 3), 0);
    T_REFUSED(SG_ERR_SHAPE, "concat_forward", sg_concat_forward(seq, a, bad_hw, y));
    T_REFUSED(SG_ERR_SHAPE, "concat_forward", sg_concat_forward(seq, a, bad_n, y));
    T_REFUSED(SG_ERR_SHAPE, "concat_forward", sg_concat_forward(seq, a, b, y9));
    T_REFUSED(SG_ERR_ARGUMENT, "concat_forward", sg_concat_forward(seq, a, NULL, y));
    T_REFUSED(SG_ERR_SHAPE, "concat_backward", sg_concat_backward(seq, y9, a, b));
    T_REFUSED(SG_ERR_SHAPE, "concat_backward", sg_concat_backward(seq, y, a, bad_hw));
    T_REFUSED(SG_ERR_SHAPE, "concat_backward", sg_concat_backward(seq, y, y, NULL));
    T_REFUSED(SG_ERR_ARGUMENT, "concat_backward", sg_concat_backward(seq, NULL, a, b));
    T_REFUSED(SG_ERR_SHAPE, "maxpool2x2_forward", sg_maxpool2x2_forward(seq, a, a));
    T_REFUSED(SG_ERR_SHAPE, "maxpool2x2_forward", sg_maxpool2x2_forward(seq, thin, thin_y));
    T_REFUSED(SG_ERR_SHAPE, "maxpool2x2_backward", sg_maxpool2x2_backward(seq, a, a, a));
    T_REFUSED(SG_ERR_SHAPE, "maxpool2x2_backward", sg_maxpool2x2_backward(seq, a, half, dbl));
    T_REFUSED(SG_ERR_SHAPE, "upsample2x_forward", sg_upsample2x_forward(seq, a, a));
    T_REFUSED(SG_ERR_SHAPE, "upsample2x_backward", sg_upsample2x_backward(seq, a, a));
    T_REFUSED(SG_ERR_SHAPE, "avgpool_global_forward", sg_avgpool_global_forward(seq, a, half));
    T_REFUSED(SG_ERR_SHAPE, "avgpool_global_backward", sg_avgpool_global_backward(seq, a, a));
    /* the right shapes pass, and NULL gradients record nothing */
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_maxpool2x2_forward(seq, a, half), "maxpool (2,3,4,6) -> (2,3,2,3)");
    t_ok(sg_upsample2x_forward(seq, a, dbl), "upsample (2,3,4,6) -> (2,3,8,12)");
    t_ok(sg_avgpool_global_forward(seq, a, pooled), "avgpool (2,3,4,6) -> (2,3,1,1)");
    uint32_t before = sg_seq_dispatch_count(seq);
    t_ok(sg_concat_backward(seq, y, NULL, NULL), "concat backward, no gradients");
    t_ok(sg_maxpool2x2_backward(seq, a, half, NULL), "maxpool backward, dx NULL");
    t_ok(sg_upsample2x_backward(seq, dbl, NULL), "upsample backward, dx NULL");
    t_ok(sg_avgpool_global_backward(seq, pooled, NULL), "avgpool backward, dx NULL");
    t_check(sg_seq_dispatch_count(seq) == before, "NULL gradients: no dispatch recorded");
    t_ok(sg_seq_run(seq), "run");
    sg_seq_destroy(seq);
    sg_tensor *all[] = {a, b, y, bad_hw, bad_n, y9, half, dbl, pooled, thin, thin_y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
}

/* Upsampling to more than 65535*256 outputs needs the 2-D group split; the
 * average pool over more than 65535 (n,c) rows splits its workgroups too. */
static void test_large(void)
{
    sg_shape xs = sg_shape4(1, 4, 1025, 1025), ys = upsample_shape(xs);
    size_t nx = sg_shape_count(xs), ny = sg_shape_count(ys);
    float *x = t_random_array(nx, -1, 1, 91), *y = t_alloc(ny), *dx = t_alloc(nx);
    sg_ref_upsample2x_forward(xs, x, y);
    sg_tensor *tx = t_tensor(xs, x), *ty = t_tensor(ys, NULL), *tdx = t_tensor_fill(xs, 0);
    T_RUN(sg_upsample2x_forward(seq, tx, ty));
    float *got = t_download(ty);
    t_close("large upsample2x forward", got, y, ny, 0, 0);
    free(got);
    sg_ref_upsample2x_backward(xs, y, dx); /* dy = y: dx = 4x */
    T_RUN(sg_upsample2x_backward(seq, ty, tdx));
    got = t_download(tdx);
    t_close("large upsample2x backward", got, dx, nx, 0, 0);
    free(got);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(ty);
    sg_tensor_destroy(tdx);
    free(x);
    free(y);
    free(dx);

    xs = sg_shape4(3, 30000, 1, 2);
    nx = sg_shape_count(xs);
    x = t_random_array(nx, -1, 1, 92);
    y = t_alloc(90000);
    sg_ref_avgpool_global_forward(xs, x, y);
    tx = t_tensor(xs, x);
    ty = t_tensor(avgpool_shape(xs), NULL);
    T_RUN(sg_avgpool_global_forward(seq, tx, ty));
    got = t_download(ty);
    t_close("avgpool over 90000 rows", got, y, 90000, 1e-7, 1e-6);
    free(got);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(ty);
    free(x);
    free(y);
}

/* the cases that run on the device, on each read path (the global average
 * pool's row sums read texels where they can) */
static void device_cases(void)
{
    uint64_t seed = 1;
    test_concat(1, 1, 1, 1, 1, seed++);
    test_concat(1, 3, 5, 7, 9, seed++);
    test_concat(2, 6, 3, 5, 4, seed++);
    test_concat(3, 1, 7, 8, 13, seed++);
    test_concat(4, 5, 2, 1, 11, seed++);
    /* parts of whole workgroups of 256 vec4s a sample (concat_part.comp): both; a alone (the
     * forward then copies all of it again in the checked form); b alone */
    test_concat(2, 64, 128, 4, 4, seed++);
    test_concat(2, 64, 3, 4, 4, seed++);
    test_concat(3, 5, 64, 4, 4, seed++);
    const sg_shape pool_shapes[] = {
        sg_shape4(1, 1, 2, 2), sg_shape4(1, 3, 5, 7), sg_shape4(2, 5, 8, 6), sg_shape4(3, 2, 9, 9),
        sg_shape4(2, 7, 2, 3), sg_shape4(4, 3, 12, 5),
    };
    for (size_t i = 0; i < sizeof pool_shapes / sizeof pool_shapes[0]; i++) {
        test_unary(&maxpool_op, pool_shapes[i], seed++);
        test_unary(&upsample_op, pool_shapes[i], seed++);
        test_unary(&avgpool_op, pool_shapes[i], seed++);
    }
    test_unary(&upsample_op, sg_shape4(2, 3, 1, 1), seed++);
    test_unary(&avgpool_op, sg_shape4(2, 3, 1, 1), seed++);
    test_unary(&avgpool_op, sg_shape4(2, 3, 64, 70), seed++); /* rows of 4480: 256 threads */
    test_unary(&avgpool_op, sg_shape4(3, 2, 8, 8), seed++);   /* rows of whole rounds of 8 quads: the whole form */
    /* upsampling (and the average pool's backward) in whole workgroups of a quad an invocation: 1024 quads of
     * x in rows of 16, and 256 in rows of 4 */
    test_unary(&upsample_op, sg_shape4(2, 16, 8, 16), seed++);
    test_unary(&maxpool_op, sg_shape4(2, 16, 8, 16), seed++); /* the max pool's whole forms: 256 quads of y */
    test_unary(&upsample_op, sg_shape4(4, 16, 4, 4), seed++);
    test_unary(&avgpool_op, sg_shape4(2, 16, 8, 16), seed++);
    test_maxpool_ties();
    test_maxpool_ties_whole();
    test_large();
}

int main(void)
{
    t_begin("shape");
    device_cases();
    test_errors();
    t_again_with_buffer_reads(device_cases);
    return t_end();
}
