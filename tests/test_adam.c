/* Adam (replayed steps of one recording against the reference and the closed
 * form of the first step), init_normal (reproducible, the requested mean and
 * std), init_constant, and the non-finite check. The updates run twice:
 * through storage-buffer descriptors (adam_update_texel) and, on a device with
 * buffer_stores, through buffer references (adam_update). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/ref.h"

/* One recording: step += 1, then the Adam update; replayed `steps` times with a
 * new gradient uploaded before each run, against the reference step by step.
 * start_step is the counter's value before the first run (0 for a fresh
 * optimiser; large values reach the other branch of the bias correction). */
static void check_adam(const char *what, sg_adam p, size_t n, float start_step, int steps)
{
    sg_shape s = sg_shape4(1, 1, 1, (int)n);
    float *param = t_alloc(n), *grad = t_alloc(n), *m = t_alloc(n), *v = t_alloc(n);
    t_random(param, n, -1, 1, 41);
    if (start_step > 0) { /* a run in progress: moments already built up */
        t_random(m, n, -0.1f, 0.1f, 42);
        t_random(v, n, 0.0f, 0.01f, 43);
    }
    float *param0 = t_alloc(n);
    memcpy(param0, param, n * sizeof *param);
    sg_tensor *tp = t_tensor(s, param), *tg = t_tensor(s, NULL), *tm = t_tensor(s, m),
              *tv = t_tensor(s, v);
    sg_tensor *step = t_tensor_fill(sg_shape4(1, 1, 1, 1), start_step);

    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_step_increment(seq, step), "step_increment");
    t_ok(sg_adam_update(seq, &p, tp, tg, tm, tv, step), "adam_update");
    t_ok(sg_seq_finish(seq), "finish");
    for (int k = 1; k <= steps; k++) {
        t_random(grad, n, -1, 1, 100 + (uint64_t)k);
        grad[0] = 0.0f; /* a parameter without gradient still moves with its momentum */
        t_ok(sg_tensor_upload(tg, grad), "upload grad");
        t_ok(sg_seq_run(seq), "run");
        sg_ref_adam_update(&p, n, param, grad, m, v, start_step + (float)k);
        float *gp = t_download(tp), *gm = t_download(tm), *gv = t_download(tv);
        char w[160];
        /* float against double arithmetic: a few roundings of values <= 1 */
        snprintf(w, sizeof w, "%s%s, step %d: m", t_reads, what, k);
        t_close(w, gm, m, n, 1e-7, 1e-5);
        snprintf(w, sizeof w, "%s%s, step %d: v", t_reads, what, k);
        t_close(w, gv, v, n, 1e-9, 1e-5);
        /* the update is about lr per step, its relative error a few 1e-7 */
        snprintf(w, sizeof w, "%s%s, step %d: param", t_reads, what, k);
        t_close(w, gp, param, n, 2e-7, 1e-6);
        if (k == 1 && start_step == 0) {
            /* closed form of a first step from zero moments: mhat = g, vhat = g^2,
             * so p -= lr * g / (|g| + eps) (independent of the reference) */
            double worst = 0;
            for (size_t i = 0; i < n; i++) {
                double g = grad[i];
                double want = param0[i] - p.lr * g / (fabs(g) + p.eps);
                worst = fmax(worst, fabs(gp[i] - want));
            }
            t_check(worst <= 1e-4 * p.lr + 1e-6, "%s%s: first step is p - lr*g/(|g|+eps) (max error %.3g)",
                    t_reads, what, worst);
        }
        free(gp);
        free(gm);
        free(gv);
    }
    float t;
    t_ok(sg_tensor_download(step, &t), "download step");
    t_check(t == start_step + (float)steps, "%s%s: step counter advanced to %g", t_reads, what, t);
    sg_seq_destroy(seq);
    sg_tensor_destroy(tp);
    sg_tensor_destroy(tg);
    sg_tensor_destroy(tm);
    sg_tensor_destroy(tv);
    sg_tensor_destroy(step);
    free(param);
    free(param0);
    free(grad);
    free(m);
    free(v);
}

