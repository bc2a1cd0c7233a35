/* Detection metrics: hand-computed cases (values from scikit-learn's
 * roc_auc_score / average_precision_score), then random scores full of ties
 * against brute-force definitions: AUC over every (abnormal, normal) pair, AP
 * and the best F1 over every distinct threshold, the ROC curve's area.
 * No Vulkan device is needed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "sgad/metrics.h"
#include "sgad/pixel_metrics.h"

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-9;
}

static sg_metrics compute(const float *s, const uint8_t *y, size_t n)
{
    sg_metrics m = {0};
    sg_status st = sg_metrics_compute(s, y, n, &m);
    t_check(st == SG_OK, "sg_metrics_compute on %zu scores succeeds %s", n, st == SG_OK ? "" : sg_error_message());
    return m;
}

static void test_hand_cases(void)
{
    /* sklearn: roc_auc_score([0,0,1,1],[.1,.4,.35,.8]) = 0.75, AP = 0.8333... */
    const float s1[] = {0.1f, 0.4f, 0.35f, 0.8f};
    const uint8_t y1[] = {0, 0, 1, 1};
    sg_metrics m = compute(s1, y1, 4);
    t_check(near(m.auc, 0.75), "classic example: AUC %.6f == 0.75", m.auc);
    t_check(near(m.auprc, 5.0 / 6.0), "classic example: AP %.6f == 0.833333", m.auprc);
    /* Thresholds: {.8} F1 2/3, {.8,.4} 1/2, {.8,.4,.35} 0.8, all 2/3. */
    t_check(near(m.best_f1, 0.8), "classic example: best F1 %.6f == 0.8", m.best_f1);
    t_check(m.best_threshold > 0.1f && m.best_threshold < 0.35f, "best threshold %g between 0.1 and 0.35",
            m.best_threshold);
    t_check(m.positives == 2 && m.negatives == 2, "class counts %zu/%zu", m.positives, m.negatives);

    /* A tie between an abnormal and a normal score counts half: 3.5 of 4 pairs. */
    const float s2[] = {0.5f, 0.5f, 0.2f, 0.9f};
    const uint8_t y2[] = {0, 1, 0, 1};
    m = compute(s2, y2, 4);
    t_check(near(m.auc, 0.875), "tied pair: AUC %.6f == 0.875", m.auc);
    /* AP: {.9} P=1 R=.5; {.9,.5,.5} P=2/3 R=1 -> .5 + .5*2/3. */
    t_check(near(m.auprc, 0.5 + 1.0 / 3.0), "tied pair: AP %.6f == 0.833333", m.auprc);

    const float perfect[] = {3, 1, 4, 2};
    const uint8_t yp[] = {1, 0, 1, 0};
    m = compute(perfect, yp, 4);
    t_check(near(m.auc, 1) && near(m.auprc, 1) && near(m.best_f1, 1),
            "perfect separation: AUC %.3f AP %.3f F1 %.3f all 1", m.auc, m.auprc, m.best_f1);
    t_check(near(m.best_threshold, 2.5), "perfect separation: threshold %g == 2.5 (halfway)", m.best_threshold);
    const uint8_t yr[] = {0, 1, 0, 1};
    m = compute(perfect, yr, 4);
    t_check(near(m.auc, 0), "reversed: AUC %.3f == 0", m.auc);

    const float tied[] = {1, 1, 1, 1, 1};
    const uint8_t yt[] = {1, 0, 0, 1, 0};
    m = compute(tied, yt, 5);
    t_check(near(m.auc, 0.5), "all tied: AUC %.3f == 0.5", m.auc);
    t_check(near(m.auprc, 0.4), "all tied: AP %.3f == 0.4 (the abnormal fraction)", m.auprc);
    t_check(m.best_threshold < 1.0f, "all tied: the threshold %.9g flags everything (only threshold)",
            m.best_threshold);
}

static void test_errors(void)
{
    const float s[] = {1, 2, NAN};
    const uint8_t one_class[] = {0, 0, 0}, both[] = {0, 1, 1};
    sg_metrics m;
    t_check(sg_metrics_compute(s, one_class, 2, &m) == SG_ERR_ARGUMENT, "only normal images refused: %s",
            sg_error_message());
    t_check(sg_metrics_compute(s, both, 3, &m) == SG_ERR_NUMERIC, "a NaN score refused: %s",
            sg_error_message());
    t_check(sg_metrics_compute(s, both, 0, &m) == SG_ERR_ARGUMENT, "no scores refused");
    sg_roc_point *p;
    size_t c;
    t_check(sg_roc_curve(s, one_class, 3, &p, &c) != SG_OK, "roc curve refuses one class / NaN");
}

