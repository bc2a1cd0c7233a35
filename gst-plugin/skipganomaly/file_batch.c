/* Batched, overlapped scoring of files (file_batch.h). The streaming thread:
 *   frames 0..N-1 -> slot A; preprocess A; start A on the worker
 *   frames N..2N-1 -> slot B; preprocess B (the device scores A meanwhile);
 *     wait for A, give A's frames their results (ready queue); start B
 *   ... and at EOS (or caps, segment): start the partial slot, wait, results.
 * Only one batch runs at a time and results are taken in the order batches
 * were started, so frames leave in order with exactly the scores batch 1
 * gives them. */
#include "file_batch.h"

#include <string.h>

#include "gstskipganomaly.h"

GST_DEBUG_CATEGORY_EXTERN(skip_ganomaly_debug);
#define GST_CAT_DEFAULT skip_ganomaly_debug

static SgadBatchSlot *filling(SgadFileBatch *fb)
{
    return &fb->slot[fb->filling];
}

static SgadBatchSlot *running(SgadFileBatch *fb)
{
    return &fb->slot[1 - fb->filling];
}

void sgad_file_batch_init(SgadFileBatch *fb)
{
    memset(fb, 0, sizeof *fb);
    g_queue_init(&fb->slot[0].frames);
    g_queue_init(&fb->slot[1].frames);
    g_queue_init(&fb->ready);
}

void sgad_file_batch_drop(GstSkipGanomaly *self)
{
    SgadFileBatch *fb = &self->file_batch;
    if (fb->in_flight) {
        sg_score_worker_wait(fb->worker); /* it reads the slot's arrays until done */
        fb->in_flight = FALSE;
    }
    for (gint i = 0; i < 2; i++)
        g_queue_clear_full(&fb->slot[i].frames, (GDestroyNotify)gst_buffer_unref);
    g_queue_clear_full(&fb->ready, (GDestroyNotify)gst_buffer_unref);
}

void sgad_file_batch_clear(GstSkipGanomaly *self)
{
    SgadFileBatch *fb = &self->file_batch;
    sgad_file_batch_drop(self);
    g_clear_pointer(&fb->worker, sg_score_worker_destroy);
    for (gint i = 0; i < 2; i++) {
        SgadBatchSlot *s = &fb->slot[i];
        g_clear_pointer(&s->input, g_free);
        g_clear_pointer(&s->heat, g_free);
        g_clear_pointer(&s->scores, g_free);
        s->input_floats = s->heat_floats = s->score_count = 0;
    }
    fb->filling = 0;
}

guint sgad_file_batch_size(GstSkipGanomaly *self)
{
    GST_OBJECT_LOCK(self);
    const guint batch = self->score_batch;
    const gboolean every_frame = self->interval == 1;
    const gboolean shared = self->batch_streams;
    GST_OBJECT_UNLOCK(self);
    /* a calibration takes frames one at a time */
    if (batch <= 1 || self->training || !every_frame || shared || sgad_calibration_busy(self))
        return 1;
    return skipganomaly_use_async(self) ? 1 : batch;
}

static void grow(gfloat **array, gsize *have, gsize need)
{
    if (*have < need) {
        *array = g_renew(gfloat, *array, need);
        *have = need;
    }
}

/* On the scoring thread: the running slot through the model, under the engine
 * lock (a hot reload waits for it). A model swapped in since the slot was
 * preprocessed for another input size leaves it stale, to be done again. */
static sg_status score_slot(void *user, const float *images, gint count, float *scores, float *heat)
{
    GstSkipGanomaly *self = user;
    SgadBatchSlot *slot = running(&self->file_batch);
    GST_OBJECT_LOCK(self);
    const gdouble threshold_prop = self->threshold;
    GST_OBJECT_UNLOCK(self);
    const gint64 started = g_get_monotonic_time();
    g_mutex_lock(&self->engine_lock);
    sg_status s = SG_OK;
    const sg_model_config *cfg = self->model ? sg_model_get_config(self->model) : NULL;
    slot->stale = !cfg || cfg->channels != slot->channels || cfg->size != slot->size;
    if (!slot->stale) {
        gchar *why = NULL;
        if (!skipganomaly_ensure_scorer_batch(self, count))
            s = SG_ERR_STATE; /* the element posted the error */
        else if ((s = skipganomaly_run_model(self, images, count, scores, heat, &why)) != SG_OK)
            GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Scoring failed: %s", why), (NULL));
        g_free(why);
        slot->threshold = skipganomaly_effective_threshold(threshold_prop, self->model);
    }
    g_mutex_unlock(&self->engine_lock);
    slot->took = (GstClockTime)(g_get_monotonic_time() - started) * GST_USECOND;
    return s;
}

