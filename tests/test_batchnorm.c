/* Batch normalisation: the Vulkan ops against the C reference (train, eval,
 * backward, each also with a ReLU / LeakyReLU fused after it, running
 * statistics, NULL options, replay), the reference backwards against finite
 * differences of the reference forwards, and shape errors. The
 * device cases run three times: reading x and dy as texels (the *_texel
 * kernels, writing y and dx through a storage buffer), on a second device with
 * buffer_reads, through buffer references, and on a third with buffer_stores,
 * reading texels but writing through buffer references. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

static const sg_batchnorm bn = {.eps = 1e-5f, .momentum = 0.1f};
/* which load path the kernels take: "" (texels where the device allows) or the buffer-reference one */

/* Host data of one case: x is spread*U(-1,1) + offset + 0.25*c per channel
 * + spread*(n % 4) per image, so that the blocks of a channel (and the
 * threads of a block) have different means, as real batches do. */
typedef struct bn_host {
    sg_shape s;
    size_t n;
    float *x, *gamma, *beta, *rmean, *rvar, *dy, *dx, *dgamma, *dbeta;
} bn_host;

static bn_host host_make(sg_shape s, float offset, float spread, uint64_t seed)
{
    bn_host h = {.s = s, .n = sg_shape_count(s)};
    size_t c = (size_t)s.c, hw = (size_t)s.h * s.w;
    h.x = t_alloc(h.n);
    t_random(h.x, h.n, -spread, spread, seed);
    for (size_t i = 0; i < h.n; i++)
        h.x[i] += offset + 0.25f * (float)((i / hw) % c) + spread * (float)((i / hw / c) % 4);
    h.gamma = t_alloc(c);
    t_random(h.gamma, c, -1.5f, 1.5f, seed + 1);
    h.beta = t_alloc(c);
    t_random(h.beta, c, -1, 1, seed + 2);
    h.rmean = t_alloc(c);
    t_random(h.rmean, c, -1, 1, seed + 3);
    h.rvar = t_alloc(c);
    t_random(h.rvar, c, 0.5f, 2, seed + 4);
    h.dy = t_alloc(h.n);
    t_random(h.dy, h.n, -1, 1, seed + 5);
    /* gradients start non-zero: backward must add to them */
    h.dx = t_alloc(h.n);
    t_random(h.dx, h.n, -1, 1, seed + 6);
    h.dgamma = t_alloc(c);
    t_random(h.dgamma, c, -1, 1, seed + 7);
    h.dbeta = t_alloc(c);
    t_random(h.dbeta, c, -1, 1, seed + 8);
    return h;
}