/* Brute force: flag score >= t for every distinct score t. */
static void brute(const float *s, const uint8_t *y, size_t n, double *auc, double *ap, double *best_f1)
{
    double pairs = 0, wins = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        pos += y[i];
        for (size_t j = 0; j < n; j++)
            if (y[i] && !y[j]) {
                pairs += 1;
                wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
            }
    }
    *auc = wins / pairs;
    /* Distinct thresholds in decreasing order, for AP's recall steps. */
    float *t = malloc(n * sizeof *t);
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < nt; k++)
            seen |= t[k] == s[i];
        if (!seen)
            t[nt++] = s[i];
    }
    for (size_t a = 0; a < nt; a++)
        for (size_t b = a + 1; b < nt; b++)
            if (t[b] > t[a]) {
                float x = t[a];
                t[a] = t[b];
                t[b] = x;
            }
    *ap = 0;
    *best_f1 = 0;
    double prev_r = 0;
    for (size_t k = 0; k < nt; k++) {
        size_t tp = 0, fp = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] >= t[k]) {
                tp += y[i];
                fp += !y[i];
            }
        double p = (double)tp / (tp + fp), r = (double)tp / pos, f1 = 2.0 * tp / (2.0 * tp + fp + (pos - tp));
        *ap += (r - prev_r) * p;
        prev_r = r;
        if (f1 > *best_f1)
            *best_f1 = f1;
    }
    free(t);
}

static void test_random(void)
{
    enum { N = 300 };
    float s[N], raw[N];
    uint8_t y[N];
    int bad_auc = 0, bad_ap = 0, bad_f1 = 0, bad_thr = 0, bad_roc = 0;
    for (int trial = 0; trial < 40; trial++) {
        size_t n = 2 + (size_t)(trial * 7) % (N - 2);
        t_random(raw, n, 0, 1, 1000 + trial);
        for (size_t i = 0; i < n; i++) {
            y[i] = raw[i] < 0.3f + 0.01f * trial;
            /* Few distinct values (many ties), abnormal shifted up a little. */
            s[i] = floorf(raw[(i * 13) % n] * 8.0f) + (y[i] ? 2.0f : 0.0f) * (trial % 3);
        }
        y[0] = 1;
        y[1] = 0;
        double auc, ap, f1;
        brute(s, y, n, &auc, &ap, &f1);
        sg_metrics m;
        if (sg_metrics_compute(s, y, n, &m) != SG_OK) {
            t_check(false, "trial %d: %s", trial, sg_error_message());
            continue;
        }
        bad_auc += !(fabs(m.auc - auc) < 1e-9);
        bad_ap += !(fabs(m.auprc - ap) < 1e-9);
        bad_f1 += !(fabs(m.best_f1 - f1) < 1e-9);
        /* The reported threshold reproduces the best F1 under both > and >=. */
        double f1_gt;
        sg_metrics_at_threshold(s, y, n, m.best_threshold, NULL, NULL, &f1_gt);
        size_t tp = 0, fp = 0, pos = 0;
        for (size_t i = 0; i < n; i++) {
            pos += y[i];
            if (s[i] >= m.best_threshold) {
                tp += y[i];
                fp += !y[i];
            }
        }
        double f1_ge = 2.0 * tp / (2.0 * tp + fp + (pos - tp));
        bad_thr += !(fabs(f1_gt - m.best_f1) < 1e-9 && fabs(f1_ge - m.best_f1) < 1e-9);

        sg_roc_point *p;
        size_t c;
        if (sg_roc_curve(s, y, n, &p, &c) != SG_OK) {
            t_check(false, "trial %d roc: %s", trial, sg_error_message());
            continue;
        }
        double area = 0;
        bool monotone = p[0].fpr == 0 && p[0].tpr == 0 && p[c - 1].fpr == 1 && p[c - 1].tpr == 1;
        for (size_t k = 1; k < c; k++) {
            area += (p[k].fpr - p[k - 1].fpr) * (p[k].tpr + p[k - 1].tpr) / 2;
            monotone &= p[k].fpr >= p[k - 1].fpr && p[k].tpr >= p[k - 1].tpr &&
                        p[k].threshold < p[k - 1].threshold;
        }
        bad_roc += !(monotone && fabs(area - auc) < 1e-9);
        free(p);
    }
    t_check(bad_auc == 0, "AUC equals the pairwise count in 40 random tied cases (%d wrong)", bad_auc);
    t_check(bad_ap == 0, "AP equals the brute-force sum (%d wrong)", bad_ap);
    t_check(bad_f1 == 0, "best F1 equals the brute-force maximum (%d wrong)", bad_f1);
    t_check(bad_thr == 0, "the best threshold gives the best F1 with > and >= (%d wrong)", bad_thr);
    t_check(bad_roc == 0, "ROC curves run (0,0)..(1,1), monotone, trapezoid area = AUC (%d wrong)", bad_roc);
}