/* The slot's frames as model input at the model's present input size, into its
 * own arrays (plan made for them). Engine lock not held: the worker may be
 * scoring the other slot meanwhile. */
static gboolean preprocess_slot(GstSkipGanomaly *self, SgadBatchSlot *slot)
{
    g_mutex_lock(&self->engine_lock);
    const sg_model_config *cfg = self->model ? sg_model_get_config(self->model) : NULL;
    slot->channels = cfg ? cfg->channels : 0;
    slot->size = cfg ? cfg->size : 0;
    g_mutex_unlock(&self->engine_lock);
    if (!cfg) {
        GST_ELEMENT_ERROR(self, CORE, FAILED, ("No model loaded."), (NULL));
        return FALSE;
    }
    GstVideoInfo *info = &GST_VIDEO_FILTER(self)->in_info;
    if (!skipganomaly_ensure_plan(self, info, &slot->roi, slot->tiles, slot->channels, slot->size))
        return FALSE;
    const guint count = g_queue_get_length(&slot->frames);
    const gsize floats = sgad_plan_floats(&self->plan), total = (gsize)count * slot->tiles * slot->tiles;
    grow(&slot->input, &slot->input_floats, floats * count);
    grow(&slot->heat, &slot->heat_floats, total * slot->size * slot->size);
    grow(&slot->scores, &slot->score_count, total);
    guint i = 0;
    for (GList *l = slot->frames.head; l; l = l->next, i++) {
        GstVideoFrame frame;
        if (!gst_video_frame_map(&frame, info, l->data, GST_MAP_READ)) {
            GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot read a held-back frame."),
                              ("frame %" G_GUINT64_FORMAT, slot->first + i));
            return FALSE;
        }
        skipganomaly_preprocess_into(self, &frame, slot->input + floats * i);
        gst_video_frame_unmap(&frame);
    }
    return TRUE;
}

/* Wait for the batch on the worker and move its frames, each with its result,
 * meta and messages, to the ready queue. A stale batch is preprocessed again
 * and scored here, at the new model's input size. */
static GstFlowReturn take_running(GstSkipGanomaly *self)
{
    SgadFileBatch *fb = &self->file_batch;
    if (!fb->in_flight)
        return GST_FLOW_OK;
    SgadBatchSlot *slot = running(fb);
    sg_status s = sg_score_worker_wait(fb->worker);
    fb->in_flight = FALSE;
    if (s != SG_OK)
        return GST_FLOW_ERROR; /* posted by score_slot */
    const guint count = g_queue_get_length(&slot->frames);
    const gint n = slot->tiles * slot->tiles;
    while (slot->stale) { /* (again if the model is swapped once more meanwhile) */
        GST_DEBUG_OBJECT(self, "the model changed its input size: scoring frames %" G_GUINT64_FORMAT " on again",
                         slot->first);
        if (!preprocess_slot(self, slot) || score_slot(self, slot->input, (gint)count * n, slot->scores, slot->heat))
            return GST_FLOW_ERROR;
    }
    /* results are taken on the plan of the slot's geometry (its region, the mask on its grid) */
    GstVideoInfo *info = &GST_VIDEO_FILTER(self)->in_info;
    if (!skipganomaly_ensure_plan(self, info, &slot->roi, slot->tiles, slot->channels, slot->size))
        return GST_FLOW_ERROR;
    skipganomaly_note_sync_score(self, slot->took, count);
    GST_OBJECT_LOCK(self);
    const gboolean post = self->post_messages;
    GST_OBJECT_UNLOCK(self);
    const gint S = slot->size;
    for (guint i = 0; i < count; i++) {
        GstBuffer *buffer = g_queue_pop_head(&slot->frames);
        const guint64 frame_no = slot->first + i;
        const gboolean was_anomalous = self->anomalous;
        skipganomaly_take_result(self, slot->scores + (gsize)i * n, slot->heat + (gsize)i * n * S * S, slot->tiles,
                                 S, slot->threshold, frame_no);
        /* a score that is not a number never reads as normal */
        self->anomalous = self->last_invalid || self->last_score > self->last_threshold;
        self->result_frame = frame_no;
        self->result_pts = GST_BUFFER_PTS(buffer);
        skipganomaly_attach_result(self, buffer, frame_no, TRUE, was_anomalous, post);
        g_queue_push_tail(&fb->ready, buffer);
    }
    return GST_FLOW_OK;
}

/* Hand the filling slot to the worker (after taking back the batch it has),
 * and fill the other one next. */
