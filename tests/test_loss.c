/* Losses (L1, MSE, BCE) and the per-sample / per-pixel MSE maps: GPU against
 * the C reference over a grid of shapes (up to 1.26M elements, and a 16.8M
 * loss value that takes a third reduction level), the reference gradients
 * against finite differences, accumulation, scale, determinism, BCE at the
 * edges, and refused arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

enum { L1, MSE, BCE };
static const char *kind_name[] = {"l1", "mse", "bce"};
#define BCE_TARGET 0.3f

/* Host data of one loss case. */
typedef struct {
    int kind;
    sg_shape s;
    size_t n;
    float *pred, *target; /* target unused by BCE */
} loss_case;

static float ref_loss(const loss_case *c, float scale, float *dpred, float *dtarget)
{
    switch (c->kind) {
    case L1:
        return sg_ref_l1_loss(c->n, c->pred, c->target, scale, dpred);
    case MSE:
        return sg_ref_mse_loss(c->n, c->pred, c->target, scale, dpred, dtarget);
    default:
        return sg_ref_bce_loss(c->n, c->pred, BCE_TARGET, scale, dpred);
    }
}

static sg_status gpu_loss(sg_seq *seq, int kind, const sg_tensor *pred, const sg_tensor *target,
                          float scale, sg_tensor *loss, sg_tensor *dpred, sg_tensor *dtarget)
{
    switch (kind) {
    case L1:
        return sg_l1_loss(seq, pred, target, scale, loss, dpred);
    case MSE:
        return sg_mse_loss(seq, pred, target, scale, loss, dpred, dtarget);
    default:
        return sg_bce_loss(seq, pred, BCE_TARGET, scale, loss, dpred);
    }
}

static void make_case(loss_case *c, int kind, sg_shape s, uint64_t seed)
{
    c->kind = kind;
    c->s = s;
    c->n = sg_shape_count(s);
    c->pred = t_alloc(c->n);
    c->target = t_alloc(c->n);
    if (kind == BCE) {
        t_random(c->pred, c->n, 0.01f, 0.99f, seed); /* probabilities */
    } else {
        t_random(c->pred, c->n, -2, 2, seed);
        t_random(c->target, c->n, -2, 2, seed + 1);
        for (size_t i = 0; i < c->n; i += 7)
            c->target[i] = c->pred[i]; /* d == 0: L1's gradient must be 0 there */
    }
}

static void free_case(loss_case *c)
{
    free(c->pred);
    free(c->target);
}

/* GPU against the reference: loss value, gradients added into pre-filled
 * tensors (accumulation), run twice (bit-identical loss, gradients added twice).
 * scale = 0.75*n keeps the gradients O(1), so they are not lost next to the
 * pre-filled values, and shows that scale leaves the loss value alone. */
