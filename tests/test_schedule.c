/* The training schedule of sg_fit: the warm-up that trains G on the
 * reconstruction before the adversary (its adversarial and latent weights are
 * really 0 at step 0), the held-out reconstruction loss and the speed in the
 * progress, and the early stop that keeps the best model it measured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sgad/fit.h"
#include "sgad/model.h"

static char dir[256];

enum { MAX_STEPS = 64 };

/* Smooth blobs at random places (normal images) or uniform noise. */
static void make_images(sg_dataset *d, size_t n, bool noise, uint64_t seed)
{
    t_ok(sg_dataset_init(d, 3, 32), "dataset");
    float *img = t_alloc(3 * 32 * 32);
    for (size_t k = 0; k < n; k++) {
        if (noise) {
            t_random(img, 3 * 32 * 32, -1, 1, seed * 1000 + k);
        } else {
            float r[3];
            t_random(r, 3, 0, 1, seed * 1000 + k);
            for (int i = 0; i < 3 * 32 * 32; i++) {
                int x = i % 32, y = i / 32 % 32;
                float dx = x - 8 - 16 * r[0], dy = y - 8 - 16 * r[1];
                img[i] = -0.8f + 1.4f * expf(-(dx * dx + dy * dy) / (20 + 20 * r[2]));
            }
        }
        t_ok(sg_dataset_append(d, img, 0), "append");
    }
    free(img);
}

static sg_model *small_model(uint64_t seed)
{
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    sg_model *m;
    t_ok(sg_model_create(t_dev, &c, seed, &m), "model");
    return m;
}

/* What the progress callback saw, step by step (index: the model's step). */
typedef struct run_log {
    int stop_after;            /* return false after this many steps; 0: never */
    sg_fit_progress p[MAX_STEPS + 1];
    uint64_t last_step;
    /* the reconstruction loss of fixed probe images after every step, measured by
     * the test itself: tells one model's weights from another's */
    sg_model *m;
    sg_recon_eval *probe;
    const float *probe_images;
    double probe_loss[MAX_STEPS + 1];
} run_log;

static bool log_step(const sg_fit_progress *p, void *user)
{
    run_log *l = user;
    if (p->step <= MAX_STEPS)
        l->p[p->step] = *p;
    l->last_step = p->step;
    if (l->probe && p->step <= MAX_STEPS)
        t_ok(sg_recon_eval_run(l->probe, l->probe_images, 4, &l->probe_loss[p->step]), "probe");
    return !(l->stop_after && (int)p->step >= l->stop_after);
}

static sg_fit_options options(run_log *l)
{
    sg_fit_options o = sg_fit_options_default();
    o.epochs = 1;
    o.train.batch = 4;
    o.holdout = 0.2f;
    o.bn_batches = 1;
    o.progress = log_step;
    o.user = l;
    return o;
}

/* The first steps of a run with these adversarial/latent weights and warm-up. */
static void first_steps(run_log *l, const sg_dataset *d, float w_adv, float w_lat, uint32_t warmup)
{
    memset(l, 0, sizeof *l);
    l->stop_after = 3;
    sg_fit_options o = options(l);
    o.train.w_adv = w_adv;
    o.train.w_lat = w_lat;
    o.warmup_steps = warmup;
    sg_model *m = small_model(3);
    sg_fit_result r;
    t_ok(sg_fit(m, d, &o, &r), "fit");
    t_check(r.interrupted && r.steps_run == 3, "stopped after 3 steps (%llu)", (unsigned long long)r.steps_run);
    sg_model_destroy(m);
}

static bool same_terms(const sg_train_losses *a, const sg_train_losses *b)
{
    return a->g_con == b->g_con && a->g_adv == b->g_adv && a->g_lat == b->g_lat && a->d_real == b->d_real &&
           a->d_fake == b->d_fake;
}