static GstFlowReturn start_filling(GstSkipGanomaly *self)
{
    SgadFileBatch *fb = &self->file_batch;
    SgadBatchSlot *slot = filling(fb);
    const guint count = g_queue_get_length(&slot->frames);
    if (count == 0)
        return GST_FLOW_OK;
    if (!preprocess_slot(self, slot))
        return GST_FLOW_ERROR;
    GstFlowReturn ret = take_running(self); /* the device scored it while we preprocessed */
    if (ret != GST_FLOW_OK)
        return ret;
    if (!fb->worker && sg_score_worker_create(score_slot, self, &fb->worker) != SG_OK) {
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot start scoring: %s", sg_error_message()), (NULL));
        return GST_FLOW_ERROR;
    }
    const gint total = (gint)count * slot->tiles * slot->tiles;
    fb->filling = 1 - fb->filling; /* before the start: score_slot finds its slot as the running one */
    fb->in_flight = TRUE;
    if (sg_score_worker_start(fb->worker, slot->input, total, slot->scores, slot->heat) != SG_OK) {
        fb->in_flight = FALSE;
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot start scoring: %s", sg_error_message()), (NULL));
        return GST_FLOW_ERROR;
    }
    return GST_FLOW_OK;
}

/* Score everything held, in order, into the ready queue. */
static GstFlowReturn finish_all(GstSkipGanomaly *self)
{
    GstFlowReturn ret = start_filling(self);
    return ret == GST_FLOW_OK ? take_running(self) : ret;
}

void sgad_file_batch_before_event(GstSkipGanomaly *self, GstEvent *event)
{
    SgadFileBatch *fb = &self->file_batch;
    if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
        sgad_file_batch_drop(self);
        return;
    }
    if (!GST_EVENT_IS_SERIALIZED(event) ||
        (!fb->in_flight && g_queue_is_empty(&filling(fb)->frames) && g_queue_is_empty(&fb->ready)))
        return;
    GstFlowReturn ret = finish_all(self);
    GstBuffer *buffer;
    while (ret == GST_FLOW_OK && (buffer = g_queue_pop_head(&fb->ready)))
        ret = gst_pad_push(GST_BASE_TRANSFORM_SRC_PAD(self), buffer);
    if (ret != GST_FLOW_OK)
        GST_DEBUG_OBJECT(self, "held-back frames not all pushed: %s", gst_flow_get_name(ret));
    sgad_file_batch_drop(self);
}

GstFlowReturn sgad_file_batch_generate_output(GstSkipGanomaly *self, GstBaseTransform *trans,
                                              GstBaseTransformClass *parent, GstBuffer **outbuf)
{
    SgadFileBatch *fb = &self->file_batch;
    const guint batch = trans->queued_buf ? sgad_file_batch_size(self) : 1;
    SgadBatchSlot *slot = filling(fb);
    if (trans->queued_buf && (batch > 1 || fb->in_flight || !g_queue_is_empty(&slot->frames))) {
        GST_OBJECT_LOCK(self);
        const SgadRect roi = self->roi;
        const gint tiles = (gint)self->tiles;
        GST_OBJECT_UNLOCK(self);
        /* a batch is one geometry: a new ROI or grid ends it; batching off scores all held */
        GstFlowReturn ret = GST_FLOW_OK;
        if (batch <= 1)
            ret = finish_all(self);
        else if (!g_queue_is_empty(&slot->frames) &&
                 (tiles != slot->tiles || memcmp(&roi, &slot->roi, sizeof roi) != 0))
            ret = start_filling(self);
        if (ret != GST_FLOW_OK)
            return ret;
        if (batch > 1) {
            slot = filling(fb);
            if (g_queue_is_empty(&slot->frames)) {
                slot->first = self->frame;
                slot->roi = roi;
                slot->tiles = tiles;
            }
            self->frame++;
            g_queue_push_tail(&slot->frames, gst_buffer_make_writable(g_steal_pointer(&trans->queued_buf)));
            if (g_queue_get_length(&slot->frames) >= batch && (ret = start_filling(self)) != GST_FLOW_OK)
                return ret;
        }
    }
    if (!g_queue_is_empty(&fb->ready)) {
        *outbuf = g_queue_pop_head(&fb->ready);
        return GST_FLOW_OK;
    }
    return parent->generate_output(trans, outbuf);
}

GstClockTime sgad_file_batch_latency(GstSkipGanomaly *self)
{
    const guint batch = sgad_file_batch_size(self);
    const GstVideoInfo *info = &GST_VIDEO_FILTER(self)->in_info;
    if (batch <= 1 || GST_VIDEO_INFO_FPS_N(info) <= 0)
        return 0;
    return gst_util_uint64_scale_int((guint64)(2 * batch - 1) * GST_SECOND, GST_VIDEO_INFO_FPS_D(info),
                                     GST_VIDEO_INFO_FPS_N(info));
}