static void host_free(bn_host *h)
{
    float *all[] = {h->x, h->gamma, h->beta, h->rmean, h->rvar, h->dy, h->dx, h->dgamma, h->dbeta};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

/* Per-channel tensors take any shape with C elements; cycle through three. */
static sg_shape channel_shape(int c, int variant)
{
    switch (variant % 3) {
    case 0: return sg_shape4(1, c, 1, 1);
    case 1: return sg_shape4(c, 1, 1, 1);
    default: return sg_shape4(1, 1, 1, c);
    }
}

/* Download t and compare with want; frees the download. */
static void expect(const char *what, const sg_tensor *t, const float *want, double atol, double rtol)
{
    float *got = t_download(t);
    t_close(what, got, want, sg_tensor_count(t), atol, rtol);
    free(got);
}

/* A tensor of shape s holding data, as a view `at` elements into a larger one
 * (*parent, to destroy after it) when at > 0. (Views start on whole vec4, so on
 * a device whose texel alignment is 16 bytes sg_tensor_texel_base stays 0.) */
static sg_tensor *tensor_at(sg_shape s, const float *data, size_t at, sg_tensor **parent)
{
    *parent = NULL;
    if (at == 0)
        return t_tensor(s, data);
    size_t n = sg_shape_count(s);
    *parent = t_tensor_fill(sg_shape4(1, 1, 1, (int)(n + at)), 0.0f);
    sg_tensor *v = NULL;
    t_ok(sg_tensor_view(*parent, at, s, &v), "view");
    t_ok(sg_tensor_upload(v, data), "upload view");
    return v;
}

/* One sequence: train forward, eval forward (with the updated running stats),
 * backward into pre-filled gradients; every output against the reference.
 * x and dy start `at` floats into larger tensors (see tensor_at). */
static void check_case(sg_shape s, float offset, float spread, uint64_t seed, int variant, size_t at)
{
    bn_host h = host_make(s, offset, spread, seed);
    size_t c = (size_t)s.c;
    double m = (double)s.n * s.h * s.w;
    sg_shape cs = channel_shape(s.c, variant);

    sg_tensor *xp, *dyp;
    sg_tensor *x = tensor_at(s, h.x, at, &xp), *y = t_tensor(s, NULL), *ye = t_tensor(s, NULL), *ya = t_tensor(s, NULL);
    float slope = variant % 2 ? 0.2f : 0.0f; /* eval + LeakyReLU 0.2, or + ReLU */
    sg_tensor *gamma = t_tensor(cs, h.gamma), *beta = t_tensor(cs, h.beta);
    sg_tensor *rmean = t_tensor(cs, h.rmean), *rvar = t_tensor(cs, h.rvar);
    sg_tensor *smean = t_tensor(cs, NULL), *sinv = t_tensor(cs, NULL);
    sg_tensor *dy = tensor_at(s, h.dy, at, &dyp), *dx = t_tensor(s, h.dx);
    sg_tensor *dgamma = t_tensor(cs, h.dgamma), *dbeta = t_tensor(cs, h.dbeta);
    /* training with the activation fused (running statistics left alone, so
     * that the eval cases see one update) and its backward, into gradients
     * pre-filled as the others */
    sg_tensor *yt = t_tensor(s, NULL), *smean_a = t_tensor(cs, NULL), *sinv_a = t_tensor(cs, NULL);
    sg_tensor *dx_a = t_tensor(s, h.dx), *dgamma_a = t_tensor(cs, h.dgamma), *dbeta_a = t_tensor(cs, h.dbeta);
    float *dx_a0 = t_alloc(h.n), *dgamma_a0 = t_alloc(c), *dbeta_a0 = t_alloc(c);
    memcpy(dx_a0, h.dx, h.n * sizeof(float));
    memcpy(dgamma_a0, h.dgamma, c * sizeof(float));
    memcpy(dbeta_a0, h.dbeta, c * sizeof(float));

    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_batchnorm_forward_train(seq, &bn, x, gamma, beta, rmean, rvar, smean, sinv, y), "train");
    t_ok(sg_batchnorm_forward_eval(seq, &bn, x, gamma, beta, rmean, rvar, ye), "eval");
    t_ok(sg_batchnorm_act_forward_eval(seq, &bn, x, gamma, beta, rmean, rvar, slope, ya), "eval + activation");
    t_ok(sg_batchnorm_backward(seq, x, gamma, smean, sinv, dy, dx, dgamma, dbeta), "backward");
    t_ok(sg_batchnorm_act_forward_train(seq, &bn, x, gamma, beta, NULL, NULL, smean_a, sinv_a, slope, yt),
         "train + activation");
    t_ok(sg_batchnorm_act_backward(seq, x, gamma, smean_a, sinv_a, yt, slope, dy, dx_a, dgamma_a, dbeta_a),
         "train + activation backward");
    t_ok(sg_seq_run(seq), "run");
    sg_seq_destroy(seq);

    float *ry = t_alloc(h.n), *rye = t_alloc(h.n), *rsm = t_alloc(c), *rsi = t_alloc(c);
    sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, h.rmean, h.rvar, rsm, rsi, ry);
    sg_ref_batchnorm_forward_eval(&bn, s, h.x, h.gamma, h.beta, h.rmean, h.rvar, rye);
    float *rya = t_alloc(h.n);
    sg_ref_activation_forward(slope > 0 ? SG_ACT_LEAKY_RELU : SG_ACT_RELU, slope, h.n, rye, rya);
    sg_ref_batchnorm_backward(s, h.x, h.gamma, rsm, rsi, h.dy, h.dx, h.dgamma, h.dbeta);
    sg_activation act = slope > 0 ? SG_ACT_LEAKY_RELU : SG_ACT_RELU;
    float *ryt = t_alloc(h.n);
    sg_ref_activation_forward(act, slope, h.n, ry, ryt);
    /* the fused backward's reference takes the device's y: where the batch
     * norm's output rounds to either side of 0, the derivative is the one the
     * kernel's y says (what the op promises), not the reference's */
    float *yt_got = t_download(yt);
    sg_ref_batchnorm_act_backward(s, h.x, h.gamma, rsm, rsi, yt_got, slope, h.dy, dx_a0, dgamma_a0, dbeta_a0);

    char what[160];
    /* the float mean of values around `offset` may be 2 ulps (2.4e-7 relative) off */
    double mean_tol = 1e-6 + 2.4e-7 * fabsf(offset);
    /* xhat carries that error times invstd (<= ~2/spread here) times |gamma| <= 1.5 */
    double y_tol = 1e-5 + 3 * mean_tol / spread;