static void check_against_ref(int kind, sg_shape s)
{
    loss_case c;
    make_case(&c, kind, s, 11 + (uint64_t)kind);
    size_t n = c.n;
    float scale = 0.75f * (float)n;
    float *dp0 = t_alloc(n), *dt0 = t_alloc(n);
    t_random(dp0, n, -1, 1, 3);
    t_random(dt0, n, -1, 1, 4);

    sg_tensor *pred = t_tensor(s, c.pred), *target = t_tensor(s, c.target);
    sg_tensor *dpred = t_tensor(s, dp0), *dtarget = kind == MSE ? t_tensor(s, dt0) : NULL;
    sg_tensor *loss = t_tensor_fill(sg_shape4(1, 1, 1, 1), -1.0f);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(gpu_loss(seq, kind, pred, target, scale, loss, dpred, dtarget), "loss");
    t_ok(sg_seq_finish(seq), "finish");
    /* 4096 terms per partial sum, then one level for up to 4096 partials */
    t_check(sg_seq_dispatch_count(seq) == 2, "%s %zu: 2 dispatches (%u)", kind_name[kind], n,
            sg_seq_dispatch_count(seq));
    t_ok(sg_seq_run(seq), "run");
    float got1, got2;
    t_ok(sg_tensor_download(loss, &got1), "download");

    float *dp = t_alloc(n), *dt = t_alloc(n);
    memcpy(dp, dp0, n * sizeof *dp);
    memcpy(dt, dt0, n * sizeof *dt);
    float want = ref_loss(&c, scale, dp, kind == MSE ? dt : NULL);
    char what[160];
    snprintf(what, sizeof what, "%s loss (%d,%d,%d,%d)", kind_name[kind], s.n, s.c, s.h, s.w);
    /* a float tree sum of n terms is within ~log2(n) roundings of the double sum */
    t_close(what, &got1, &want, 1, 1e-7, 1e-5);
    float *g = t_download(dpred);
    snprintf(what, sizeof what, "%s dpred, accumulated (%d,%d,%d,%d)", kind_name[kind], s.n, s.c,
             s.h, s.w);
    t_close(what, g, dp, n, 1e-5, 1e-5);
    if (kind == L1) {
        size_t bad = 0;
        for (size_t i = 0; i < n; i += 7)
            bad += g[i] != dp0[i];
        t_check(bad == 0, "l1: gradient 0 where pred == target (%zu wrong)", bad);
    }
    free(g);
    if (dtarget) {
        g = t_download(dtarget);
        snprintf(what, sizeof what, "mse dtarget, accumulated (%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
        t_close(what, g, dt, n, 1e-5, 1e-5);
        free(g);
    }

    /* replay: the loss is overwritten with the same bits, gradients added again */
    t_ok(sg_seq_run(seq), "run again");
    t_ok(sg_tensor_download(loss, &got2), "download");
    t_check(memcmp(&got1, &got2, sizeof got1) == 0, "%s %zu: replayed loss bit-identical (%.9g %.9g)",
            kind_name[kind], n, got1, got2);
    ref_loss(&c, scale, dp, kind == MSE ? dt : NULL);
    g = t_download(dpred);
    snprintf(what, sizeof what, "%s dpred after 2 runs (%zu)", kind_name[kind], n);
    t_close(what, g, dp, n, 2e-5, 1e-5);
    free(g);

    sg_seq_destroy(seq);
    sg_tensor_destroy(pred);
    sg_tensor_destroy(target);
    sg_tensor_destroy(dpred);
    sg_tensor_destroy(dtarget);
    sg_tensor_destroy(loss);
    free(dp);
    free(dt);
    free(dp0);
    free(dt0);
    free_case(&c);
}

/* Past 4096*4096 elements the reduction takes a third level. The loss value
 * only (the gradient path is the one check_against_ref covers), to keep the
 * test quick: 16.8M elements. */
static void check_three_levels(void)
{
    sg_shape s = sg_shape4(1, 1, 4099, 4097);
    loss_case c;
    make_case(&c, MSE, s, 17);
    sg_tensor *pred = t_tensor(s, c.pred), *target = t_tensor(s, c.target);
    sg_tensor *loss = t_tensor_fill(sg_shape4(1, 1, 1, 1), -1.0f);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_mse_loss(seq, pred, target, 1.0f, loss, NULL, NULL), "mse_loss");
    t_ok(sg_seq_finish(seq), "finish");
    t_check(sg_seq_dispatch_count(seq) == 3, "mse %zu: 3 dispatches (%u)", c.n,
            sg_seq_dispatch_count(seq));
    float got1, got2, want = ref_loss(&c, 1.0f, NULL, NULL);
    t_ok(sg_seq_run(seq), "run");
    t_ok(sg_tensor_download(loss, &got1), "download");
    t_close("mse loss (1,1,4099,4097)", &got1, &want, 1, 1e-7, 1e-5);
    t_ok(sg_seq_run(seq), "run again");
    t_ok(sg_tensor_download(loss, &got2), "download");
    t_check(memcmp(&got1, &got2, sizeof got1) == 0, "mse %zu: replayed loss bit-identical", c.n);
    sg_seq_destroy(seq);
    sg_tensor_destroy(pred);
    sg_tensor_destroy(target);
    sg_tensor_destroy(loss);
    free_case(&c);
}

