/* Batched scoring across streams (batcher.h): a process-wide list of batchers
 * keyed by (device, model file), each gathering its members' frames into one
 * run of the model. The first request of a batch leads it: it waits for the
 * others (or the timeout), takes the batch and runs it; the others wait for
 * their results. While one batch runs the next one gathers. */
#include "batcher.h"

#include <string.h>

typedef struct {
    const gfloat *images;
    gint n;
    gfloat *scores, *heatmaps;
    gboolean done;
    sg_status status;
    gchar *why;
} Request;

#define SCORER_SIZES 7 /* batches 1, 2, 4 ... 64 */

struct _SgadBatcher {
    gchar *path;
    sg_device *dev;
    guint refs; /* members; under batchers_lock */
    sg_model *model;
    gint channels, size;

    GMutex lock; /* everything below */
    GCond cond;
    GPtrArray *open; /* Request*: the batch being gathered */
    gint open_images;
    gboolean running;
    guint members; /* a copy of refs, for the leader's "everyone is in" */
    guint64 batches, images;

    /* the running leader's only */
    sg_scorer *scorers[SCORER_SIZES];
    gfloat *input, *scores, *heatmaps;
};

static GMutex batchers_lock;
static GSList *batchers;

SgadBatcher *sgad_batcher_acquire(sg_device *dev, const gchar *path, gchar **why)
{
    g_mutex_lock(&batchers_lock);
    for (GSList *l = batchers; l; l = l->next) {
        SgadBatcher *b = l->data;
        if (b->dev == dev && g_strcmp0(b->path, path) == 0) {
            b->refs++;
            g_mutex_lock(&b->lock);
            b->members = b->refs;
            g_mutex_unlock(&b->lock);
            g_mutex_unlock(&batchers_lock);
            return b;
        }
    }
    sg_model *m = NULL;
    if (sg_model_load(dev, path, &m) != SG_OK) {
        *why = g_strdup(sg_error_message());
        g_mutex_unlock(&batchers_lock);
        return NULL;
    }
    SgadBatcher *b = g_new0(SgadBatcher, 1);
    b->path = g_strdup(path);
    b->dev = dev;
    b->refs = b->members = 1;
    b->model = m;
    b->channels = sg_model_get_config(m)->channels;
    b->size = sg_model_get_config(m)->size;
    g_mutex_init(&b->lock);
    g_cond_init(&b->cond);
    b->open = g_ptr_array_new();
    const gsize image = (gsize)b->channels * b->size * b->size, map = (gsize)b->size * b->size;
    b->input = g_new(gfloat, SGAD_BATCHER_MAX_IMAGES * image);
    b->scores = g_new(gfloat, SGAD_BATCHER_MAX_IMAGES);
    b->heatmaps = g_new(gfloat, SGAD_BATCHER_MAX_IMAGES * map);
    batchers = g_slist_prepend(batchers, b);
    g_mutex_unlock(&batchers_lock);
    return b;
}

void sgad_batcher_release(SgadBatcher *b)
{
    if (!b)
        return;
    g_mutex_lock(&batchers_lock);
    gboolean last = --b->refs == 0;
    if (last)
        batchers = g_slist_remove(batchers, b);
    g_mutex_lock(&b->lock);
    b->members = b->refs;
    g_cond_broadcast(&b->cond); /* a leader waiting for this member stops waiting */
    g_mutex_unlock(&b->lock);
    g_mutex_unlock(&batchers_lock);
    if (!last)
        return;
    for (gint i = 0; i < SCORER_SIZES; i++)
        sg_scorer_destroy(b->scorers[i]);
    sg_model_destroy(b->model);
    g_ptr_array_unref(b->open);
    g_free(b->input);
    g_free(b->scores);
    g_free(b->heatmaps);
    g_free(b->path);
    g_mutex_clear(&b->lock);
    g_cond_clear(&b->cond);
    g_free(b);
}