#define WHAT(name) (snprintf(what, sizeof what, "%s(%d,%d,%d,%d) offset %g at %zu: %s", t_reads, s.n, s.c, s.h, \
                             s.w, (double)offset, at, name), what)
    expect(WHAT("train y"), y, ry, y_tol, 1e-4);
    expect(WHAT("save_mean"), smean, rsm, mean_tol, 1e-6);
    expect(WHAT("save_invstd"), sinv, rsi, 0, 1e-4);
    expect(WHAT("running_mean"), rmean, h.rmean, mean_tol, 1e-5);
    expect(WHAT("running_var"), rvar, h.rvar, 1e-6, 1e-4);
    expect(WHAT("eval y"), ye, rye, y_tol, 1e-4);
    expect(WHAT(slope > 0 ? "eval + leaky relu y" : "eval + relu y"), ya, rya, y_tol, 1e-4);
    /* sums of M products of size ~1: float error grows like sqrt(M), plus the
     * mean's error in each xhat */
    double sum_tol = sqrt(m) * (2e-6 + 2 * mean_tol / spread);
    expect(WHAT("dx (accumulated)"), dx, h.dx, y_tol, 1e-4);
    expect(WHAT("dgamma (accumulated)"), dgamma, h.dgamma, sum_tol, 1e-4);
    expect(WHAT("dbeta (accumulated)"), dbeta, h.dbeta, sum_tol, 1e-4);
    const char *name = slope > 0 ? "train + leaky relu" : "train + relu";
    char part[64];
#define PART(p) (snprintf(part, sizeof part, "%s: %s", name, p), WHAT(part))
    expect(PART("y"), yt, ryt, y_tol, 1e-4);
    expect(PART("save_mean"), smean_a, rsm, mean_tol, 1e-6);
    expect(PART("save_invstd"), sinv_a, rsi, 0, 1e-4);
    expect(PART("dx (accumulated)"), dx_a, dx_a0, y_tol, 1e-4);
    expect(PART("dgamma (accumulated)"), dgamma_a, dgamma_a0, sum_tol, 1e-4);
    expect(PART("dbeta (accumulated)"), dbeta_a, dbeta_a0, sum_tol, 1e-4);
#undef PART
#undef WHAT
    free(ryt);
    free(yt_got);
    free(dx_a0);
    free(dgamma_a0);
    free(dbeta_a0);

    free(ry);
    free(rye);
    free(rya);
    free(rsm);
    free(rsi);
    sg_tensor *all[] = {x, y, ye, ya, gamma, beta, rmean, rvar, smean, sinv, dy, dx, dgamma, dbeta, xp, dyp,
                        yt, smean_a, sinv_a, dx_a, dgamma_a, dbeta_a};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
    host_free(&h);
}