/* Loss only (no gradient tensors) and gradient only (no loss tensor). */
static void check_partial_outputs(void)
{
    sg_shape s = sg_shape4(2, 3, 7, 5);
    loss_case c;
    make_case(&c, MSE, s, 5);
    sg_tensor *pred = t_tensor(s, c.pred), *target = t_tensor(s, c.target);
    sg_tensor *loss = t_tensor_fill(sg_shape4(1, 1, 1, 1), 0), *dtarget = t_tensor_fill(s, 0);
    T_RUN(sg_mse_loss(seq, pred, target, 2.0f, loss, NULL, NULL));
    float got, want = ref_loss(&c, 2.0f, NULL, NULL);
    t_ok(sg_tensor_download(loss, &got), "download");
    t_close("mse loss without gradients", &got, &want, 1, 1e-7, 1e-5);
    T_RUN(sg_mse_loss(seq, pred, target, 2.0f, NULL, NULL, dtarget));
    float *dt = t_alloc(c.n), *g = t_download(dtarget);
    ref_loss(&c, 2.0f, NULL, dt);
    t_close("mse dtarget only, no loss tensor", g, dt, c.n, 1e-7, 1e-5);

    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_l1_loss(seq, pred, target, 1.0f, NULL, NULL), "l1 with no outputs");
    t_check(sg_seq_dispatch_count(seq) == 0, "no outputs: nothing recorded");
    sg_seq_destroy(seq);
    free(dt);
    free(g);
    sg_tensor_destroy(pred);
    sg_tensor_destroy(target);
    sg_tensor_destroy(loss);
    sg_tensor_destroy(dtarget);
    free_case(&c);
}

/* The reference against hand-computed values. */
static void check_known_values(void)
{
    float p[4] = {1, 2, 3, 4}, t[4] = {0, 2, 5, 4.5f}, dp[4] = {0}, dt[4] = {0};
    float l1 = sg_ref_l1_loss(4, p, t, 1.0f, dp);
    t_check(l1 == 0.875f && dp[0] == 0.25f && dp[1] == 0.0f && dp[2] == -0.25f && dp[3] == -0.25f,
            "l1 reference: (1+0+2+0.5)/4 = %g, gradient sign/4 (0 at d == 0)", l1);
    memset(dp, 0, sizeof dp);
    float mse = sg_ref_mse_loss(4, p, t, 1.0f, dp, dt);
    t_check(mse == 1.3125f && dp[0] == 0.5f && dp[2] == -1.0f && dt[0] == -0.5f && dt[3] == 0.25f,
            "mse reference: (1+0+4+0.25)/4 = %g, gradient 2d/4", mse);
    float q[2] = {0.5f, 0.5f};
    float bce = sg_ref_bce_loss(2, q, 1.0f, 1.0f, NULL);
    t_check(fabsf(bce - logf(2.0f)) < 1e-7f, "bce reference: p = 0.5 gives ln 2 (%g)", bce);
}

/* Finite differences of the reference loss (a float, from double sums) against
 * its analytic gradient. With 30 elements, eps = 1e-3 and a loss near 1, the
 * rounding of the float loss puts ~3e-5 of noise on the numeric derivative
 * (gradients are ~0.03..2), hence atol 1e-4 and rtol 1e-2. */
typedef struct {
    loss_case *c;
} fd_ctx;

static void fd_forward(void *ctx, float *y)
{
    y[0] = ref_loss(((fd_ctx *)ctx)->c, 1.0f, NULL, NULL);
}

static void check_ref_gradients(void)
{
    sg_shape s = sg_shape4(1, 2, 3, 5);
    float r[1] = {1.0f};
    for (int kind = L1; kind <= BCE; kind++) {
        loss_case c;
        make_case(&c, kind, s, 21 + (uint64_t)kind);
        if (kind == BCE) {
            t_random(c.pred, c.n, 0.05f, 0.95f, 7); /* away from the clamps */
        } else {
            /* keep |pred - target| >= 0.05: L1 has a kink at 0 */
            float *off = t_alloc(c.n);
            t_random(off, c.n, -1, 1, 8);
            for (size_t i = 0; i < c.n; i++)
                c.pred[i] = c.target[i] + (off[i] < 0 ? off[i] - 0.05f : off[i] + 0.05f);
            free(off);
        }
        float *dp = t_alloc(c.n), *dt = t_alloc(c.n);
        ref_loss(&c, 1.0f, dp, kind == MSE ? dt : NULL);
        fd_ctx ctx = {&c};
        char what[64];
        snprintf(what, sizeof what, "%s reference dpred", kind_name[kind]);
        t_grad_check(what, fd_forward, &ctx, c.pred, c.n, dp, r, 1, 1e-3f, 1e-4, 1e-2, 30);
        if (kind == MSE)
            t_grad_check("mse reference dtarget", fd_forward, &ctx, c.target, c.n, dt, r, 1, 1e-3f,
                         1e-4, 1e-2, 30);
        free(dp);
        free(dt);
        free_case(&c);
    }
}