/* Adam over views of one tensor (all parameters in one allocation). */
static void check_adam_views(void)
{
    sg_adam p = {1e-2f, 0.9f, 0.999f, 1e-8f};
    size_t n = 64;
    float *param = t_alloc(n), *grad = t_alloc(n), *m = t_alloc(n), *v = t_alloc(n);
    t_random(param, n, -1, 1, 51);
    t_random(grad, n, -1, 1, 52);
    sg_tensor *all = t_tensor(sg_shape4(1, 1, 1, (int)n), param);
    sg_tensor *g = t_tensor(sg_shape4(1, 1, 1, 40), grad + 24), *tm = t_tensor_fill(sg_shape4(1, 1, 1, 40), 0),
              *tv = t_tensor_fill(sg_shape4(1, 1, 1, 40), 0), *step = t_tensor_fill(sg_shape4(1, 1, 1, 1), 1);
    sg_tensor *view;
    t_ok(sg_tensor_view(all, 24, sg_shape4(1, 1, 5, 8), &view), "view");
    T_RUN(sg_adam_update(seq, &p, view, g, tm, tv, step));
    float *want = t_alloc(n);
    memcpy(want, param, n * sizeof *want);
    sg_ref_adam_update(&p, 40, want + 24, grad + 24, m, v, 1.0f);
    float *got = t_download(all);
    t_close(t_reads[0] ? "[buffer stores] adam through a view: only the view's elements change"
                       : "adam through a view: only the view's elements change",
            got, want, n, 1e-6, 1e-6);
    t_check(memcmp(got, param, 24 * sizeof *got) == 0, "elements before the view untouched");
    free(got);
    free(want);
    sg_tensor_destroy(view);
    sg_tensor_destroy(all);
    sg_tensor_destroy(g);
    sg_tensor_destroy(tm);
    sg_tensor_destroy(tv);
    sg_tensor_destroy(step);
    free(param);
    free(grad);
    free(m);
    free(v);
}

static void check_adam_refused(void)
{
    sg_adam p = {1e-3f, 0.9f, 0.999f, 1e-8f}, bad1 = {1e-3f, 1.0f, 0.999f, 1e-8f},
            bad2 = {-1e-3f, 0.9f, 0.999f, 1e-8f}, bad3 = {1e-3f, 0.9f, 0.999f, NAN};
    sg_tensor *a = t_tensor_fill(sg_shape4(1, 1, 1, 8), 0), *b = t_tensor_fill(sg_shape4(1, 1, 1, 9), 0);
    sg_tensor *c = t_tensor_fill(sg_shape4(1, 1, 1, 8), 0), *d = t_tensor_fill(sg_shape4(1, 1, 1, 8), 0);
    sg_tensor *st = t_tensor_fill(sg_shape4(1, 1, 1, 1), 1), *st2 = t_tensor_fill(sg_shape4(1, 1, 1, 2), 1);
    T_REFUSED(SG_ERR_SHAPE, "adam_update", sg_adam_update(seq, &p, a, b, c, d, st));
    T_REFUSED(SG_ERR_SHAPE, "adam_update", sg_adam_update(seq, &p, a, c, b, d, st));
    T_REFUSED(SG_ERR_SHAPE, "adam_update", sg_adam_update(seq, &p, a, c, d, b, st));
    T_REFUSED(SG_ERR_SHAPE, "adam_update", sg_adam_update(seq, &p, a, c, d, c, st2));
    T_REFUSED(SG_ERR_ARGUMENT, "adam_update", sg_adam_update(seq, &p, a, c, d, c, NULL));
    T_REFUSED(SG_ERR_ARGUMENT, "adam_update", sg_adam_update(seq, NULL, a, c, d, c, st));
    T_REFUSED(SG_ERR_ARGUMENT, "adam_update", sg_adam_update(seq, &bad1, a, c, d, c, st));
    T_REFUSED(SG_ERR_ARGUMENT, "adam_update", sg_adam_update(seq, &bad2, a, c, d, c, st));
    T_REFUSED(SG_ERR_ARGUMENT, "adam_update", sg_adam_update(seq, &bad3, a, c, d, c, st));
    sg_tensor *x = t_tensor_fill(sg_shape4(1, 1, 1, 8), 0);
    T_REFUSED(SG_ERR_SHAPE, "check_finite", sg_check_finite(seq, x, st2));
    T_REFUSED(SG_ERR_ARGUMENT, "check_finite", sg_check_finite(seq, x, NULL));
    sg_tensor *ts[] = {a, b, c, d, st, st2, x};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        sg_tensor_destroy(ts[i]);
}