static void test_grid(void)
{
    static const struct {
        sg_shape s;
        float offset, spread;
    } cases[] = {
        {{1, 3, 5, 7}, 0, 1},
        {{2, 5, 4, 4}, 0.5f, 2},
        {{4, 6, 1, 1}, 0, 1},      /* after a linear layer: H*W = 1 */
        {{1, 1, 1, 2}, 0, 1},      /* the smallest trainable batch: M = 2 */
        {{40, 3, 3, 5}, 0, 1},     /* threads of a block span several images */
        {{300, 2, 4, 5}, 0, 1},    /* 6 blocks per channel (of 1024), blocks cross images */
        {{2, 3, 33, 65}, 1, 1},    /* H*W > workgroup, 5 blocks */
        {{3, 2, 70, 70}, 0, 0.5f}, /* 15 blocks, the last partial */
        {{4, 2, 64, 64}, 500, 1},  /* |mean| >> std: E[x^2]-E[x]^2 in float would fail */
        {{8, 3, 128, 128}, 3, 1},  /* 128 blocks per channel */
        {{3, 1, 400, 900}, 1, 1},  /* 1055 blocks: more than one per thread of the merge */
        {{16, 3, 8, 8}, 0, 1},     /* the whole forms: one workgroup of 1024 values a channel */
        {{64, 5, 4, 4}, 0, 1},     /* the whole forms: planes of one quad */
        {{16, 2, 16, 16}, 2, 1},   /* the reductions' whole forms: 4096 values, a workgroup a channel */
        {{24, 3, 32, 32}, 0, 1},   /* the reductions' whole forms: 3 blocks of 8192 a channel */
        {{12, 2, 32, 32}, 0, 1},   /* 12288 values: not whole blocks, the other form */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(cases[i].s, cases[i].offset, cases[i].spread, 100 + i, (int)i, 0);
    /* x and dy as views 4 and 8 floats into their buffers (views start on
     * whole vec4): the texel views must start at the views, not the buffers */
    check_case(sg_shape4(2, 3, 33, 65), 1, 1, 120, 1, 4);
    check_case(sg_shape4(300, 2, 4, 5), 0, 1, 121, 2, 8);
    check_case(sg_shape4(16, 3, 8, 8), 0, 1, 122, 3, 4); /* the whole forms on views */
}

/* Running pointers and gradients may be NULL; the rest must be unaffected. */
static void test_null_options(void)
{
    sg_shape s = sg_shape4(2, 3, 5, 5);
    bn_host h = host_make(s, 0, 1, 7);
    size_t c = (size_t)s.c;
    sg_shape cs = sg_shape4(1, s.c, 1, 1);
    sg_tensor *x = t_tensor(s, h.x), *y = t_tensor(s, NULL);
    sg_tensor *gamma = t_tensor(cs, h.gamma), *beta = t_tensor(cs, h.beta);
    sg_tensor *rvar = t_tensor(cs, h.rvar), *rmean = t_tensor(cs, h.rmean);
    sg_tensor *smean = t_tensor(cs, NULL), *sinv = t_tensor(cs, NULL);
    float *ry = t_alloc(h.n), *rsm = t_alloc(c), *rsi = t_alloc(c);
    float *rmean0 = t_alloc(c), *rvar0 = t_alloc(c);
    memcpy(rmean0, h.rmean, c * sizeof(float));
    memcpy(rvar0, h.rvar, c * sizeof(float));

    T_RUN(sg_batchnorm_forward_train(seq, &bn, x, gamma, beta, NULL, NULL, smean, sinv, y));
    sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, NULL, NULL, rsm, rsi, ry);
    expect("no running stats: y", y, ry, 1e-5, 1e-4);
    expect("no running stats: save_invstd", sinv, rsi, 0, 1e-4);

    /* only running_var: running_mean's tensor is passed nowhere and stays */
    T_RUN(sg_batchnorm_forward_train(seq, &bn, x, gamma, beta, NULL, rvar, smean, sinv, y));
    sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, NULL, h.rvar, rsm, rsi, ry);
    expect("running_var only: running_var", rvar, h.rvar, 1e-6, 1e-4);
    expect("running_var only: running_mean untouched", rmean, rmean0, 0, 0);
    T_RUN(sg_batchnorm_forward_train(seq, &bn, x, gamma, beta, rmean, NULL, smean, sinv, y));
    sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, h.rmean, NULL, rsm, rsi, ry);
    expect("running_mean only: running_mean", rmean, h.rmean, 1e-6, 1e-5);
    expect("running_mean only: running_var kept", rvar, h.rvar, 1e-6, 1e-4);

    /* the fused training forward with LeakyReLU, and no running statistics */
    sg_tensor *ya = t_tensor(s, NULL);
    T_RUN(sg_batchnorm_act_forward_train(seq, &bn, x, gamma, beta, NULL, NULL, smean, sinv, 0.2f, ya));
    float *rya = t_alloc(h.n), *ya_got = t_download(ya);
    sg_ref_activation_forward(SG_ACT_LEAKY_RELU, 0.2f, h.n, ry, rya);
    expect("no running stats, leaky relu: y", ya, rya, 1e-5, 1e-4);

    /* backward with each subset of gradients, plain and with the activation
     * (act = 1); a NULL one's tensor stays untouched */
    sg_tensor *dy = t_tensor(s, h.dy);
    for (int mask = 1; mask < 16; mask++) {
        bool act = mask & 8;
        sg_tensor *dx = t_tensor(s, h.dx), *dgamma = t_tensor(cs, h.dgamma), *dbeta = t_tensor(cs, h.dbeta);
        sg_tensor *gx = (mask & 1) ? dx : NULL, *gg = (mask & 2) ? dgamma : NULL, *gb = (mask & 4) ? dbeta : NULL;
        if (act)
            T_RUN(sg_batchnorm_act_backward(seq, x, gamma, smean, sinv, ya, 0.2f, dy, gx, gg, gb));
        else
            T_RUN(sg_batchnorm_backward(seq, x, gamma, smean, sinv, dy, gx, gg, gb));
        float *wdx = t_alloc(h.n), *wdg = t_alloc(c), *wdb = t_alloc(c);
        memcpy(wdx, h.dx, h.n * sizeof(float));
        memcpy(wdg, h.dgamma, c * sizeof(float));
        memcpy(wdb, h.dbeta, c * sizeof(float));
        if (act)
            sg_ref_batchnorm_act_backward(s, h.x, h.gamma, rsm, rsi, ya_got, 0.2f, h.dy, (mask & 1) ? wdx : NULL,
                                          (mask & 2) ? wdg : NULL, (mask & 4) ? wdb : NULL);
        else
            sg_ref_batchnorm_backward(s, h.x, h.gamma, rsm, rsi, h.dy, (mask & 1) ? wdx : NULL,
                                      (mask & 2) ? wdg : NULL, (mask & 4) ? wdb : NULL);
        char what[64];
        snprintf(what, sizeof what, "backward mask %d: dx", mask);
        expect(what, dx, wdx, 1e-5, 1e-4);
        snprintf(what, sizeof what, "backward mask %d: dgamma", mask);
        expect(what, dgamma, wdg, 1e-4, 1e-4);
        snprintf(what, sizeof what, "backward mask %d: dbeta", mask);
        expect(what, dbeta, wdb, 1e-4, 1e-4);
        free(wdx);
        free(wdg);
        free(wdb);
        sg_tensor_destroy(dx);
        sg_tensor_destroy(dgamma);
        sg_tensor_destroy(dbeta);
    }
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_batchnorm_backward(seq, x, gamma, smean, sinv, dy, NULL, NULL, NULL), "no gradients");
    t_ok(sg_batchnorm_act_backward(seq, x, gamma, smean, sinv, ya, 0.2f, dy, NULL, NULL, NULL), "no gradients");
    t_check(sg_seq_dispatch_count(seq) == 0, "backward with no gradient records nothing");
    sg_seq_destroy(seq);

    free(rya);
    free(ya_got);
    sg_tensor_destroy(ya);
    free(ry);
    free(rsm);
    free(rsi);
    free(rmean0);
    free(rvar0);
    sg_tensor *all[] = {x, y, gamma, beta, rvar, rmean, smean, sinv, dy};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
    host_free(&h);
}

