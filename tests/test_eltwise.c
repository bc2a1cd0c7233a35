/* add and mul (same shape and per-channel broadcast): GPU against the C
 * reference, the reference backward against finite differences, accumulation,
 * aliasing, refused shapes, and tensors large enough for the 2-D group split;
 * the device cases run three times: reading texels (the *_texel kernels,
 * writing through a storage buffer), on a second device with buffer_reads,
 * through buffer references, and on a third with buffer_stores, reading texels
 * but writing through buffer references. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

static void test_add(sg_shape s, uint64_t seed)
{
    size_t n = sg_shape_count(s);
    char what[128];
    float *a = t_random_array(n, -2, 2, seed), *b = t_random_array(n, -2, 2, seed + 1), *y = t_alloc(n);
    sg_ref_add_forward(n, a, b, y);
    sg_tensor *ta = t_tensor(s, a), *tb = t_tensor(s, b), *ty = t_tensor(s, NULL);
    T_RUN(sg_add_forward(seq, ta, tb, ty));
    float *got = t_download(ty);
    snprintf(what, sizeof what, "add (%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
    t_close(what, got, y, n, 0, 0); /* one float addition: exact */
    free(got);
    /* y aliasing a, then b */
    T_RUN(sg_add_forward(seq, ta, tb, ta));
    got = t_download(ta);
    snprintf(what, sizeof what, "add into a (%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
    t_close(what, got, y, n, 0, 0);
    free(got);
    t_ok(sg_tensor_upload(ta, a), "upload");
    T_RUN(sg_add_forward(seq, ta, tb, tb));
    got = t_download(tb);
    snprintf(what, sizeof what, "add into b (%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
    t_close(what, got, y, n, 0, 0);
    free(got);
    sg_tensor_destroy(ta);
    sg_tensor_destroy(tb);
    sg_tensor_destroy(ty);
    free(a);
    free(b);
    free(y);
}

typedef struct mul_ctx {
    sg_shape as, bs;
    const float *a, *b;
} mul_ctx;

static void mul_fd_forward(void *ctx, float *y)
{
    mul_ctx *c = ctx;
    sg_ref_mul_forward(c->as, c->a, c->bs, c->b, y);
}

/* bcast: b is (N,C,1,1) instead of a's shape */
static void test_mul(sg_shape as, bool bcast, uint64_t seed)
{
    sg_shape bs = bcast ? sg_shape4(as.n, as.c, 1, 1) : as;
    size_t n = sg_shape_count(as), nb = sg_shape_count(bs);
    char what[160], base[96];
    snprintf(base, sizeof base, "mul %s (%d,%d,%d,%d)", bcast ? "per-channel" : "same-shape", as.n,
             as.c, as.h, as.w);
    float *a = t_random_array(n, -2, 2, seed), *b = t_random_array(nb, -2, 2, seed + 1),
          *dy = t_random_array(n, -1, 1, seed + 2), *da0 = t_random_array(n, -1, 1, seed + 3),
          *db0 = t_random_array(nb, -1, 1, seed + 4), *y = t_alloc(n), *da = t_alloc(n),
          *db = t_alloc(nb);
    sg_ref_mul_forward(as, a, bs, b, y);
    memcpy(da, da0, n * sizeof *da);
    memcpy(db, db0, nb * sizeof *db);
    sg_ref_mul_backward(as, a, bs, b, dy, da, db);

    sg_tensor *ta = t_tensor(as, a), *tb = t_tensor(bs, b), *ty = t_tensor(as, NULL),
              *tdy = t_tensor(as, dy), *tda = t_tensor(as, da0), *tdb = t_tensor(bs, db0);
    T_RUN(sg_mul_forward(seq, ta, tb, ty));
    float *got = t_download(ty);
    snprintf(what, sizeof what, "%s forward", base);
    t_close(what, got, y, n, 0, 0); /* one float multiply: exact */
    free(got);

    T_RUN(sg_mul_backward(seq, ta, tb, tdy, tda, tdb));
    got = t_download(tda);
    snprintf(what, sizeof what, "%s backward adds to da", base);
    t_close(what, got, da, n, 1e-6, 1e-6);
    free(got);
    got = t_download(tdb);
    /* the per-channel sum runs in float on the device, in double in the reference */
    snprintf(what, sizeof what, "%s backward adds to db", base);
    t_close(what, got, db, nb, 1e-5, 1e-5);
    free(got);

    /* one gradient at a time: the other is NULL and left alone */
    float *db_only = t_alloc(nb), *da_only = t_alloc(n);
    memcpy(db_only, db0, nb * sizeof *db_only);
    sg_ref_mul_backward(as, a, bs, b, dy, NULL, db_only);
    memcpy(da_only, da0, n * sizeof *da_only);
    sg_ref_mul_backward(as, a, bs, b, dy, da_only, NULL);
    t_ok(sg_tensor_upload(tda, da0), "upload");
    t_ok(sg_tensor_upload(tdb, db0), "upload");
    T_RUN(sg_mul_backward(seq, ta, tb, tdy, NULL, tdb));
    got = t_download(tdb);
    snprintf(what, sizeof what, "%s backward db only", base);
    t_close(what, got, db_only, nb, 1e-5, 1e-5);
    free(got);
    T_RUN(sg_mul_backward(seq, ta, tb, tdy, tda, NULL));
    got = t_download(tda);
    snprintf(what, sizeof what, "%s backward da only", base);
    t_close(what, got, da_only, n, 1e-6, 1e-6);
    free(got);

    /* y aliasing a */
    T_RUN(sg_mul_forward(seq, ta, tb, ta));
    got = t_download(ta);
    snprintf(what, sizeof what, "%s forward into a", base);
    t_close(what, got, y, n, 0, 0);
    free(got);

    /* reference backward against finite differences (L = sum dy*y): y is
     * bilinear, so central differences with eps 1e-2 are exact up to float
     * rounding of y; tolerance 1e-3 + 1e-3 relative */
    float *ga = t_alloc(n), *gb = t_alloc(nb);
    sg_ref_mul_backward(as, a, bs, b, dy, ga, gb);
    mul_ctx c = {as, bs, a, b};
    snprintf(what, sizeof what, "%s reference da", base);
    t_grad_check(what, mul_fd_forward, &c, a, n, ga, dy, n, 1e-2f, 1e-3, 1e-3, 100);
    snprintf(what, sizeof what, "%s reference db", base);
    t_grad_check(what, mul_fd_forward, &c, b, nb, gb, dy, n, 1e-2f, 1e-3, 1e-3, 100);

    sg_tensor_destroy(ta);
    sg_tensor_destroy(tb);
    sg_tensor_destroy(ty);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tda);
    sg_tensor_destroy(tdb);
    free(a);
    free(b);
    free(dy);
    free(da0);
    free(db0);
    free(y);
    free(da);
    free(db);
    free(db_only);
    free(da_only);
    free(ga);
    free(gb);
}