/* Sample mean, standard deviation and the fraction within one std of the mean. */
static void moments(const float *x, size_t n, double *mean, double *std, double *within1)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(ss / (double)(n - 1));
    size_t in = 0;
    for (size_t i = 0; i < n; i++)
        in += fabs(x[i] - *mean) <= *std;
    *within1 = (double)in / (double)n;
}

static void check_init_normal(void)
{
    const size_t n = 100001; /* odd: the last Box-Muller pair is cut in half */
    sg_shape s = sg_shape4(1, 1, 1, (int)n);
    sg_tensor *a = t_tensor(s, NULL), *b = t_tensor(s, NULL), *c = t_tensor(s, NULL);
    const float means[] = {0.0f, 2.5f}, stds[] = {1.0f, 0.3f};
    for (int k = 0; k < 2; k++) {
        float mu = means[k], sd = stds[k];
        t_ok(sg_init_normal(a, mu, sd, 42), "init_normal");
        float *x = t_download(a);
        double mean, std, within1;
        moments(x, n, &mean, &std, &within1);
        /* 100k samples: the standard error of the mean is sd/316 and of the std
         * sd/447; allow about 5 of each. The fraction within one std is 0.6827
         * with a standard error of 0.0015. */
        t_check(fabs(mean - mu) <= 0.016 * sd && fabs(std / sd - 1) <= 0.011 &&
                    fabs(within1 - 0.6827) <= 0.006,
                "init_normal(%g, %g): mean %.5f std %.5f, %.4f within one std", mu, sd, mean, std,
                within1);
        free(x);
    }
    /* reproducible: same seed same bits, the host generator's bits, prefixes agree */
    t_ok(sg_init_normal(a, 0.0f, 1.0f, 7), "init_normal");
    t_ok(sg_init_normal(b, 0.0f, 1.0f, 7), "init_normal");
    t_ok(sg_init_normal(c, 0.0f, 1.0f, 8), "init_normal");
    float *xa = t_download(a), *xb = t_download(b), *xc = t_download(c), *host = t_alloc(n + 1);
    t_check(memcmp(xa, xb, n * sizeof *xa) == 0, "init_normal: same seed, same values");
    sg_ref_init_normal(n + 1, host, 0.0f, 1.0f, 7);
    t_check(memcmp(xa, host, n * sizeof *xa) == 0,
            "init_normal: the values of sg_ref_init_normal, value i independent of the count");
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += xa[i] == xc[i];
    t_check(same < 10, "init_normal: another seed, other values (%zu equal)", same);
    /* the stream itself is part of the contract (saved models, other devices) */
    const float golden[5] = {0.41471976f, 0.652681231f, -0.891886234f, 1.32683361f, 1.72959304f};
    sg_ref_init_normal(5, host, 0.0f, 1.0f, 42);
    bool match = true;
    for (int i = 0; i < 5; i++)
        match = match && fabsf(host[i] - golden[i]) <= 1e-6f;
    t_check(match, "init_normal: seed 42 starts %.6f %.6f %.6f ... as it always has", host[0],
            host[1], host[2]);
    /* std 0 gives exactly the mean */
    t_ok(sg_init_normal(a, -1.5f, 0.0f, 3), "init_normal");
    float *z = t_download(a);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += z[i] != -1.5f;
    t_check(bad == 0, "init_normal with std 0: every value the mean (%zu wrong)", bad);
    t_check(sg_init_normal(a, 0.0f, -1.0f, 1) == SG_ERR_ARGUMENT, "negative std refused: %s",
            sg_error_message());
    t_check(sg_init_normal(a, NAN, 1.0f, 1) == SG_ERR_ARGUMENT, "NaN mean refused: %s", sg_error_message());
    t_check(sg_init_normal(NULL, 0.0f, 1.0f, 1) == SG_ERR_ARGUMENT, "NULL tensor refused: %s",
            sg_error_message());
    free(z);
    free(xa);
    free(xb);
    free(xc);
    free(host);
    sg_tensor_destroy(a);
    sg_tensor_destroy(b);
    sg_tensor_destroy(c);
}