/* A recorded training step replayed: the running statistics advance each run. */
static void test_replay(void)
{
    sg_shape s = sg_shape4(3, 4, 6, 5);
    bn_host h = host_make(s, 2, 1, 11);
    size_t c = (size_t)s.c;
    sg_shape cs = sg_shape4(1, s.c, 1, 1);
    sg_tensor *x = t_tensor(s, h.x), *y = t_tensor(s, NULL);
    sg_tensor *gamma = t_tensor(cs, h.gamma), *beta = t_tensor(cs, h.beta);
    sg_tensor *rmean = t_tensor(cs, h.rmean), *rvar = t_tensor(cs, h.rvar);
    sg_tensor *smean = t_tensor(cs, NULL), *sinv = t_tensor(cs, NULL);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_batchnorm_forward_train(seq, &bn, x, gamma, beta, rmean, rvar, smean, sinv, y), "train");
    t_check(sg_seq_dispatch_count(seq) == 3, "train records 3 dispatches (%u)", sg_seq_dispatch_count(seq));
    sg_tensor *ya = t_tensor(s, NULL);
    t_ok(sg_batchnorm_act_forward_train(seq, &bn, x, gamma, beta, NULL, NULL, smean, sinv, 0.0f, ya),
         "train + relu");
    t_check(sg_seq_dispatch_count(seq) == 6, "train + relu records 3 dispatches, as train alone (%u in all)",
            sg_seq_dispatch_count(seq));
    float *ry = t_alloc(h.n), *rsm = t_alloc(c), *rsi = t_alloc(c);
    for (int run = 0; run < 3; run++) {
        t_ok(sg_seq_run(seq), "run");
        sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, h.rmean, h.rvar, rsm, rsi, ry);
    }
    expect("3 replays: running_mean", rmean, h.rmean, 1e-5, 1e-5);
    expect("3 replays: running_var", rvar, h.rvar, 1e-6, 1e-4);
    sg_seq_destroy(seq);
    free(ry);
    free(rsm);
    free(rsi);
    sg_tensor *all[] = {x, y, gamma, beta, rmean, rvar, smean, sinv, ya};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
    host_free(&h);
}

/* One value per channel: eval works; the backward is well defined (dx += 0,
 * dgamma += 0, dbeta += dy); training is refused (see test_errors). */
static void test_single_value(void)
{
    sg_shape s = sg_shape4(1, 5, 1, 1);
    bn_host h = host_make(s, 0, 1, 13);
    sg_shape cs = sg_shape4(1, s.c, 1, 1);
    sg_tensor *x = t_tensor(s, h.x), *y = t_tensor(s, NULL);
    sg_tensor *gamma = t_tensor(cs, h.gamma), *beta = t_tensor(cs, h.beta);
    sg_tensor *rmean = t_tensor(cs, h.rmean), *rvar = t_tensor(cs, h.rvar);
    T_RUN(sg_batchnorm_forward_eval(seq, &bn, x, gamma, beta, rmean, rvar, y));
    float *ry = t_alloc(h.n);
    sg_ref_batchnorm_forward_eval(&bn, s, h.x, h.gamma, h.beta, h.rmean, h.rvar, ry);
    expect("M=1 eval y", y, ry, 1e-5, 1e-4);

    /* backward at the statistics a single value has: mean = x, invstd = 1/sqrt(eps) */
    float invstd[5];
    for (int i = 0; i < 5; i++)
        invstd[i] = 1.0f / sqrtf(bn.eps);
    sg_tensor *smean = t_tensor(cs, h.x), *sinv = t_tensor(cs, invstd);
    sg_tensor *dy = t_tensor(s, h.dy), *dx = t_tensor(s, h.dx);
    sg_tensor *dgamma = t_tensor(cs, h.dgamma), *dbeta = t_tensor(cs, h.dbeta);
    T_RUN(sg_batchnorm_backward(seq, x, gamma, smean, sinv, dy, dx, dgamma, dbeta));
    sg_ref_batchnorm_backward(s, h.x, h.gamma, h.x, invstd, h.dy, h.dx, h.dgamma, h.dbeta);
    expect("M=1 backward dx", dx, h.dx, 1e-6, 0);
    expect("M=1 backward dgamma", dgamma, h.dgamma, 1e-6, 0);
    expect("M=1 backward dbeta", dbeta, h.dbeta, 1e-6, 0);
    free(ry);
    sg_tensor *all[] = {x, y, gamma, beta, rmean, rvar, smean, sinv, dy, dx, dgamma, dbeta};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
    host_free(&h);
}