static void test_errors(void)
{
    sg_shape s = sg_shape4(2, 3, 4, 5);
    sg_tensor *a = t_tensor_fill(s, 1), *b = t_tensor_fill(s, 1),
              *t = t_tensor_fill(sg_shape4(2, 3, 5, 4), 1),
              *ch = t_tensor_fill(sg_shape4(2, 3, 1, 1), 1),
              *ch1 = t_tensor_fill(sg_shape4(1, 3, 1, 1), 1), /* batch 1: not broadcast */
              *row = t_tensor_fill(sg_shape4(2, 3, 1, 5), 1);
    T_REFUSED(SG_ERR_SHAPE, "add_forward", sg_add_forward(seq, a, t, b));
    T_REFUSED(SG_ERR_SHAPE, "add_forward", sg_add_forward(seq, a, b, t));
    T_REFUSED(SG_ERR_ARGUMENT, "add_forward", sg_add_forward(seq, a, NULL, b));
    T_REFUSED(SG_ERR_SHAPE, "mul_forward", sg_mul_forward(seq, a, t, b));
    T_REFUSED(SG_ERR_SHAPE, "mul_forward", sg_mul_forward(seq, a, ch1, b));
    T_REFUSED(SG_ERR_SHAPE, "mul_forward", sg_mul_forward(seq, a, row, b));
    T_REFUSED(SG_ERR_SHAPE, "mul_forward", sg_mul_forward(seq, a, ch, ch)); /* y must be a's */
    T_REFUSED(SG_ERR_ARGUMENT, "mul_forward", sg_mul_forward(seq, a, ch, NULL));
    T_REFUSED(SG_ERR_SHAPE, "mul_backward", sg_mul_backward(seq, a, ch1, b, b, ch1));
    T_REFUSED(SG_ERR_SHAPE, "mul_backward", sg_mul_backward(seq, a, ch, t, b, ch)); /* dy */
    T_REFUSED(SG_ERR_SHAPE, "mul_backward", sg_mul_backward(seq, a, ch, b, t, ch)); /* da */
    T_REFUSED(SG_ERR_SHAPE, "mul_backward", sg_mul_backward(seq, a, ch, b, b, b));  /* db */
    T_REFUSED(SG_ERR_ARGUMENT, "mul_backward", sg_mul_backward(seq, a, ch, NULL, b, ch));
    sg_tensor_destroy(a);
    sg_tensor_destroy(b);
    sg_tensor_destroy(t);
    sg_tensor_destroy(ch);
    sg_tensor_destroy(ch1);
    sg_tensor_destroy(row);
}

/* Over 65535*256 elements: the elementwise kernels need the 2-D group split;
 * the per-channel reduction meets rows of half a million elements. */