/* During a warm-up G's step at step 0 is the reconstruction's alone: two runs
 * whose adversarial and latent weights differ a hundredfold have the same
 * weights after it (their step-1 losses, measured before step 1's update, are
 * bit-identical); at step 1 the ramp is 1/4 and they part. Without a warm-up
 * they part after step 0. */
static void test_warmup(const sg_dataset *d)
{
    run_log a, b;
    first_steps(&a, d, 1.0f, 1.0f, 4);
    first_steps(&b, d, 100.0f, 30.0f, 4);
    const sg_train_config def = sg_train_config_default();
    t_check(a.p[1].losses.warmup == 0.0f && a.p[2].losses.warmup == 0.25f && a.p[3].losses.warmup == 0.5f,
            "the ramp is step/4: %g, %g, %g", a.p[1].losses.warmup, a.p[2].losses.warmup, a.p[3].losses.warmup);
    t_check(a.p[1].losses.g_adv > 0 && a.p[1].losses.g_total == def.w_con * a.p[1].losses.g_con &&
                b.p[1].losses.g_total == def.w_con * b.p[1].losses.g_con,
            "step 0's G loss is the weighted reconstruction alone (%g = 50 x %g; adv %g not counted)",
            a.p[1].losses.g_total, a.p[1].losses.g_con, a.p[1].losses.g_adv);
    t_check(same_terms(&a.p[1].losses, &b.p[1].losses) && same_terms(&a.p[2].losses, &b.p[2].losses),
            "adversarial weights 1 and 100 give the same model after the warm-up's step 0 (con %.9g vs %.9g)",
            a.p[2].losses.g_con, b.p[2].losses.g_con);
    t_check(a.p[3].losses.g_con != b.p[3].losses.g_con,
            "and differ once the ramp is above 0 (con %.9g vs %.9g)", a.p[3].losses.g_con, b.p[3].losses.g_con);
    first_steps(&a, d, 1.0f, 1.0f, 0);
    first_steps(&b, d, 100.0f, 30.0f, 0);
    t_check(a.p[1].losses.warmup == 1.0f && !same_terms(&a.p[2].losses, &b.p[2].losses),
            "without a warm-up the adversarial weight acts from step 0 (con %.9g vs %.9g)", a.p[2].losses.g_con,
            b.p[2].losses.g_con);
}

/* The progress carries the held-out reconstruction loss every eval_interval
 * steps and after the last, the planned steps, the speed and the time left;
 * without a patience every step runs and the model is the last. */
static void test_progress(const sg_dataset *d)
{
    run_log l;
    memset(&l, 0, sizeof l);
    sg_fit_options o = options(&l);
    o.epochs = 2; /* 20 images: 4 held out, 4 steps an epoch, 8 steps */
    o.eval_interval = 3;
    sg_model *m = small_model(5);
    sg_fit_result r;
    t_ok(sg_fit(m, d, &o, &r), "fit");
    t_check(r.steps_run == 8 && !r.stopped_early && l.last_step == 8, "8 steps run (%llu)",
            (unsigned long long)r.steps_run);
    bool measured_right = true, fields = true;
    for (int s = 1; s <= 8; s++) {
        const sg_fit_progress *p = &l.p[s];
        measured_right &= p->heldout_measured == (s % 3 == 0 || s == 8);
        measured_right &= s < 3 ? isnan(p->heldout_con) : isfinite(p->heldout_con) && p->heldout_con > 0;
        fields &= p->steps == 8 && p->steps_per_second > 0 && p->seconds_left >= 0;
    }
    t_check(measured_right, "held-out loss measured after steps 3, 6 and 8 (%g, %g, %g), none before",
            l.p[3].heldout_con, l.p[6].heldout_con, l.p[8].heldout_con);
    t_check(fields && l.p[8].seconds_left == 0 && l.p[1].seconds_left > 0,
            "planned steps, speed and time left (%.3g steps/s, %.3g s left after step 1)", l.p[1].steps_per_second,
            l.p[1].seconds_left);
    t_check(r.heldout_con == l.p[8].heldout_con && sg_model_training_state(m)->step == 8,
            "the result has the last held-out loss; the model is the last step's");
    sg_model_destroy(m);
}

