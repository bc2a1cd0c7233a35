/* Activations: GPU against the C reference, the reference backward against
 * finite differences, accumulation, in-place forward, refused arguments, and a
 * tensor large enough to need the 2-D workgroup split. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

static const char *act_name[] = {"relu", "leaky_relu", "sigmoid", "tanh"};
static const float leaky_slope = 0.1f;

/* Inputs in +-[0.05, 3]: at least 0.05 away from ReLU's kink, so that finite
 * differences with eps 1e-3 never straddle it. */
static void kinkless_inputs(float *x, size_t n, uint64_t seed)
{
    t_random(x, n, 0.05f, 3.0f, seed);
    float *sign = t_alloc(n);
    t_random(sign, n, -1, 1, seed + 1000);
    for (size_t i = 0; i < n; i++)
        if (sign[i] < 0)
            x[i] = -x[i];
    free(sign);
}

typedef struct fd_ctx {
    sg_activation act;
    size_t n;
    const float *x;
} fd_ctx;

static void fd_forward(void *ctx, float *y)
{
    fd_ctx *c = ctx;
    sg_ref_activation_forward(c->act, leaky_slope, c->n, c->x, y);
}

static void test_one(sg_activation act, sg_shape s, uint64_t seed)
{
    size_t n = sg_shape_count(s);
    char what[128];
    snprintf(what, sizeof what, "%s (%d,%d,%d,%d)", act_name[act], s.n, s.c, s.h, s.w);
    float *x = t_alloc(n), *y = t_alloc(n), *dy = t_alloc(n), *dx0 = t_alloc(n),
          *dx = t_alloc(n);
    kinkless_inputs(x, n, seed);
    t_random(dy, n, -1, 1, seed + 1);
    t_random(dx0, n, -2, 2, seed + 2); /* pre-filled gradient: backward must add to it */
    sg_ref_activation_forward(act, leaky_slope, n, x, y);
    memcpy(dx, dx0, n * sizeof *dx);
    sg_ref_activation_backward(act, leaky_slope, n, x, y, dy, dx);

    sg_tensor *tx = t_tensor(s, x), *ty = t_tensor(s, NULL), *tdy = t_tensor(s, dy),
              *tdx = t_tensor(s, dx0);
    /* exp/tanh on the device may differ from libm by a few ulp */
    T_RUN(sg_activation_forward(seq, act, leaky_slope, tx, ty));
    float *got = t_download(ty);
    char w2[192];
    snprintf(w2, sizeof w2, "%s forward", what);
    t_close(w2, got, y, n, 1e-6, 1e-5);
    free(got);

    /* backward is given only the tensor it needs: the other one is NULL */
    bool from_x = act == SG_ACT_RELU || act == SG_ACT_LEAKY_RELU;
    T_RUN(sg_activation_backward(seq, act, leaky_slope, from_x ? tx : NULL, from_x ? NULL : ty,
                                 tdy, tdx));
    got = t_download(tdx);
    snprintf(w2, sizeof w2, "%s backward adds to dx", what);
    t_close(w2, got, dx, n, 1e-6, 1e-5);
    free(got);

    /* in place: y aliases x */
    T_RUN(sg_activation_forward(seq, act, leaky_slope, tx, tx));
    got = t_download(tx);
    snprintf(w2, sizeof w2, "%s forward in place", what);
    t_close(w2, got, y, n, 1e-6, 1e-5);
    free(got);

    /* reference backward against finite differences of the reference forward:
     * eps 1e-3 on float outputs, tolerance 1e-3 + 1e-3 relative */
    float *ana = t_alloc(n);
    sg_ref_activation_backward(act, leaky_slope, n, x, y, dy, ana);
    fd_ctx c = {act, n, x};
    snprintf(w2, sizeof w2, "%s reference backward", what);
    t_grad_check(w2, fd_forward, &c, x, n, ana, dy, n, 1e-3f, 1e-3, 1e-3, 200);
    free(ana);

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

/* ReLU's gradient at exactly 0 is 0 and LeakyReLU's is the slope (PyTorch). */
static void test_kink(void)
{
    sg_shape s = sg_shape4(1, 1, 1, 3);
    float x[3] = {0.0f, -0.0f, 1.0f}, one[3] = {1, 1, 1};
    sg_tensor *tx = t_tensor(s, x), *tdy = t_tensor(s, one), *tdx = t_tensor_fill(s, 0);
    T_RUN(sg_activation_backward(seq, SG_ACT_RELU, 0, tx, NULL, tdy, tdx));
    T_RUN(sg_activation_backward(seq, SG_ACT_LEAKY_RELU, 0.25f, tx, NULL, tdy, tdx));
    float *g = t_download(tdx);
    t_check(g[0] == 0.25f && g[1] == 0.25f && g[2] == 2.0f,
            "gradient at x == 0: relu 0, leaky slope (%g %g %g)", g[0], g[1], g[2]);
    free(g);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(tdy);
    sg_tensor_destroy(tdx);
}

/* sigmoid and tanh saturate without overflow or NaN far from 0 */
static void test_saturation(void)
{
    sg_shape s = sg_shape4(1, 1, 1, 4);
    float x[4] = {-200.0f, -90.0f, 90.0f, 200.0f};
    sg_tensor *tx = t_tensor(s, x), *ty = t_tensor(s, NULL);
    T_RUN(sg_activation_forward(seq, SG_ACT_SIGMOID, 0, tx, ty));
    float *g = t_download(ty);
    t_check(g[0] == 0.0f && g[1] >= 0.0f && g[1] < 1e-30f && g[2] == 1.0f && g[3] == 1.0f,
            "sigmoid saturates (%g %g %g %g)", g[0], g[1], g[2], g[3]);
    free(g);
    T_RUN(sg_activation_forward(seq, SG_ACT_TANH, 0, tx, ty));
    g = t_download(ty);
    t_check(g[0] == -1.0f && g[1] == -1.0f && g[2] == 1.0f && g[3] == 1.0f,
            "tanh saturates (%g %g %g %g)", g[0], g[1], g[2], g[3]);
    free(g);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(ty);
}

static void test_errors(void)
{
    sg_shape s = sg_shape4(2, 3, 4, 5);
    sg_tensor *a = t_tensor_fill(s, 1), *b = t_tensor_fill(s, 1),
              *odd = t_tensor_fill(sg_shape4(2, 3, 5, 4), 1);
    T_REFUSED(SG_ERR_SHAPE, "activation_forward",
              sg_activation_forward(seq, SG_ACT_RELU, 0, a, odd));
    T_REFUSED(SG_ERR_ARGUMENT, "activation_forward",
              sg_activation_forward(seq, (sg_activation)7, 0, a, b));
    T_REFUSED(SG_ERR_ARGUMENT, "activation_forward",
              sg_activation_forward(seq, SG_ACT_TANH, 0, NULL, b));
    T_REFUSED(SG_ERR_ARGUMENT, "activation_backward",
              sg_activation_backward(seq, SG_ACT_RELU, 0, NULL, a, a, b)); /* ReLU needs x */
    T_REFUSED(SG_ERR_ARGUMENT, "activation_backward",
              sg_activation_backward(seq, SG_ACT_SIGMOID, 0, a, NULL, a, b)); /* needs y */
    T_REFUSED(SG_ERR_ARGUMENT, "activation_backward",
              sg_activation_backward(seq, SG_ACT_TANH, 0, NULL, a, NULL, b));
    T_REFUSED(SG_ERR_SHAPE, "activation_backward",
              sg_activation_backward(seq, SG_ACT_RELU, 0, a, NULL, a, odd));
    T_REFUSED(SG_ERR_SHAPE, "activation_backward",
              sg_activation_backward(seq, SG_ACT_TANH, 0, NULL, odd, a, b));
    T_REFUSED(SG_ERR_SHAPE, "activation_backward",
              sg_activation_backward(seq, SG_ACT_RELU, 0, a, odd, a, b)); /* unused y checked too */

    /* a NULL dx records nothing */
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_activation_backward(seq, SG_ACT_RELU, 0, a, NULL, b, NULL), "backward, dx NULL");
    t_check(sg_seq_dispatch_count(seq) == 0, "NULL dx: no dispatch recorded");
    sg_seq_destroy(seq);
    sg_tensor_destroy(a);
    sg_tensor_destroy(b);
    sg_tensor_destroy(odd);
}