static void test_large(void)
{
    sg_shape as = sg_shape4(4, 8, 2048, 257), bs = sg_shape4(4, 8, 1, 1);
    size_t n = sg_shape_count(as), nb = sg_shape_count(bs);
    float *a = t_random_array(n, -1, 1, 71), *b = t_random_array(nb, -1, 1, 72), *y = t_alloc(n),
          *db = t_alloc(nb);
    sg_tensor *ta = t_tensor(as, a), *tb = t_tensor(bs, b), *ty = t_tensor(as, NULL),
              *tdb = t_tensor_fill(bs, 0);
    sg_ref_mul_forward(as, a, bs, b, y);
    T_RUN(sg_mul_forward(seq, ta, tb, ty));
    float *got = t_download(ty);
    t_close("large per-channel mul forward", got, y, n, 0, 0);
    free(got);
    /* dy = a: db[n,c] = sum a^2 over 526336 elements; float partial sums */
    sg_ref_mul_backward(as, a, bs, b, a, NULL, db);
    T_RUN(sg_mul_backward(seq, ta, tb, ta, NULL, tdb));
    got = t_download(tdb);
    t_close("large per-channel mul backward db", got, db, nb, 0, 1e-4);
    free(got);
    /* add: y = a + y (aliasing b) */
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] + y[i];
    T_RUN(sg_add_forward(seq, ta, ty, ty));
    got = t_download(ty);
    t_close("large add", got, y, n, 0, 0);
    free(got);
    sg_tensor_destroy(ta);
    sg_tensor_destroy(tb);
    sg_tensor_destroy(ty);
    sg_tensor_destroy(tdb);
    free(a);
    free(b);
    free(y);
    free(db);
}

/* More than 65535 (n,c) rows: the reduction's workgroups are split over x,y
 * (rows of 3), and rows of whole quads take the checked form, not the whole
 * one, whose rows run over x alone (rows of 32). */
static void test_many_channels(int w)
{
    sg_shape as = sg_shape4(2, 40000, 1, w), bs = sg_shape4(2, 40000, 1, 1);
    size_t n = sg_shape_count(as), nb = sg_shape_count(bs);
    float *a = t_random_array(n, -1, 1, 81), *b = t_random_array(nb, -1, 1, 82),
          *dy = t_random_array(n, -1, 1, 83), *db = t_alloc(nb);
    sg_tensor *ta = t_tensor(as, a), *tb = t_tensor(bs, b), *tdy = t_tensor(as, dy),
              *tdb = t_tensor_fill(bs, 0);
    sg_ref_mul_backward(as, a, bs, b, dy, NULL, db);
    T_RUN(sg_mul_backward(seq, ta, tb, tdy, NULL, tdb));
    float *got = t_download(tdb);
    t_close(w == 3 ? "per-channel db over 80000 rows of 3" : "per-channel db over 80000 rows of 32", got, db, nb,
            1e-6, 1e-5);
    free(got);
    sg_tensor_destroy(ta);
    sg_tensor_destroy(tb);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tdb);
    free(a);
    free(b);
    free(dy);
    free(db);
}

/* the cases that run on the device, on each read path (mul and the row sums
 * read texels where they can) */
static void device_cases(void)
{
    const sg_shape shapes[] = {
        sg_shape4(1, 1, 1, 1), sg_shape4(1, 3, 5, 7), sg_shape4(2, 5, 9, 4),
        sg_shape4(3, 7, 1, 13), sg_shape4(4, 6, 17, 3), sg_shape4(2, 3, 23, 31),
        /* mul in quads (4 elements an invocation): per-channel b over planes of
         * exactly one quad, and of several */
        sg_shape4(3, 5, 2, 2), sg_shape4(2, 4, 8, 8),
        /* the add in whole workgroups of 256 quads (ops/eltwise.c): exactly 4, no rest; 16 and a
         * rest of 120 quads; 16 and a rest of 3 quads and 3 floats (below 16 with a rest, as
         * 4,6,17,3 and 2,3,23,31 above, it takes the checked form alone) */
        sg_shape4(2, 8, 16, 16), sg_shape4(1, 17, 31, 32), sg_shape4(1, 1, 1, 16 * 1024 + 15),
        /* the row sums' whole form (rows of whole rounds of 8 quads): one round a lane */
        sg_shape4(2, 3, 4, 8),
    };
    uint64_t seed = 1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        test_add(shapes[i], seed);
        test_mul(shapes[i], false, seed + 10);
        test_mul(shapes[i], true, seed + 20);
        seed += 100;
    }
    test_many_channels(3);
    test_many_channels(32);
    test_large();
}

int main(void)
{
    t_begin("eltwise");
    device_cases();
    test_errors();
    t_again_with_buffer_reads(device_cases);
    t_again_with_buffer_stores(device_cases);
    return t_end();
}
