/* The scorer thread of asynchronous scoring (async_scorer.h). */
#include "async_scorer.h"

#include <math.h>
#include <string.h>

struct _SgadAsyncScorer {
    SgadAsyncScoreFunc score;
    gpointer user;
    GThread *thread;

    GMutex lock; /* everything below */
    GCond cond;
    gboolean quit, busy, failed;
    gboolean waiting;     /* `pending` holds a job not yet taken */
    SgadAsyncJob pending; /* its input array is reused from job to job */
    gsize pending_floats;
    SgadAsyncResult latest;
    guint64 submitted, scored, skipped;
};

static gsize job_floats(const SgadAsyncJob *j)
{
    return (gsize)j->tiles * j->tiles * j->channels * j->size * j->size;
}

/* Copy a result's arrays, growing dst's as needed. */
static void copy_result(SgadAsyncResult *dst, const SgadAsyncResult *src)
{
    const gsize n = (gsize)src->tiles * src->tiles, side = (gsize)src->tiles * src->size;
    if (dst->tiles != src->tiles || dst->size != src->size || !dst->tile_scores) {
        dst->tile_scores = g_renew(gfloat, dst->tile_scores, MAX(n, 1));
        dst->heat = g_renew(gfloat, dst->heat, MAX(side * side, 1));
    }
    gfloat *tiles = dst->tile_scores, *heat = dst->heat;
    *dst = *src;
    dst->tile_scores = tiles;
    dst->heat = heat;
    memcpy(tiles, src->tile_scores, n * sizeof(gfloat));
    memcpy(heat, src->heat, side * side * sizeof(gfloat));
}

static gpointer scorer_thread(gpointer data)
{
    SgadAsyncScorer *a = data;
    SgadAsyncJob job = {0};
    gsize job_cap = 0;
    gfloat *scores = NULL, *tile_heat = NULL;
    SgadAsyncResult result = {0};

    g_mutex_lock(&a->lock);
    for (;;) {
        while (!a->quit && !a->waiting)
            g_cond_wait(&a->cond, &a->lock);
        if (a->quit)
            break;
        /* take the waiting job: copy it out so the next one can be handed in meanwhile */
        const gsize floats = job_floats(&a->pending);
        if (floats > job_cap) {
            job.input = g_renew(gfloat, job.input, floats);
            job_cap = floats;
        }
        gfloat *input = job.input;
        job = a->pending;
        job.input = input;
        memcpy(job.input, a->pending.input, floats * sizeof(gfloat));
        a->waiting = FALSE;
        a->busy = TRUE;
        g_mutex_unlock(&a->lock);

        const gint n = job.tiles * job.tiles, S = job.size;
        const gsize side = (gsize)job.tiles * S;
        scores = g_renew(gfloat, scores, n);
        tile_heat = g_renew(gfloat, tile_heat, (gsize)n * S * S);
        gdouble threshold = NAN;
        const SgadAsyncOutcome outcome = a->score(&job, scores, tile_heat, &threshold, a->user);
        const gboolean ok = outcome == SGAD_ASYNC_SCORED;
        if (ok) {
            /* the frame's score is its worst tile; the heat map is the tiles stitched */
            if (result.tiles != job.tiles || result.size != S || !result.tile_scores) {
                result.tile_scores = g_renew(gfloat, result.tile_scores, n);
                result.heat = g_renew(gfloat, result.heat, side * side);
            }
            result.tiles = job.tiles;
            result.size = S;
            result.frame = job.frame;
            result.pts = job.pts;
            result.region = job.region;
            result.score = -G_MAXDOUBLE;
            result.threshold = threshold;
            gboolean invalid = FALSE;
            for (gint t = 0; t < n; t++) {
                result.tile_scores[t] = scores[t];
                result.score = MAX(result.score, (gdouble)scores[t]);
                invalid |= !isfinite(scores[t]); /* MAX would drop a NaN */
                const gint tx = t % job.tiles, ty = t / job.tiles;
                for (gint y = 0; y < S; y++)
                    memcpy(result.heat + (gsize)(ty * S + y) * side + (gsize)tx * S,
                           tile_heat + ((gsize)t * S + y) * S, (gsize)S * sizeof(gfloat));
            }
            if (invalid)
                result.score = NAN;
        }

        g_mutex_lock(&a->lock);
        if (ok) {
            result.serial = a->latest.serial + 1;
            copy_result(&a->latest, &result);
            a->scored++;
        } else {
            a->failed = outcome == SGAD_ASYNC_FAILED;
            a->skipped++; /* the frame got no result */
        }
        a->busy = FALSE;
        g_cond_broadcast(&a->cond);
    }
    g_mutex_unlock(&a->lock);
    g_free(job.input);
    g_free(scores);
    g_free(tile_heat);
    sgad_async_result_clear(&result);
    return NULL;
}

