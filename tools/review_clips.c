/* Segments cut out of the recording as short clips for a reviewer's archive:
 *   uridecodebin ! videoconvert ! jpegenc ! avimux ! filesink
 * with an accurate seek to the segment (and a second either side), the encoder
 * seeing nothing before the seek. Motion-JPEG in AVI: gst-plugins-good
 * alone encodes it, every player plays it, and each frame stays a whole picture to step through. */
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>

#include "cli.h"
#include "review.h"

/* Nothing reaches the encoder and muxer before the seek has flushed the decoder: a muxer that had
 * written the first frames before a flushing seek leaves a broken file. */
typedef struct gate {
    GMutex lock;
    GCond moved;
    bool data_seen, seeked;
} gate;

static GstPadProbeReturn gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    gate *g = data;
    GstPadProbeReturn ret = GST_PAD_PROBE_OK;
    g_mutex_lock(&g->lock);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        if (!g->seeked) {
            g->data_seen = true; /* the demuxer runs: the seek can be made */
            g_cond_broadcast(&g->moved);
            ret = GST_PAD_PROBE_DROP;
        }
    } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_STOP) {
        g->seeked = true;
    }
    g_mutex_unlock(&g->lock);
    return ret;
}

/* Wait for one of `types` or an error; the error's text goes to *why. */
static bool wait_for(GstBus *bus, GstMessageType types, char *why, size_t size)
{
    GstMessage *msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, types | GST_MESSAGE_ERROR);
    if (!msg) {
        snprintf(why, size, "no progress in two minutes");
        return false;
    }
    bool ok = GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR;
    if (!ok) {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL);
        snprintf(why, size, "%s", err ? err->message : "unknown error");
        g_clear_error(&err);
    }
    gst_message_unref(msg);
    return ok;
}

bool review_write_clip(const char *video, int64_t start_ns, int64_t stop_ns, const char *path, char *why,
                       size_t why_size)
{
    GError *err = NULL;
    gchar *uri = gst_filename_to_uri(video, &err);
    if (!uri) {
        snprintf(why, why_size, "%s", err->message);
        g_error_free(err);
        return false;
    }
    gchar *desc = g_strdup_printf("uridecodebin name=dec caps=video/x-raw(ANY) expose-all-streams=false "
                                  "! videoconvert name=convert ! jpegenc quality=85 ! avimux "
                                  "! filesink name=out async=false");
    GstElement *pipeline = gst_parse_launch(desc, &err);
    g_free(desc);
    if (!pipeline) {
        snprintf(why, why_size, "cannot build the clip pipeline: %s (jpegenc and avimux are in "
                                "gstreamer1.0-plugins-good)", err ? err->message : "?");
        g_clear_error(&err);
        g_free(uri);
        return false;
    }
    GstElement *dec = gst_bin_get_by_name(GST_BIN(pipeline), "dec"), *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
    g_object_set(dec, "uri", uri, NULL);
    g_object_set(out, "location", path, NULL);
    gst_object_unref(dec);
    gst_object_unref(out);
    g_free(uri);
    gate g = {0};
    g_mutex_init(&g.lock);
    g_cond_init(&g.moved);
    GstElement *convert = gst_bin_get_by_name(GST_BIN(pipeline), "convert");
    GstPad *sinkpad = gst_element_get_static_pad(convert, "sink");
    gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_FLUSH, gate_probe, &g, NULL);
    gst_object_unref(sinkpad);
    gst_object_unref(convert);
    GstBus *bus = gst_element_get_bus(pipeline);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    /* the first decoded frame (dropped) says the pipeline can seek; an error or the end may come first */
    bool ok = false;
    gint64 until = g_get_monotonic_time() + 120 * G_TIME_SPAN_SECOND;
    for (;;) {
        g_mutex_lock(&g.lock);
        bool seen = g.data_seen || g_cond_wait_until(&g.moved, &g.lock, g_get_monotonic_time() + 100 * G_TIME_SPAN_MILLISECOND);
        seen = seen || g.data_seen;
        g_mutex_unlock(&g.lock);
        if (seen) {
            ok = true;
            break;
        }
        GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
        if (msg) {
            GError *e = NULL;
            if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
                gst_message_parse_error(msg, &e, NULL);
            snprintf(why, why_size, "%s", e ? e->message : "the recording ended before the clip");
            g_clear_error(&e);
            gst_message_unref(msg);
            break;
        }
        if (g_get_monotonic_time() > until) {
            snprintf(why, why_size, "no frame decoded in two minutes");
            break;
        }
    }
    if (ok && !gst_element_seek(pipeline, 1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                GST_SEEK_TYPE_SET, start_ns, GST_SEEK_TYPE_SET, stop_ns)) {
        snprintf(why, why_size, "the recording cannot be seeked");
        ok = false;
    }
    if (ok)
        ok = wait_for(bus, GST_MESSAGE_EOS, why, why_size);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    g_mutex_clear(&g.lock);
    g_cond_clear(&g.moved);
    gst_object_unref(bus);
    gst_object_unref(pipeline);
    return ok;
}
