/* The model's frame score on the device: the spec's mean equals the heat map's
 * mean; other settings pool the same maps; a standardised score needs
 * statistics, survives a checkpoint round trip, and comes out of sg_fit
 * calibrated. Then the calibration's promise: a threshold at the q quantile
 * of held-out normal scores flags about 1-q of unseen normal images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/fit.h"
#include "sgad/frame_score.h"
#include "sgad/score_worker.h"

#define S 32
#define PLANE (S * S)
#define IMAGE (3 * PLANE)

static sg_model *tiny_model(uint64_t seed)
{
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    sg_model *m;
    t_ok(sg_model_create(t_dev, &c, seed, &m), "sg_model_create");
    t_ok(sg_model_set_score_lambda(m, 1), "lambda 1: the pixel term alone");
    return m;
}

/* Normal images: a soft bright disc at a random place on a noisy grey field. */
static float *normal_images(size_t n, uint64_t seed)
{
    return t_disc_images(n, S, 0.1f, seed);
}

static void test_pooling_on_device(void)
{
    enum { N = 12 };
    sg_model *m = tiny_model(1);
    float *x = normal_images(N, 10), scores[N], heat[N * PLANE], work[PLANE];
    t_ok(sg_score_images(m, x, N, 8, scores, heat, NULL), "score");
    bool same = true;
    for (int i = 0; i < N; i++) {
        double mean = 0;
        for (int p = 0; p < PLANE; p++)
            mean += heat[i * PLANE + p];
        mean /= PLANE;
        same = same && fabs(scores[i] - mean) <= 1e-4 * mean + 1e-7;
    }
    t_check(same, "the spec's score (lambda 1) is the mean of the heat map");
    sg_frame_score_config top;
    t_check(sg_frame_score_config_parse("topk=0.02,smooth=1", &top) == NULL, "parse topk=0.02,smooth=1");
    t_ok(sg_model_set_frame_score(m, &top), "set the frame score");
    t_ok(sg_score_images(m, x, N, 8, scores, NULL, NULL), "score with top-k");
    same = true;
    for (int i = 0; i < N; i++)
        same = same && scores[i] == sg_frame_score(&top, heat + i * PLANE, S, NULL, NULL, work);
    t_check(same, "top-k scores are the pooled heat maps");
    sg_frame_score_config z = top;
    z.standardise = true;
    t_ok(sg_model_set_frame_score(m, &z), "set a standardised frame score");
    t_check(sg_score_images(m, x, N, 8, scores, NULL, NULL) == SG_ERR_ARGUMENT && !sg_model_has_pixel_stats(m),
            "standardised without statistics: refused, not a made-up score");
    {   /* a training state (no statistics, no threshold yet: a .partial file) loads and can
         * resume, and still refuses to score until calibrated */
        char *pdir = t_tmpdir("sgad-model-score-partial"), ppath[512];
        snprintf(ppath, sizeof ppath, "%s/p.safetensors", pdir);
        t_ok(sg_model_save(m, ppath), "save a standardised model before its statistics");
        sg_model *p;
        t_ok(sg_model_load(t_dev, ppath, &p), "it loads (training resumes from such a file)");
        t_check(sg_model_frame_score(p)->standardise && !sg_model_has_pixel_stats(p) &&
                    !sg_model_calibration(p)->valid,
                "standardised, no statistics, no threshold");
        t_check(sg_score_images(p, x, N, 8, scores, NULL, NULL) == SG_ERR_ARGUMENT, "and it refuses to score");
        sg_model_destroy(p);
        remove(ppath);
        remove(pdir);
        free(pdir);
    }
    t_ok(sg_model_fit_pixel_stats(m, x, 6), "fit per-pixel statistics");
    t_ok(sg_calibrate(m, x + 6 * IMAGE, 6, 0.9f), "calibrate on the other images");
    t_ok(sg_score_images(m, x, N, 8, scores, NULL, NULL), "score standardised");

    char *dir = t_tmpdir("sgad-model-score"), path[512];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    t_ok(sg_model_save_for_scoring(m, path), "save");
    sg_model *back;
    t_ok(sg_model_load(t_dev, path, &back), "load");
    float again[N];
    t_ok(sg_score_images(back, x, N, 8, again, NULL, NULL), "score the loaded model");
    const sg_frame_score_config *fs = sg_model_frame_score(back);
    t_check(fs->pool == SG_POOL_TOPK && fs->smooth == 1 && fs->standardise && fabsf(fs->topk - 0.02f) < 1e-7f,
            "the frame score is saved in the checkpoint");
    t_check(!memcmp(scores, again, sizeof scores), "the loaded model scores the same, bit for bit");
    t_check(sg_model_calibration(back)->valid &&
                sg_model_calibration(back)->threshold == sg_model_calibration(m)->threshold,
            "with the same threshold");
    /* setting the spec's score back: the mean again, and no statistics saved */
    sg_frame_score_config spec = sg_frame_score_config_spec();
    t_ok(sg_model_set_frame_score(back, &spec), "back to the spec's score");
    t_check(!sg_model_calibration(back)->valid, "changing the frame score clears the threshold");
    t_ok(sg_model_save_for_scoring(back, path), "save the spec's setting");
    sg_model_destroy(back);
    t_ok(sg_model_load(t_dev, path, &back), "load it");
    t_check(sg_frame_score_config_is_spec(sg_model_frame_score(back)), "the spec's mean comes back");
    sg_model_destroy(back);
    remove(path);
    remove(dir);
    free(dir);
    sg_model_destroy(m);
    free(x);
}