/* BCE at and near 0 and 1 (log clamped at -100, gradient denominator at 1e-12),
 * for targets 0, 1 and in between. */
static void check_bce_edges(void)
{
    const float p[] = {0.0f, 1e-30f, 1e-7f, 1e-4f, 0.003f, 0.5f, 0.997f, 0.9999f, 0.9999999f, 1.0f};
    const size_t n = sizeof p / sizeof p[0];
    const float targets[] = {0.0f, 1.0f, 0.3f};
    sg_shape s = sg_shape4(1, 1, 1, (int)n);
    sg_tensor *pred = t_tensor(s, p), *dpred = t_tensor_fill(s, 0);
    sg_tensor *loss = t_tensor_fill(sg_shape4(1, 1, 1, 1), 0);
    for (int k = 0; k < 3; k++) {
        float t = targets[k];
        T_RUN(sg_fill(seq, dpred, 0.0f));
        T_RUN(sg_bce_loss(seq, pred, t, 2.0f, loss, dpred));
        float got, *g = t_download(dpred), *want_g = t_alloc(n);
        float want = sg_ref_bce_loss(n, p, t, 2.0f, want_g);
        t_ok(sg_tensor_download(loss, &got), "download");
        char what[96];
        snprintf(what, sizeof what, "bce near 0 and 1, target %g: loss", t);
        t_close(what, &got, &want, 1, 1e-6, 1e-5);
        snprintf(what, sizeof what, "bce near 0 and 1, target %g: gradient", t);
        t_close(what, g, want_g, n, 1e-6, 1e-5);
        free(g);
        free(want_g);
    }
    /* the clamp itself: p = 0 against target 1 costs exactly 100 */
    sg_tensor *zero = t_tensor_fill(sg_shape4(1, 1, 1, 1), 0.0f);
    T_RUN(sg_bce_loss(seq, zero, 1.0f, 1.0f, loss, NULL));
    float got;
    t_ok(sg_tensor_download(loss, &got), "download");
    t_check(got == 100.0f, "bce(p=0, t=1) = 100 as torch.nn.BCELoss (got %g)", got);
    sg_tensor_destroy(zero);
    sg_tensor_destroy(pred);
    sg_tensor_destroy(dpred);
    sg_tensor_destroy(loss);
}