static void test_threshold_counts(void)
{
    const float s[] = {0.1f, 0.2f, 0.3f, 0.4f};
    const uint8_t y[] = {0, 1, 0, 1};
    double p, r, f1;
    sg_metrics_at_threshold(s, y, 4, 0.25f, &p, &r, &f1);
    t_check(near(p, 0.5) && near(r, 0.5) && near(f1, 0.5), "threshold 0.25: P %.3f R %.3f F1 %.3f", p, r, f1);
    sg_metrics_at_threshold(s, y, 4, 0.4f, &p, &r, &f1);
    t_check(p == 0 && r == 0 && f1 == 0, "a threshold equal to the top score flags nothing (strict >)");
}

static sg_pixel_metrics pixel(const float *maps, const uint8_t *masks, size_t count, int w, int h, double limit)
{
    sg_pixel_metrics m = {0};
    sg_status st = sg_pixel_metrics_compute(maps, masks, count, w, h, limit, &m);
    t_check(st == SG_OK, "sg_pixel_metrics_compute on %zu %dx%d maps succeeds %s", count, w, h,
            st == SG_OK ? "" : sg_error_message());
    return m;
}

/* Pixel ROC AUC and the per-region overlap: hand-computed cases. */
static void test_pixel_hand_cases(void)
{
    /* 4x4, two defects: one pixel at (0,0); three at (2,2), (3,2), (3,3) (one region: 8-connected) */
    uint8_t mask[16] = {0};
    mask[0] = 1, mask[2 * 4 + 2] = 1, mask[2 * 4 + 3] = 1, mask[3 * 4 + 3] = 1;
    float map[16];
    for (int p = 0; p < 16; p++)
        map[p] = mask[p] ? 2.0f + p : 1.0f - p * 0.01f;
    sg_pixel_metrics m = pixel(map, mask, 1, 4, 4, 0.3);
    t_check(m.regions == 2 && m.positives == 4 && m.negatives == 12, "regions %zu (2), pixels %zu/%zu (4/12)",
            m.regions, m.positives, m.negatives);
    t_check(near(m.auc, 1) && near(m.aupro, 1), "defects above every normal pixel: AUC %.3f, AUPRO %.3f (1, 1)",
            m.auc, m.aupro);
    for (int p = 0; p < 16; p++)
        map[p] = -map[p];
    m = pixel(map, mask, 1, 4, 4, 0.3);
    t_check(near(m.auc, 0) && near(m.aupro, 0), "defects below every normal pixel: AUC %.3f, AUPRO %.3f (0, 0)",
            m.auc, m.aupro);

    /* a small region found first, a large one last: PRO is the mean over regions, so 0.5
     * from the first threshold on, while the pixel AUC counts pixels (1 of 4 above) */
    for (int p = 0; p < 16; p++)
        map[p] = mask[p] ? (p == 0 ? 5.0f : -5.0f) : 0.1f * p;
    m = pixel(map, mask, 1, 4, 4, 0.3);
    t_check(near(m.auc, 0.25) && near(m.aupro, 0.5), "small region first: AUC %.4f (0.25), AUPRO %.4f (0.5)",
            m.auc, m.aupro);

    /* the last trapezoid is cut at the limit: 10 normal pixels 10..1, the defect at 7.5,
     * limit 0.35: PRO is 0 up to FPR 0.3, then 1, so the area is 0.05 of 0.35 */
    float line[11];
    uint8_t one[11] = {0};
    for (int p = 0; p < 10; p++)
        line[p] = 10.0f - p;
    line[10] = 7.5f, one[10] = 1;
    m = pixel(line, one, 1, 11, 1, 0.35);
    t_check(fabs(m.aupro - 0.05 / 0.35) < 1e-9, "cut at FPR 0.35: AUPRO %.6f (%.6f)", m.aupro, 0.05 / 0.35);

    /* regions never join across maps, and diagonal neighbours join */
    uint8_t two[8] = {1, 0, 0, 1, 1, 0, 0, 1}; /* two 2x2 maps, a diagonal pair in each */
    float flat[8] = {1, 0, 0, 1, 1, 0, 0, 1};
    m = pixel(flat, two, 2, 2, 2, 0.3);
    t_check(m.regions == 2, "one diagonal region in each of two maps: %zu regions (2)", m.regions);
}