/* sg_fit with a standardised score: statistics from training images, then
 * the threshold from the held-out ones. */
static void test_fit_standardised(void)
{
    enum { N = 40 };
    sg_model *m = tiny_model(2);
    sg_frame_score_config c;
    t_check(sg_frame_score_config_parse("max,smooth=1,std", &c) == NULL, "parse max,smooth=1,std");
    t_ok(sg_model_set_frame_score(m, &c), "set");
    sg_dataset d;
    t_ok(sg_dataset_init(&d, 3, S), "dataset");
    float *x = normal_images(N, 20);
    for (int i = 0; i < N; i++)
        t_ok(sg_dataset_append(&d, x + (size_t)i * IMAGE, 0), "append");
    sg_fit_options o = sg_fit_options_default();
    o.epochs = 1, o.train.batch = 8, o.holdout = 0.25f, o.bn_batches = 2;
    t_ok(sg_fit(m, &d, &o, NULL), "fit");
    t_check(sg_model_has_pixel_stats(m) && sg_model_calibration(m)->valid &&
                sg_model_calibration(m)->samples == 10 && isfinite(sg_model_calibration(m)->threshold),
            "fit measures the statistics and calibrates on the 10 held-out images");
    sg_dataset_free(&d);
    free(x);
    sg_model_destroy(m);
}

/* A threshold at the q quantile of n held-out normal scores flags unseen
 * normal images at a rate near 1-q: the quantile's own sampling error
 * (sqrt(q(1-q)/n)) plus the test sample's (sqrt(q(1-q)/t)), bounded at 4 sigma. */
static void test_false_alarm_rate(void)
{
    enum { HELD = 200, UNSEEN = 400 };
    const float q = 0.9f;
    sg_model *m = tiny_model(3);
    float *held = normal_images(HELD, 30), *unseen = normal_images(UNSEEN, 40), scores[UNSEEN];
    t_ok(sg_calibrate(m, held, HELD, q), "calibrate");
    t_ok(sg_score_images(m, unseen, UNSEEN, 64, scores, NULL, NULL), "score unseen normal images");
    float thr = sg_model_calibration(m)->threshold;
    int flagged = 0;
    for (int i = 0; i < UNSEEN; i++)
        flagged += scores[i] > thr;
    double rate = (double)flagged / UNSEEN, sigma = sqrt(q * (1 - q) / HELD + q * (1 - q) / UNSEEN);
    t_check(fabs(rate - (1 - q)) <= 4 * sigma, "false alarms on unseen normal images: %.3f, the quantile promises "
            "%.3f +- %.3f (4 sigma)", rate, 1 - q, 4 * sigma);
    free(held), free(unseen);
    sg_model_destroy(m);
}

/* Normal images of which one is not a number: neither the per-pixel
 * statistics nor the threshold may come from them; the model keeps what it
 * had (a NaN would sort anywhere in the quantile and make any threshold). */
static void test_nan_never_calibrates(void)
{
    enum { N = 24 };
    sg_model *m = tiny_model(5);
    sg_frame_score_config z;
    t_check(sg_frame_score_config_parse("max,std", &z) == NULL, "parse max,std");
    t_ok(sg_model_set_frame_score(m, &z), "set max,std");
    float *x = normal_images(N, 70), before[N], after[N];
    t_ok(sg_model_fit_pixel_stats(m, x, N / 2), "statistics");
    t_ok(sg_calibrate(m, x + (N / 2) * IMAGE, N / 2, 0.9f), "calibrate");
    sg_calibration cal = *sg_model_calibration(m);
    t_ok(sg_score_images(m, x, N, 8, before, NULL, NULL), "score");
    float *bad = t_alloc((size_t)N * IMAGE);
    memcpy(bad, x, (size_t)N * IMAGE * sizeof *bad);
    bad[(size_t)(N - 2) * IMAGE + 100] = NAN;
    t_check(sg_model_fit_pixel_stats(m, bad, N) == SG_ERR_NUMERIC, "statistics from a NaN image: refused (%s)",
            sg_error_message());
    t_check(sg_calibrate(m, bad, N, 0.9f) == SG_ERR_NUMERIC, "a threshold from a NaN score: refused (%s)",
            sg_error_message());
    const sg_calibration *now = sg_model_calibration(m);
    t_check(now->valid && now->threshold == cal.threshold && now->samples == cal.samples,
            "the calibration is the one before");
    t_ok(sg_score_images(m, x, N, 8, after, NULL, NULL), "score again");
    t_check(!memcmp(before, after, sizeof before), "the per-pixel statistics are the ones before");
    free(bad), free(x);
    sg_model_destroy(m);
}