/* Noise at a learning rate far too high: the held-out loss soon stops
 * improving, and with a patience of 1 the run stops and returns (and saves,
 * calibrated) the model of its best measurement, not the last. */
static void test_early_stop(void)
{
    sg_dataset noise;
    make_images(&noise, 20, true, 7); /* 4 held out, 4 steps an epoch */
    run_log l;
    memset(&l, 0, sizeof l);
    sg_fit_options o = options(&l);
    o.epochs = 4;
    o.train.lr = 2e-2f;
    o.eval_interval = 1;
    o.patience = 1;
    o.warmup_steps = 1;
    char path[512];
    snprintf(path, sizeof path, "%s/stop.safetensors", dir);
    o.checkpoint = path;
    sg_model *m = small_model(11);
    l.m = m;
    l.probe_images = noise.pixels;
    t_ok(sg_recon_eval_create(m, 4, &l.probe), "probe");
    sg_fit_result r;
    t_ok(sg_fit(m, &noise, &o, &r), "fit");
    uint64_t last = l.last_step;
    t_check(r.stopped_early && r.steps_run == last && last < 16 && l.p[last].evals_without_gain == 1,
            "stopped early after %llu of 16 steps, at a measurement without a gain", (unsigned long long)last);
    double best = INFINITY;
    uint64_t best_step = 0;
    for (uint64_t s = 2; s <= last && s <= MAX_STEPS; s++) /* after the warm-up's step */
        if (l.p[s].heldout_con < best) {
            best = l.p[s].heldout_con;
            best_step = s;
        }
    t_check(r.best_heldout_con == best && r.best_step == best_step && best_step < last,
            "the best held-out loss %g at step %llu (last %g at %llu)", best, (unsigned long long)best_step,
            l.p[last].heldout_con, (unsigned long long)last);
    bool warmup_ignored = true;
    warmup_ignored &= isfinite(l.p[1].heldout_con) && isnan(l.p[1].best_heldout_con);
    t_check(warmup_ignored, "the warm-up's measurements are shown but not candidates");
    double kept;
    t_ok(sg_recon_eval_run(l.probe, noise.pixels, 4, &kept), "probe the result");
    t_check(kept == l.probe_loss[best_step] && kept != l.probe_loss[last],
            "the model returned is the best step's (probe %.9g; best step %.9g, last %.9g)", kept,
            l.probe_loss[best_step], l.probe_loss[last]);
    sg_model *saved;
    t_ok(sg_model_load(t_dev, path, &saved), "load the saved model");
    t_check(sg_model_training_state(saved)->step == best_step && sg_model_calibration(saved)->valid,
            "the saved model is the best step's (%llu), calibrated",
            (unsigned long long)sg_model_training_state(saved)->step);
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    t_check(access(partial, F_OK) != 0, "no partial state is left");
    sg_model_destroy(saved);
    sg_recon_eval_destroy(l.probe);
    sg_model_destroy(m);

    /* early stopping without held-out images is refused before training */
    o.holdout = 0;
    o.checkpoint = NULL;
    m = small_model(11);
    sg_status s = sg_fit(m, &noise, &o, &r);
    t_check(s == SG_ERR_ARGUMENT && strstr(sg_error_message(), "patience") && r.steps_run == 0,
            "patience without held-out images refused: %s", sg_error_message());
    sg_model_destroy(m);
    sg_dataset_free(&noise);
}

int main(void)
{
    t_begin("schedule");
    char *tmp = t_tmpdir("sgad-test-schedule");
    snprintf(dir, sizeof dir, "%s", tmp);
    free(tmp);
    sg_dataset d;
    make_images(&d, 20, false, 1); /* 4 held out, 16 to train: 4 steps of 4 an epoch */
    test_warmup(&d);
    test_progress(&d);
    test_early_stop();
    sg_dataset_free(&d);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return t_end();
}