/* Random maps full of ties with rectangular defects kept apart (so the regions are
 * known) against the definition: PRO and FPR at every distinct threshold. */
static void test_pixel_random(void)
{
    enum { W = 12, H = 9, N = 3 };
    int bad = 0;
    for (int trial = 0; trial < 30; trial++) {
        float maps[N * W * H];
        uint8_t masks[N * W * H] = {0};
        int rid[N * W * H], rsize[16] = {0}, nreg = 0;
        t_random(maps, N * W * H, 0, 4, 100 + trial);
        for (int i = 0; i < N * W * H; i++) {
            maps[i] = floorf(maps[i] * 4) / 4; /* ties */
            rid[i] = -1;
        }
        for (int i = 0; i < N; i++) /* two rectangles per map: columns 1-4 and 7-10, rows from the trial */
            for (int r = 0; r < 2; r++) {
                int x0 = 1 + 6 * r, y0 = (trial + r) % 4, w = 1 + (trial + i) % 4, h = 1 + (trial * 3 + r) % 4;
                for (int y = y0; y < y0 + h; y++)
                    for (int x = x0; x < x0 + w; x++) {
                        int p = i * W * H + y * W + x;
                        masks[p] = 1, rid[p] = nreg, rsize[nreg]++;
                        maps[p] += 1.0f; /* defects score higher on the whole */
                    }
                nreg++;
            }
        double limit = 0.05 + 0.01 * trial, area = 0, f0 = 0, p0 = 0;
        size_t neg = 0;
        for (int i = 0; i < N * W * H; i++)
            neg += !masks[i];
        /* distinct thresholds, from the top */
        float t = INFINITY;
        for (;;) {
            float next = -INFINITY;
            for (int i = 0; i < N * W * H; i++)
                if (maps[i] < t && maps[i] > next)
                    next = maps[i];
            if (next == -INFINITY)
                break;
            t = next;
            size_t fp = 0, hit[16] = {0};
            for (int i = 0; i < N * W * H; i++)
                if (maps[i] >= t) {
                    if (rid[i] < 0)
                        fp++;
                    else
                        hit[rid[i]]++;
                }
            double pro = 0, fpr = (double)fp / neg;
            for (int r = 0; r < nreg; r++)
                pro += (double)hit[r] / rsize[r] / nreg;
            if (fpr >= limit) {
                double cut = fpr > f0 ? p0 + (pro - p0) * (limit - f0) / (fpr - f0) : pro;
                area += (limit - f0) * (p0 + cut) / 2;
                break;
            }
            area += (fpr - f0) * (p0 + pro) / 2;
            f0 = fpr, p0 = pro;
        }
        sg_pixel_metrics m = {0};
        if (sg_pixel_metrics_compute(maps, masks, N, W, H, limit, &m) != SG_OK || m.regions != (size_t)nreg ||
            fabs(m.aupro - area / limit) > 1e-9)
            bad++;
    }
    t_check(bad == 0, "AUPRO equals the definition in 30 random tied cases (%d wrong)", bad);
}

static void test_pixel_errors(void)
{
    float map[4] = {1, 2, NAN, 4};
    uint8_t mask[4] = {0, 1, 0, 0}, none[4] = {0};
    sg_pixel_metrics m;
    t_check(sg_pixel_metrics_compute(map, mask, 1, 2, 2, 0.3, &m) == SG_ERR_NUMERIC, "a NaN pixel refused: %s",
            sg_error_message());
    map[2] = 3;
    t_check(sg_pixel_metrics_compute(map, none, 1, 2, 2, 0.3, &m) == SG_ERR_ARGUMENT, "no defect pixel refused: %s",
            sg_error_message());
    t_check(sg_pixel_metrics_compute(map, mask, 1, 2, 2, 0, &m) == SG_ERR_ARGUMENT, "FPR limit 0 refused");
    t_check(sg_pixel_metrics_compute(map, mask, (size_t)1 << 40, 1 << 12, 1 << 12, 0.3, &m) == SG_ERR_ARGUMENT,
            "an overflowing pixel count refused: %s", sg_error_message());
}

int main(void)
{
    test_hand_cases();
    test_errors();
    test_random();
    test_threshold_counts();
    test_pixel_hand_cases();
    test_pixel_random();
    test_pixel_errors();
    printf("metrics: %d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