/* The scoring thread (sgad/score_worker.h): two batches in turn through one
 * worker give exactly sg_scorer_run's scores and heat maps; a wait with
 * nothing started is fine; a failure on the worker's thread comes back with
 * its message on the caller's. */
static void test_score_worker(void)
{
    sg_model *m = tiny_model(31);
    sg_scorer *sc;
    t_ok(sg_scorer_create(m, 4, &sc), "sg_scorer_create");
    float *a = normal_images(4, 40), *b = normal_images(3, 50);
    float want_a[4], want_b[3], *heat_want_a = t_alloc(4 * PLANE), *heat_want_b = t_alloc(3 * PLANE);
    t_ok(sg_scorer_run(sc, a, 4, want_a, heat_want_a, NULL), "run a");
    t_ok(sg_scorer_run(sc, b, 3, want_b, heat_want_b, NULL), "run b");
    sg_score_worker *w;
    t_ok(sg_score_worker_create(NULL, sc, &w), "sg_score_worker_create");
    t_check(!sg_score_worker_busy(w) && sg_score_worker_wait(w) == SG_OK, "nothing started: nothing to wait for");
    float got_a[4], got_b[3], *heat_a = t_alloc(4 * PLANE), *heat_b = t_alloc(3 * PLANE);
    t_ok(sg_score_worker_start(w, a, 4, got_a, heat_a), "start a");
    t_check(sg_score_worker_busy(w), "busy until waited for");
    t_ok(sg_score_worker_wait(w), "wait a");
    t_ok(sg_score_worker_start(w, b, 3, got_b, heat_b), "start b");
    t_ok(sg_score_worker_wait(w), "wait b");
    t_close("worker scores a", got_a, want_a, 4, 0, 0);
    t_close("worker scores b", got_b, want_b, 3, 0, 0);
    t_close("worker heat maps a", heat_a, heat_want_a, 4 * PLANE, 0, 0);
    t_close("worker heat maps b", heat_b, heat_want_b, 3 * PLANE, 0, 0);
    /* 5 images for a scorer of 4: refused on the worker's thread */
    float *five = normal_images(5, 60), got5[5];
    t_ok(sg_score_worker_start(w, five, 5, got5, NULL), "start 5");
    sg_status s = sg_score_worker_wait(w);
    t_check(s == SG_ERR_ARGUMENT && strstr(sg_error_message(), "at most 4"),
            "the worker's failure and its message reach the caller: %d %s", s, sg_error_message());
    sg_score_worker_destroy(w);
    free(five);
    free(a);
    free(b);
    free(heat_a);
    free(heat_b);
    free(heat_want_a);
    free(heat_want_b);
    sg_scorer_destroy(sc);
    sg_model_destroy(m);
}

/* A scorer made at lambda 1 runs G alone: the same scores and heat maps, bit
 * for bit, as a scorer with the discriminator run at lambda 1; no features;
 * refused once the lambda is set below 1. */
static void test_lambda_one_scorer(void)
{
    enum { N = 4 };
    sg_model *m = tiny_model(3);
    float *x = normal_images(N, 30), full[N], alone[N], heat_full[N * PLANE], heat_alone[N * PLANE], f[N * 100];
    sg_scorer *with_d, *without_d;
    t_ok(sg_model_set_score_lambda(m, 0.9f), "lambda 0.9");
    t_ok(sg_scorer_create(m, N, &with_d), "a scorer with D");
    t_ok(sg_model_set_score_lambda(m, 1.0f), "lambda 1");
    t_ok(sg_scorer_create(m, N, &without_d), "a scorer without D");
    t_ok(sg_scorer_run(with_d, x, N, full, heat_full, NULL), "run with D at lambda 1");
    t_ok(sg_scorer_run(without_d, x, N, alone, heat_alone, NULL), "run without D");
    t_check(!memcmp(full, alone, sizeof full) && !memcmp(heat_full, heat_alone, sizeof heat_full),
            "the same scores and heat maps bit for bit (%g, %g)", (double)full[0], (double)alone[0]);
    t_check(sg_scorer_features(with_d, N, f, f + 0) == SG_OK, "the scorer with D has features");
    t_check(sg_scorer_features(without_d, N, f, f) == SG_ERR_STATE, "the other has none: %s", sg_error_message());
    t_ok(sg_model_set_score_lambda(m, 0.5f), "lambda 0.5");
    t_check(sg_scorer_run(without_d, x, N, alone, NULL, NULL) == SG_ERR_STATE && strstr(sg_error_message(), "0.5"),
            "the scorer without D refuses lambda 0.5: %s", sg_error_message());
    t_ok(sg_scorer_run(with_d, x, N, full, NULL, NULL), "the one with D scores at 0.5");
    sg_scorer_destroy(with_d);
    sg_scorer_destroy(without_d);
    sg_model_destroy(m);
    free(x);
}