SgadAsyncScorer *sgad_async_scorer_new(SgadAsyncScoreFunc score, gpointer user)
{
    SgadAsyncScorer *a = g_new0(SgadAsyncScorer, 1);
    a->score = score;
    a->user = user;
    g_mutex_init(&a->lock);
    g_cond_init(&a->cond);
    a->thread = g_thread_new("sgad-scorer", scorer_thread, a);
    return a;
}

void sgad_async_scorer_free(SgadAsyncScorer *a)
{
    if (!a)
        return;
    g_mutex_lock(&a->lock);
    a->quit = TRUE;
    g_cond_broadcast(&a->cond);
    g_mutex_unlock(&a->lock);
    g_thread_join(a->thread);
    g_free(a->pending.input);
    sgad_async_result_clear(&a->latest);
    g_mutex_clear(&a->lock);
    g_cond_clear(&a->cond);
    g_free(a);
}

gboolean sgad_async_scorer_submit(SgadAsyncScorer *a, const SgadAsyncJob *job)
{
    const gsize floats = job_floats(job);
    g_mutex_lock(&a->lock);
    if (a->failed) {
        g_mutex_unlock(&a->lock);
        return FALSE;
    }
    /* the scorer has not taken the previous frame yet: it is skipped for this newer one */
    if (a->waiting)
        a->skipped++;
    if (floats > a->pending_floats) {
        a->pending.input = g_renew(gfloat, a->pending.input, floats);
        a->pending_floats = floats;
    }
    gfloat *input = a->pending.input;
    a->pending = *job;
    a->pending.input = input;
    memcpy(input, job->input, floats * sizeof(gfloat));
    a->waiting = TRUE;
    a->submitted++;
    g_cond_broadcast(&a->cond);
    g_mutex_unlock(&a->lock);
    return TRUE;
}

gboolean sgad_async_scorer_take(SgadAsyncScorer *a, SgadAsyncResult *out)
{
    gboolean newer = FALSE;
    g_mutex_lock(&a->lock);
    if (a->latest.serial > out->serial) {
        copy_result(out, &a->latest);
        newer = TRUE;
    }
    g_mutex_unlock(&a->lock);
    return newer;
}

void sgad_async_scorer_drain(SgadAsyncScorer *a)
{
    g_mutex_lock(&a->lock);
    while ((a->waiting || a->busy) && !a->failed)
        g_cond_wait(&a->cond, &a->lock);
    if (a->failed && a->waiting) {
        /* nothing will score it now */
        a->waiting = FALSE;
        a->skipped++;
    }
    g_mutex_unlock(&a->lock);
}

void sgad_async_scorer_counts(SgadAsyncScorer *a, guint64 *submitted, guint64 *scored, guint64 *skipped)
{
    g_mutex_lock(&a->lock);
    if (submitted)
        *submitted = a->submitted;
    if (scored)
        *scored = a->scored;
    if (skipped)
        *skipped = a->skipped;
    g_mutex_unlock(&a->lock);
}

void sgad_async_result_clear(SgadAsyncResult *r)
{
    g_free(r->tile_scores);
    g_free(r->heat);
    memset(r, 0, sizeof *r);
}