static void check_maps(sg_shape s)
{
    size_t n = sg_shape_count(s), np = (size_t)s.n * s.h * s.w;
    float *a = t_alloc(n), *b = t_alloc(n);
    t_random(a, n, -1, 1, 31);
    t_random(b, n, -1, 1, 32);
    sg_tensor *ta = t_tensor(s, a), *tb = t_tensor(s, b);
    sg_tensor *per_sample = t_tensor_fill(sg_shape4(s.n, 1, 1, 1), -1);
    sg_tensor *per_pixel = t_tensor_fill(sg_shape4(s.n, 1, s.h, s.w), -1);
    T_RUN(sg_mse_per_sample(seq, ta, tb, per_sample));
    T_RUN(sg_mse_per_pixel(seq, ta, tb, per_pixel));
    float *want_s = t_alloc((size_t)s.n), *want_p = t_alloc(np);
    sg_ref_mse_per_sample(s, a, b, want_s);
    sg_ref_mse_per_pixel(s, a, b, want_p);
    float *got_s = t_download(per_sample), *got_p = t_download(per_pixel);
    char what[96];
    snprintf(what, sizeof what, "mse_per_sample (%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
    t_close(what, got_s, want_s, (size_t)s.n, 1e-7, 1e-5);
    snprintf(what, sizeof what, "mse_per_pixel (%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
    t_close(what, got_p, want_p, np, 1e-7, 1e-5);
    free(a);
    free(b);
    free(want_s);
    free(want_p);
    free(got_s);
    free(got_p);
    sg_tensor_destroy(ta);
    sg_tensor_destroy(tb);
    sg_tensor_destroy(per_sample);
    sg_tensor_destroy(per_pixel);
}

static void check_refused(void)
{
    sg_tensor *a = t_tensor_fill(sg_shape4(2, 3, 4, 4), 0.5f);
    sg_tensor *b = t_tensor_fill(sg_shape4(2, 3, 4, 5), 0.5f);
    sg_tensor *flat = t_tensor_fill(sg_shape4(1, 1, 1, 96), 0.5f); /* a's count, other shape */
    sg_tensor *one = t_tensor_fill(sg_shape4(1, 1, 1, 1), 0);
    sg_tensor *two = t_tensor_fill(sg_shape4(1, 1, 1, 2), 0);
    sg_tensor *n1 = t_tensor_fill(sg_shape4(2, 1, 4, 4), 0), *n2 = t_tensor_fill(sg_shape4(2, 2, 4, 4), 0);
    sg_tensor *s3 = t_tensor_fill(sg_shape4(3, 1, 1, 1), 0);
    T_REFUSED(SG_ERR_SHAPE, "l1_loss", sg_l1_loss(seq, a, b, 1, one, NULL));
    T_REFUSED(SG_ERR_SHAPE, "l1_loss", sg_l1_loss(seq, a, a, 1, one, flat));
    T_REFUSED(SG_ERR_SHAPE, "l1_loss", sg_l1_loss(seq, a, a, 1, two, NULL));
    T_REFUSED(SG_ERR_ARGUMENT, "l1_loss", sg_l1_loss(seq, NULL, a, 1, one, NULL));
    T_REFUSED(SG_ERR_ARGUMENT, "l1_loss", sg_l1_loss(seq, a, NULL, 1, one, NULL));
    T_REFUSED(SG_ERR_SHAPE, "mse_loss", sg_mse_loss(seq, a, flat, 1, one, NULL, NULL));
    T_REFUSED(SG_ERR_SHAPE, "mse_loss", sg_mse_loss(seq, a, a, 1, one, b, NULL));
    T_REFUSED(SG_ERR_SHAPE, "mse_loss", sg_mse_loss(seq, a, a, 1, one, NULL, b));
    T_REFUSED(SG_ERR_SHAPE, "mse_loss", sg_mse_loss(seq, a, a, 1, two, NULL, NULL));
    T_REFUSED(SG_ERR_SHAPE, "bce_loss", sg_bce_loss(seq, a, 1, 1, two, NULL));
    T_REFUSED(SG_ERR_SHAPE, "bce_loss", sg_bce_loss(seq, a, 1, 1, one, b));
    T_REFUSED(SG_ERR_ARGUMENT, "bce_loss", sg_bce_loss(seq, a, 1.5f, 1, one, NULL));
    T_REFUSED(SG_ERR_ARGUMENT, "bce_loss", sg_bce_loss(seq, a, NAN, 1, one, NULL));
    T_REFUSED(SG_ERR_SHAPE, "mse_per_sample", sg_mse_per_sample(seq, a, b, two));
    T_REFUSED(SG_ERR_SHAPE, "mse_per_sample", sg_mse_per_sample(seq, a, a, s3));
    T_REFUSED(SG_ERR_ARGUMENT, "mse_per_sample", sg_mse_per_sample(seq, a, a, NULL));
    T_REFUSED(SG_ERR_SHAPE, "mse_per_pixel", sg_mse_per_pixel(seq, a, b, n1));
    T_REFUSED(SG_ERR_SHAPE, "mse_per_pixel", sg_mse_per_pixel(seq, a, a, n2));
    T_REFUSED(SG_ERR_SHAPE, "mse_per_pixel", sg_mse_per_pixel(seq, a, a, flat));
    sg_tensor *ts[] = {a, b, flat, one, two, n1, n2, s3};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        sg_tensor_destroy(ts[i]);
}

int main(void)
{
    t_begin("loss");
    check_known_values();
    check_ref_gradients();
    const sg_shape shapes[] = {
        {1, 1, 1, 1}, {1, 3, 5, 7}, {2, 3, 17, 9}, {3, 5, 33, 31}, {1, 1, 1, 4097},
        {2, 3, 300, 701}, /* 1.26M elements */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int kind = L1; kind <= BCE; kind++)
            check_against_ref(kind, shapes[i]);
    check_three_levels();
    check_partial_outputs();
    check_bce_edges();
    const sg_shape map_shapes[] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {3, 5, 17, 9}, {2, 3, 300, 301}};
    for (size_t i = 0; i < sizeof map_shapes / sizeof map_shapes[0]; i++)
        check_maps(map_shapes[i]);
    check_refused();
    return t_end();
}