/* ---- reference backward against finite differences ---------------------- */

typedef struct fd_ctx {
    sg_shape s;
    float *x, *gamma, *beta;
} fd_ctx;

static void fd_forward(void *p, float *y)
{
    fd_ctx *ctx = p;
    float mean[8], invstd[8];
    sg_ref_batchnorm_forward_train(&bn, ctx->s, ctx->x, ctx->gamma, ctx->beta, NULL, NULL, mean,
                                   invstd, y);
}

static void test_finite_differences(void)
{
    sg_shape s = sg_shape4(2, 3, 3, 4);
    bn_host h = host_make(s, 0, 1, 17);
    size_t c = (size_t)s.c;
    float *r = t_alloc(h.n), *y = t_alloc(h.n), *mean = t_alloc(c), *invstd = t_alloc(c);
    t_random(r, h.n, -1, 1, 19);
    sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, NULL, NULL, mean, invstd, y);
    /* analytic gradients of L = sum r*y, accumulated from zero */
    float *dx = t_alloc(h.n), *dgamma = t_alloc(c), *dbeta = t_alloc(c);
    sg_ref_batchnorm_backward(s, h.x, h.gamma, mean, invstd, r, dx, dgamma, dbeta);
    fd_ctx ctx = {s, h.x, h.gamma, h.beta};
    /* eps 1e-2 against a per-channel std ~0.8: truncation error ~1e-4 and
     * float rounding of y ~1e-4 after dividing by 2*eps; tolerance 1e-3 + 1% */
    t_grad_check("ref backward dx", fd_forward, &ctx, h.x, h.n, dx, r, h.n, 1e-2f, 1e-3, 1e-2, 1000);
    t_grad_check("ref backward dgamma", fd_forward, &ctx, h.gamma, c, dgamma, r, h.n, 1e-2f, 1e-3,
                 1e-2, 1000);
    t_grad_check("ref backward dbeta", fd_forward, &ctx, h.beta, c, dbeta, r, h.n, 1e-2f, 1e-3, 1e-2,
                 1000);
    free(r);
    free(y);
    free(mean);
    free(invstd);
    free(dx);
    free(dgamma);
    free(dbeta);
    host_free(&h);
}

/* act(batchnorm_train(x)), the forward of the fused op in the reference */
typedef struct fd_act_ctx {
    fd_ctx bn;
    sg_activation act;
    float slope;
    float *z; /* the batch norm's output */
} fd_act_ctx;

static void fd_act_forward(void *p, float *y)
{
    fd_act_ctx *ctx = p;
    fd_forward(&ctx->bn, ctx->z);
    sg_ref_activation_forward(ctx->act, ctx->slope, sg_shape_count(ctx->bn.s), ctx->z, y);
}

/* The fused backward (the activation's derivative taken inside the batch
 * norm's) against finite differences of batch norm then the activation. */