/* More than 65535 workgroups of 256 threads: the 2-D group split, forward and
 * backward, every element checked. */
static void test_large(void)
{
    sg_shape s = sg_shape4(1, 1, 1, 65536 * 256 + 77);
    size_t n = sg_shape_count(s);
    float *x = t_alloc(n), *y = t_alloc(n), *dx = t_alloc(n);
    t_random(x, n, -3, 3, 99);
    sg_tensor *tx = t_tensor(s, x), *ty = t_tensor(s, NULL), *tdx = t_tensor_fill(s, 0.5f);
    sg_ref_activation_forward(SG_ACT_LEAKY_RELU, leaky_slope, n, x, y);
    T_RUN(sg_activation_forward(seq, SG_ACT_LEAKY_RELU, leaky_slope, tx, ty));
    float *got = t_download(ty);
    t_close("large leaky_relu forward", got, y, n, 0, 1e-6);
    free(got);
    /* dy = x: dx = 0.5 + x * f'(x) */
    for (size_t i = 0; i < n; i++)
        dx[i] = 0.5f;
    sg_ref_activation_backward(SG_ACT_LEAKY_RELU, leaky_slope, n, x, y, x, dx);
    T_RUN(sg_activation_backward(seq, SG_ACT_LEAKY_RELU, leaky_slope, tx, ty, tx, tdx));
    got = t_download(tdx);
    t_close("large leaky_relu backward", got, dx, n, 0, 1e-6);
    free(got);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(ty);
    sg_tensor_destroy(tdx);
    free(x);
    free(y);
    free(dx);
}

int main(void)
{
    t_begin("activation");
    const sg_shape shapes[] = {
        sg_shape4(1, 1, 1, 1), sg_shape4(1, 3, 5, 7), sg_shape4(2, 5, 9, 4), sg_shape4(3, 7, 1, 13),
        sg_shape4(4, 6, 17, 3),
        /* the whole forms (ops/activation.c): 4 whole workgroups of 256 quads; 16 and a rest of 120 quads */
        sg_shape4(2, 8, 16, 16), sg_shape4(1, 17, 31, 32),
    };
    uint64_t seed = 1;
    for (int a = SG_ACT_RELU; a <= SG_ACT_TANH; a++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            test_one((sg_activation)a, shapes[i], seed++);
    test_kink();
    test_saturation();
    test_errors();
    test_large();
    return t_end();
}