static void check_init_constant(void)
{
    const size_t n = 200003; /* several upload pieces, the last one partial */
    sg_tensor *t = t_tensor_fill(sg_shape4(1, 1, 1, (int)n), -7.0f);
    t_ok(sg_init_constant(t, 0.125f), "init_constant");
    float *x = t_download(t);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += x[i] != 0.125f;
    t_check(bad == 0, "init_constant: %zu values set (%zu wrong)", n, bad);
    t_check(sg_init_constant(NULL, 1.0f) == SG_ERR_ARGUMENT, "init_constant: NULL refused: %s",
            sg_error_message());
    free(x);
    sg_tensor_destroy(t);
}

static void check_finite_flag(void)
{
    const size_t n = 300007;
    sg_shape s = sg_shape4(1, 1, 1, (int)n);
    float *x = t_alloc(n);
    t_random(x, n, -1e30f, 1e30f, 61);
    x[5] = 3.4e38f;  /* largest floats and a subnormal are finite */
    x[6] = -3.4e38f;
    x[7] = 1e-40f;
    sg_tensor *tx = t_tensor(s, x), *flag = t_tensor_fill(sg_shape4(1, 1, 1, 1), 0.0f);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_fill(seq, flag, 0.0f), "fill");
    t_ok(sg_check_finite(seq, tx, flag), "check_finite");
    t_ok(sg_seq_finish(seq), "finish");

    const struct {
        const char *name;
        bool inject; /* put `value` at `at` for this run */
        size_t at;
        float value;
        float want;
    } cases[] = {
        {"clean", false, 0, 0.0f, 0.0f},
        {"NaN in the middle", true, 123457, NAN, 1.0f},
        {"+Inf at the end", true, n - 1, INFINITY, 1.0f},
        {"-Inf at the start", true, 0, -INFINITY, 1.0f},
        {"clean again (the recording clears the flag)", false, 0, 0.0f, 0.0f},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float saved = x[cases[k].at];
        if (cases[k].inject)
            x[cases[k].at] = cases[k].value;
        t_ok(sg_tensor_upload(tx, x), "upload");
        t_ok(sg_seq_run(seq), "run");
        float f;
        t_ok(sg_tensor_download(flag, &f), "download");
        t_check(f == cases[k].want, "check_finite, %s: flag %g", cases[k].name, f);
        x[cases[k].at] = saved;
    }
    sg_seq_destroy(seq);

    /* without a fill, a clean input leaves the flag as it was */
    t_ok(sg_tensor_upload(tx, x), "upload");
    float half = 0.5f;
    t_ok(sg_tensor_upload(flag, &half), "upload flag");
    T_RUN(sg_check_finite(seq, tx, flag));
    float f;
    t_ok(sg_tensor_download(flag, &f), "download");
    t_check(f == 0.5f, "check_finite leaves the flag alone on clean input (%g)", f);
    sg_tensor_destroy(tx);
    sg_tensor_destroy(flag);
    free(x);
}

/* The updates, through storage-buffer descriptors (adam_update_texel) or, on a
 * device with buffer_stores, through buffer references. */
static void adam_cases(void)
{
    check_adam("adam defaults", (sg_adam){1e-3f, 0.9f, 0.999f, 1e-8f}, 1003, 0.0f, 3);
    check_adam("adam lr 0.05 betas 0.5 0.9 eps 1e-6", (sg_adam){0.05f, 0.5f, 0.9f, 1e-6f}, 262151, 0.0f, 3);
    check_adam("adam beta1 0", (sg_adam){1e-2f, 0.0f, 0.99f, 1e-8f}, 517, 0.0f, 3);
    check_adam("adam from step 499", (sg_adam){1e-3f, 0.9f, 0.999f, 1e-8f}, 1003, 499.0f, 3);
    check_adam("adam from step 10000", (sg_adam){1e-3f, 0.9f, 0.999f, 1e-8f}, 1003, 10000.0f, 3);
    /* whole workgroups of 256 quads (ops/op_util.c): 16 and no rest (262151 above: 256 and a rest) */
    check_adam("adam in whole workgroups", (sg_adam){1e-3f, 0.9f, 0.999f, 1e-8f}, 16384, 0.0f, 3);
    check_adam("adam in whole workgroups from step 10000", (sg_adam){1e-3f, 0.9f, 0.999f, 1e-8f}, 16384,
               10000.0f, 3);
    check_adam_views();
}

int main(void)
{
    t_begin("adam");
    adam_cases();
    check_adam_refused();
    check_init_normal();
    check_init_constant();
    check_finite_flag();
    t_again_with_buffer_stores(adam_cases);
    return t_end();
}