const gchar *sgad_batcher_path(const SgadBatcher *b)
{
    return b->path;
}

/* Run the taken batch (no lock held; only one leader runs at a time). */
static void run_batch(SgadBatcher *b, GPtrArray *batch)
{
    const gsize image = (gsize)b->channels * b->size * b->size, map = (gsize)b->size * b->size;
    gint total = 0;
    for (guint i = 0; i < batch->len; i++) {
        Request *r = g_ptr_array_index(batch, i);
        memcpy(b->input + (gsize)total * image, r->images, (gsize)r->n * image * sizeof(gfloat));
        total += r->n;
    }
    gint slot = 0;
    while ((1 << slot) < total)
        slot++;
    sg_status s = SG_OK;
    if (!b->scorers[slot])
        s = sg_scorer_create(b->model, 1 << slot, &b->scorers[slot]);
    if (s == SG_OK)
        s = sg_scorer_run(b->scorers[slot], b->input, total, b->scores, b->heatmaps, NULL);
    gint at = 0;
    for (guint i = 0; i < batch->len; i++) {
        Request *r = g_ptr_array_index(batch, i);
        r->status = s;
        if (s == SG_OK) {
            memcpy(r->scores, b->scores + at, (gsize)r->n * sizeof(gfloat));
            memcpy(r->heatmaps, b->heatmaps + (gsize)at * map, (gsize)r->n * map * sizeof(gfloat));
        } else {
            r->why = g_strdup(sg_error_message());
        }
        at += r->n;
    }
}

sg_status sgad_batcher_score(SgadBatcher *b, const gfloat *images, gint n, gint64 timeout_us, gfloat *scores,
                             gfloat *heatmaps, gchar **why)
{
    if (n < 1 || n > SGAD_BATCHER_MAX_IMAGES) {
        *why = g_strdup_printf("%d images in one frame; a shared batch holds at most %d", n,
                               SGAD_BATCHER_MAX_IMAGES);
        return SG_ERR_ARGUMENT;
    }
    Request r = {.images = images, .n = n, .scores = scores, .heatmaps = heatmaps};
    g_mutex_lock(&b->lock);
    /* the batch being gathered has no room: wait until its leader takes it */
    while (b->open_images + n > SGAD_BATCHER_MAX_IMAGES)
        g_cond_wait(&b->cond, &b->lock);
    g_ptr_array_add(b->open, &r);
    b->open_images += n;
    const gboolean leader = b->open->len == 1;
    g_cond_broadcast(&b->cond);
    if (leader) {
        const gint64 deadline = g_get_monotonic_time() + timeout_us;
        while (b->open->len < b->members && b->open_images < SGAD_BATCHER_MAX_IMAGES)
            if (!g_cond_wait_until(&b->cond, &b->lock, deadline))
                break;
        GPtrArray *batch = b->open;
        b->open = g_ptr_array_new();
        b->open_images = 0;
        g_cond_broadcast(&b->cond);
        while (b->running)
            g_cond_wait(&b->cond, &b->lock);
        b->running = TRUE;
        g_mutex_unlock(&b->lock);
        run_batch(b, batch);
        g_mutex_lock(&b->lock);
        b->running = FALSE;
        b->batches++;
        for (guint i = 0; i < batch->len; i++) {
            Request *q = g_ptr_array_index(batch, i);
            b->images += (guint64)q->n;
            q->done = TRUE;
        }
        g_ptr_array_unref(batch);
        g_cond_broadcast(&b->cond);
    } else {
        while (!r.done)
            g_cond_wait(&b->cond, &b->lock);
    }
    g_mutex_unlock(&b->lock);
    if (r.status != SG_OK)
        *why = r.why;
    return r.status;
}

void sgad_batcher_counts(SgadBatcher *b, guint64 *batches, guint64 *images)
{
    g_mutex_lock(&b->lock);
    *batches = b->batches;
    *images = b->images;
    g_mutex_unlock(&b->lock);
}