static void test_finite_differences_act(float slope)
{
    sg_shape s = sg_shape4(2, 3, 3, 4);
    bn_host h = host_make(s, 0, 1, 25);
    size_t c = (size_t)s.c;
    float *r = t_alloc(h.n), *z = t_alloc(h.n), *y = t_alloc(h.n), *mean = t_alloc(c), *invstd = t_alloc(c);
    t_random(r, h.n, -1, 1, 29);
    sg_ref_batchnorm_forward_train(&bn, s, h.x, h.gamma, h.beta, NULL, NULL, mean, invstd, z);
    /* a step of eps moves a pre-activation by at most ~0.03 here (|d z/d x| =
     * |gamma| invstd <= ~1.8, |xhat| <= ~2.5 for gamma): none may sit that near
     * the kink, where the difference quotient is not the derivative */
    double nearest = INFINITY;
    for (size_t i = 0; i < h.n; i++)
        nearest = fmin(nearest, fabs(z[i]));
    t_check(nearest > 0.05, "fd data: no batch-norm output within 0.05 of the kink (nearest %g)", nearest);
    sg_activation act = slope > 0 ? SG_ACT_LEAKY_RELU : SG_ACT_RELU;
    sg_ref_activation_forward(act, slope, h.n, z, y);
    float *dx = t_alloc(h.n), *dgamma = t_alloc(c), *dbeta = t_alloc(c);
    sg_ref_batchnorm_act_backward(s, h.x, h.gamma, mean, invstd, y, slope, r, dx, dgamma, dbeta);
    fd_act_ctx ctx = {{s, h.x, h.gamma, h.beta}, act, slope, t_alloc(h.n)};
    char what[64];
    snprintf(what, sizeof what, "ref act backward (slope %g) dx", (double)slope);
    t_grad_check(what, fd_act_forward, &ctx, h.x, h.n, dx, r, h.n, 1e-2f, 1e-3, 1e-2, 1000);
    snprintf(what, sizeof what, "ref act backward (slope %g) dgamma", (double)slope);
    t_grad_check(what, fd_act_forward, &ctx, h.gamma, c, dgamma, r, h.n, 1e-2f, 1e-3, 1e-2, 1000);
    snprintf(what, sizeof what, "ref act backward (slope %g) dbeta", (double)slope);
    t_grad_check(what, fd_act_forward, &ctx, h.beta, c, dbeta, r, h.n, 1e-2f, 1e-3, 1e-2, 1000);
    float *all[] = {r, z, y, mean, invstd, dx, dgamma, dbeta, ctx.z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    host_free(&h);
}

/* ---- argument errors ------------------------------------------------------ */

static void expect_refused(sg_status got, sg_status want, const char *what)
{
    t_check(got == want && strstr(sg_error_message(), "batchnorm") != NULL, "%s refused (%s): %s",
            what, sg_status_name(got), sg_error_message());
}

static void test_errors(void)
{
    sg_shape s = sg_shape4(2, 3, 4, 4);
    sg_tensor *x = t_tensor_fill(s, 1), *y = t_tensor_fill(s, 0), *ybad = t_tensor_fill(sg_shape4(2, 3, 4, 5), 0);
    sg_tensor *v3 = t_tensor_fill(sg_shape4(1, 3, 1, 1), 1), *v3b = t_tensor_fill(sg_shape4(1, 3, 1, 1), 1);
    sg_tensor *v3c = t_tensor_fill(sg_shape4(1, 3, 1, 1), 1), *v3d = t_tensor_fill(sg_shape4(1, 3, 1, 1), 1);
    sg_tensor *v4 = t_tensor_fill(sg_shape4(1, 4, 1, 1), 1);
    sg_tensor *x1 = t_tensor_fill(sg_shape4(1, 3, 1, 1), 1), *y1 = t_tensor_fill(sg_shape4(1, 3, 1, 1), 0);
    sg_batchnorm bad_momentum = {.eps = 1e-5f, .momentum = 1.5f};
    sg_batchnorm bad_eps = {.eps = -1.0f, .momentum = 0.1f};
    sg_seq *seq;
#define REFUSED(call, want, what)                              \
    do {                                                       \
        t_ok(sg_seq_create(t_dev, &seq), "seq");               \
        expect_refused((call), want, what);                    \
        t_check(sg_seq_run(seq) == (want), "%s: sequence does not run", what); \
        sg_seq_destroy(seq);                                   \
    } while (0)
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v4, v3, v3, v3, v3b, v3c, y), SG_ERR_SHAPE,
            "train: gamma with 4 values for 3 channels");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v4, v3, v3, v3b, v3c, y), SG_ERR_SHAPE,
            "train: beta with 4 values");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v3, v4, v3, v3b, v3c, y), SG_ERR_SHAPE,
            "train: running_mean with 4 values");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v3, v3, v4, v3b, v3c, y), SG_ERR_SHAPE,
            "train: running_var with 4 values");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v3, v3, v3, v4, v3c, y), SG_ERR_SHAPE,
            "train: save_mean with 4 values");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v3, v3, v3, v3b, v4, y), SG_ERR_SHAPE,
            "train: save_invstd with 4 values");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v3, v3, v3, v3b, v3c, ybad), SG_ERR_SHAPE,
            "train: y of another shape");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x1, v3, v3, v3, v3, v3b, v3c, y1), SG_ERR_SHAPE,
            "train: one value per channel");
    t_check(strstr(sg_error_message(), "at least 2") != NULL, "the message says what training needs");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, NULL, v3, v3, v3, v3, v3b, v3c, y), SG_ERR_ARGUMENT,
            "train: NULL x");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, NULL, v3, v3, v3, v3b, v3c, y), SG_ERR_ARGUMENT,
            "train: NULL gamma");
    REFUSED(sg_batchnorm_forward_train(seq, &bn, x, v3, v3, v3, v3, NULL, v3c, y), SG_ERR_ARGUMENT,
            "train: NULL save_mean");
    REFUSED(sg_batchnorm_forward_train(seq, NULL, x, v3, v3, v3, v3, v3b, v3c, y), SG_ERR_ARGUMENT,
            "train: NULL parameters");
    REFUSED(sg_batchnorm_forward_train(seq, &bad_momentum, x, v3, v3, v3, v3, v3b, v3c, y),
            SG_ERR_ARGUMENT, "train: momentum 1.5");
    REFUSED(sg_batchnorm_forward_train(seq, &bad_eps, x, v3, v3, v3, v3, v3b, v3c, y),
            SG_ERR_ARGUMENT, "train: eps -1");
    REFUSED(sg_batchnorm_forward_eval(seq, &bn, x, v3, v3, v3, v4, y), SG_ERR_SHAPE,
            "eval: running_var with 4 values");
    REFUSED(sg_batchnorm_forward_eval(seq, &bn, x, v3, v3, NULL, v3, y), SG_ERR_ARGUMENT,
            "eval: NULL running_mean");
    REFUSED(sg_batchnorm_forward_eval(seq, &bn, x, v3, v3, v3, v3, ybad), SG_ERR_SHAPE,
            "eval: y of another shape");
    REFUSED(sg_batchnorm_backward(seq, x, v3, v3b, v3c, ybad, NULL, v3d, NULL), SG_ERR_SHAPE,
            "backward: dy of another shape");
    REFUSED(sg_batchnorm_backward(seq, x, v3, v3b, v3c, y, ybad, NULL, NULL), SG_ERR_SHAPE,
            "backward: dx of another shape");
    REFUSED(sg_batchnorm_backward(seq, x, v3, v3b, v3c, y, NULL, v4, NULL), SG_ERR_SHAPE,
            "backward: dgamma with 4 values");
    REFUSED(sg_batchnorm_backward(seq, x, v3, v3b, v3c, y, NULL, NULL, v4), SG_ERR_SHAPE,
            "backward: dbeta with 4 values");
    REFUSED(sg_batchnorm_backward(seq, x, v3, v4, v3c, y, y, NULL, NULL), SG_ERR_SHAPE,
            "backward: save_mean with 4 values");
    REFUSED(sg_batchnorm_backward(seq, x, v3, v3b, NULL, y, y, NULL, NULL), SG_ERR_ARGUMENT,
            "backward: NULL save_invstd");
    REFUSED(sg_batchnorm_act_forward_train(seq, &bn, x, v3, v3, v3, v3, v3b, v3c, -0.1f, y), SG_ERR_ARGUMENT,
            "train + activation: slope -0.1");
    REFUSED(sg_batchnorm_act_forward_train(seq, &bn, x, v3, v3, v3, v3, v3b, v3c, 1.0f, y), SG_ERR_ARGUMENT,
            "train + activation: slope 1");
    REFUSED(sg_batchnorm_act_forward_train(seq, &bn, x, v3, v3, v3, v3, v3b, v3c, 0.2f, ybad), SG_ERR_SHAPE,
            "train + activation: y of another shape");
    REFUSED(sg_batchnorm_act_backward(seq, x, v3, v3b, v3c, NULL, 0.2f, y, y, NULL, NULL), SG_ERR_ARGUMENT,
            "backward + activation: NULL y");
    REFUSED(sg_batchnorm_act_backward(seq, x, v3, v3b, v3c, ybad, 0.2f, y, y, NULL, NULL), SG_ERR_SHAPE,
            "backward + activation: y of another shape");
    REFUSED(sg_batchnorm_act_backward(seq, x, v3, v3b, v3c, y, NAN, y, y, NULL, NULL), SG_ERR_ARGUMENT,
            "backward + activation: slope NaN");
    REFUSED(sg_batchnorm_act_backward(seq, x, v3, v4, v3c, y, 0.0f, y, y, NULL, NULL), SG_ERR_SHAPE,
            "backward + activation: save_mean with 4 values");
#undef REFUSED
    sg_tensor *all[] = {x, y, ybad, v3, v3b, v3c, v3d, v4, x1, y1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sg_tensor_destroy(all[i]);
}

/* the cases that run on the device, on each read path */
static void device_cases(void)
{
    test_grid();
    test_null_options();
    test_replay();
    test_single_value();
}

int main(void)
{
    t_begin("batchnorm");
    device_cases();
    test_finite_differences();
    test_finite_differences_act(0.0f);
    test_finite_differences_act(0.2f);
    test_errors();
    t_again_with_buffer_reads(device_cases);
    t_again_with_buffer_stores(device_cases);
    return t_end();
}