/* A scorer on a device whose tensors the host cannot see (a discrete GPU's
 * staged path): a batch is one submission and one wait, and every result
 * equals the mapped device's bit for bit, run after run. */
static void test_staged_scorer(void)
{
    enum { N = 3, COUNT = 2 };
    sg_device_options opt = {.staged = true, .quiet = true};
    sg_device *staged = NULL;
    t_ok(sg_device_create(&opt, &staged), "device with staged transfers");
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    sg_model *m[2];
    sg_scorer *sc[2];
    sg_device *devs[2] = {t_dev, staged};
    for (int d = 0; d < 2; d++) {
        t_ok(sg_model_create(devs[d], &c, 7, &m[d]), "sg_model_create");
        t_ok(sg_model_set_score_lambda(m[d], 0.9f), "lambda 0.9: D's features too");
        t_ok(sg_scorer_create(m[d], N, &sc[d]), "scorer");
    }
    bool same = true, one_submit = true;
    for (int run = 0; run < 2; run++) {
        float *x = normal_images(COUNT, 40 + (uint64_t)run);
        float scores[2][COUNT], heat[2][COUNT * PLANE], rec[2][COUNT * IMAGE], f[2][2][COUNT * 100];
        for (int d = 0; d < 2; d++) {
            t_ok(sg_scorer_run(sc[d], x, COUNT, scores[d], NULL, NULL), "a first run packs the weights");
            uint64_t before = sg_device_submit_count(devs[d]);
            t_ok(sg_scorer_run(sc[d], x, COUNT, scores[d], heat[d], rec[d]), "run");
            one_submit = one_submit && sg_device_submit_count(devs[d]) == before + 1;
            t_ok(sg_scorer_features(sc[d], COUNT, f[d][0], f[d][1]), "features");
        }
        same = same && !memcmp(scores[0], scores[1], sizeof scores[0]) && !memcmp(heat[0], heat[1], sizeof heat[0]) &&
               !memcmp(rec[0], rec[1], sizeof rec[0]) && !memcmp(f[0], f[1], sizeof f[0]);
        free(x);
    }
    t_check(one_submit, "a scored batch is one submission, mapped or staged");
    t_check(same, "staged: the same scores, heat maps, reconstructions and features bit for bit, two batches");
    for (int d = 0; d < 2; d++) {
        sg_scorer_destroy(sc[d]);
        sg_model_destroy(m[d]);
    }
    t_check(sg_device_validation_messages(staged) == 0 && sg_device_bytes_in_use(staged) == 0,
            "the staged device: no validation message, every tensor freed");
    sg_device_destroy(staged);
}

/* The fewest images a threshold is taken from: one expected above the quantile, at least 20. */
static void test_calibration_min_images(void)
{
    t_check(sg_calibration_min_images(0.995f) == 200, "0.995: 200 (got %zu)", sg_calibration_min_images(0.995f));
    t_check(sg_calibration_min_images(0.99f) == 100, "0.99: 100 (got %zu)", sg_calibration_min_images(0.99f));
    t_check(sg_calibration_min_images(0.9f) == 20 && sg_calibration_min_images(0.5f) == 20, "below 0.95: 20");
    t_check(sg_calibration_min_images(0.999f) == 1000, "0.999: 1000 (got %zu)", sg_calibration_min_images(0.999f));
    t_check(sg_calibration_min_images(1.0f) == 20 && sg_calibration_min_images(NAN) == 20, "out of range: 20");
}

int main(void)
{
    t_begin("model_score");
    test_calibration_min_images();
    test_staged_scorer();
    test_score_worker();
    test_lambda_one_scorer();
    test_pooling_on_device();
    test_fit_standardised();
    test_false_alarm_rate();
    test_nan_never_calibrates();
    return t_end();
}
