/* Decoding a recording for `sgad review`: every format GStreamer plays, through
 *   uridecodebin (video streams only) ! videoconvert ! appsink
 * with the appsink taking the formats the skipganomaly element takes, so the
 * frames reach the preprocessing in the format they would reach the element in
 * (decodebin ! videoconvert ! skipganomaly): the same scores to the last digits.
 * The appsink's queue lets the decoder's threads run ahead while the caller
 * scores a batch: decoding overlaps with the device's work. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "cli.h"
#include "preprocess.h"
#include "review.h"

struct review_source {
    char *path;
    GstElement *pipeline, *sink;
    GstBus *bus;
    GstVideoInfo info;
    bool info_valid;
    char decoded_format[32];
    bool gray;
};

/* A message for an error on the bus; missing plugins get the package that holds them. */
static void report_error(review_source *s, GstMessage *msg)
{
    GError *err = NULL;
    gchar *debug = NULL;
    gst_message_parse_error(msg, &err, &debug);
    cli_fail(SG_OK, "cannot decode %s: %s", s->path, err ? err->message : "unknown error");
    /* decodebin says which decoder in its debug text: "Missing decoder: H.264 (High Profile) (video/x-h264, ...)" */
    const char *missing = debug ? strstr(debug, "Missing ") : NULL;
    if (missing) {
        const char *end = strstr(missing, " (video/");
        if (!end)
            end = strstr(missing, " (audio/");
        int len = end ? (int)(end - missing) : (int)strcspn(missing, "\n");
        fprintf(stderr, "sgad: %s: %.*s\n", s->path, len, missing);
    }
    if (err && g_error_matches(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN))
        fprintf(stderr, "sgad: the decoders of most recordings are in the Debian packages gstreamer1.0-libav, "
                        "gstreamer1.0-plugins-good, -bad and -ugly (scripts/install-deps.sh installs them)\n");
    g_clear_error(&err);
    g_free(debug);
}

/* Missing plugins are posted as element messages before the error: name them. */
static void report_missing(review_source *s, GstMessage *msg)
{
    if (!gst_is_missing_plugin_message(msg))
        return;
    gchar *what = gst_missing_plugin_message_get_description(msg);
    fprintf(stderr, "sgad: %s needs a GStreamer plugin that is not installed: %s\n", s->path, what);
    g_free(what);
}

/* The decoder's own format, seen on the caps entering videoconvert. */
static GstPadProbeReturn caps_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    review_source *s = data;
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
        GstCaps *caps;
        gst_event_parse_caps(ev, &caps);
        GstVideoInfo vi;
        if (gst_video_info_from_caps(&vi, caps)) {
            snprintf(s->decoded_format, sizeof s->decoded_format, "%s", GST_VIDEO_INFO_NAME(&vi));
            s->gray = GST_VIDEO_INFO_IS_GRAY(&vi);
        }
    }
    return GST_PAD_PROBE_OK;
}

/* Wait for the preroll (the first frame at the sink) or the end or an error. */
static int wait_preroll(review_source *s)
{
    for (;;) {
        GstMessage *msg = gst_bus_timed_pop_filtered(
            s->bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT);
        int rc = 2;
        switch (GST_MESSAGE_TYPE(msg)) {
        case GST_MESSAGE_ASYNC_DONE: rc = 1; break;
        case GST_MESSAGE_EOS: rc = 0; break;
        case GST_MESSAGE_ERROR: report_error(s, msg); rc = -1; break;
        default: report_missing(s, msg); break;
        }
        gst_message_unref(msg);
        if (rc != 2)
            return rc;
    }
}

bool review_source_open(const char *path, int queue_frames, review_source **out, review_stream_info *info)
{
    *out = NULL;
    memset(info, 0, sizeof *info);
    struct stat st;
    if (stat(path, &st) != 0)
        return cli_false(SG_OK, "cannot read %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cli_false(SG_OK, "%s is not a file", path);
    if (st.st_size == 0)
        return cli_false(SG_OK, "%s is empty (0 bytes): no video in it", path);

    GError *err = NULL;
    gchar *uri = gst_filename_to_uri(path, &err);
    if (!uri) {
        cli_fail(SG_OK, "cannot read %s: %s", path, err->message);
        g_error_free(err);
        return false;
    }
    review_source *s = g_new0(review_source, 1);
    s->path = g_strdup(path);
    /* expose-all-streams=false: audio and subtitle streams are not decoded at all. (ANY): with plain
     * video/x-raw, GStreamer 1.22's decodebin refuses some decoders (H.264 High 4:4:4 "missing") */
    gchar *desc = g_strdup_printf("uridecodebin name=dec caps=video/x-raw(ANY) expose-all-streams=false "
                                  "! videoconvert name=convert "
                                  "! appsink name=sink sync=false max-buffers=%d",
                                  queue_frames > 1 ? queue_frames : 2);
    s->pipeline = gst_parse_launch(desc, &err);
    g_free(desc);
    if (!s->pipeline) {
        cli_fail(SG_OK, "cannot build the decoding pipeline: %s", err ? err->message : "?");
        g_clear_error(&err);
        g_free(uri);
        review_source_close(s);
        return false;
    }
    GstElement *dec = gst_bin_get_by_name(GST_BIN(s->pipeline), "dec");
    g_object_set(dec, "uri", uri, NULL);
    gst_object_unref(dec);
    g_free(uri);
    GstElement *convert = gst_bin_get_by_name(GST_BIN(s->pipeline), "convert");
    GstPad *sinkpad = gst_element_get_static_pad(convert, "sink");
    gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, caps_probe, s, NULL);
    gst_object_unref(sinkpad);
    gst_object_unref(convert);
    s->sink = gst_bin_get_by_name(GST_BIN(s->pipeline), "sink");
    GstCaps *formats = gst_caps_from_string("video/x-raw, format=(string)" SGAD_PREPROCESS_FORMATS);
    gst_app_sink_set_caps(GST_APP_SINK(s->sink), formats);
    gst_caps_unref(formats);
    s->bus = gst_element_get_bus(s->pipeline);

    gst_element_set_state(s->pipeline, GST_STATE_PAUSED);
    int pre = wait_preroll(s);
    if (pre <= 0) {
        if (pre == 0)
            cli_fail(SG_OK, "%s holds no video frame (shorter than one frame, or no video stream)", path);
        review_source_close(s);
        return false;
    }
    /* the prerolled frame's caps */
    GstSample *sample = gst_app_sink_pull_preroll(GST_APP_SINK(s->sink));
    if (!sample) { /* prerolled on the end: the stream ended before its first frame */
        cli_fail(SG_OK, "%s holds no video frame (shorter than one frame, or cut before its first one)", path);
        review_source_close(s);
        return false;
    }
    GstCaps *caps = gst_sample_get_caps(sample);
    if (!caps || !gst_video_info_from_caps(&s->info, caps)) {
        if (sample)
            gst_sample_unref(sample);
        cli_fail(SG_OK, "%s: the decoded frames have no usable format", path);
        review_source_close(s);
        return false;
    }
    gst_sample_unref(sample);
    s->info_valid = true;
    info->width = GST_VIDEO_INFO_WIDTH(&s->info);
    info->height = GST_VIDEO_INFO_HEIGHT(&s->info);
    info->par_n = GST_VIDEO_INFO_PAR_N(&s->info) > 0 ? GST_VIDEO_INFO_PAR_N(&s->info) : 1;
    info->par_d = GST_VIDEO_INFO_PAR_D(&s->info) > 0 ? GST_VIDEO_INFO_PAR_D(&s->info) : 1;
    info->fps_n = GST_VIDEO_INFO_FPS_N(&s->info);
    info->fps_d = GST_VIDEO_INFO_FPS_D(&s->info) > 0 ? GST_VIDEO_INFO_FPS_D(&s->info) : 1;
    gint64 duration = -1;
    info->duration_ns = gst_element_query_duration(s->pipeline, GST_FORMAT_TIME, &duration) ? duration : -1;
    snprintf(info->decoded_format, sizeof info->decoded_format, "%s",
             s->decoded_format[0] ? s->decoded_format : GST_VIDEO_INFO_NAME(&s->info));
    info->gray = s->gray;
    gst_element_set_state(s->pipeline, GST_STATE_PLAYING);
    *out = s;
    return true;
}

const GstVideoInfo *review_source_video_info(review_source *s)
{
    return &s->info;
}

int review_source_next(review_source *s, GstVideoFrame *frame, int64_t *pts_ns, int64_t *duration_ns)
{
    for (;;) {
        GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(s->sink), 100 * GST_MSECOND);
        if (sample) {
            GstBuffer *buf = gst_sample_get_buffer(sample);
            GstCaps *caps = gst_sample_get_caps(sample);
            GstVideoInfo vi;
            if (!caps || !gst_video_info_from_caps(&vi, caps)) {
                gst_sample_unref(sample);
                cli_fail(SG_OK, "%s: a frame without a usable format", s->path);
                return -1;
            }
            if (GST_VIDEO_INFO_WIDTH(&vi) != GST_VIDEO_INFO_WIDTH(&s->info) ||
                GST_VIDEO_INFO_HEIGHT(&vi) != GST_VIDEO_INFO_HEIGHT(&s->info) ||
                GST_VIDEO_INFO_FORMAT(&vi) != GST_VIDEO_INFO_FORMAT(&s->info)) {
                gst_sample_unref(sample);
                cli_fail(SG_OK, "%s changes frame size or format mid-stream (%dx%d %s to %dx%d %s): not supported",
                         s->path, GST_VIDEO_INFO_WIDTH(&s->info), GST_VIDEO_INFO_HEIGHT(&s->info),
                         GST_VIDEO_INFO_NAME(&s->info), GST_VIDEO_INFO_WIDTH(&vi), GST_VIDEO_INFO_HEIGHT(&vi),
                         GST_VIDEO_INFO_NAME(&vi));
                return -1;
            }
            /* the mapped frame holds its own reference to the buffer */
            bool mapped = gst_video_frame_map(frame, &vi, buf, GST_MAP_READ);
            *pts_ns = GST_BUFFER_PTS_IS_VALID(buf) ? (int64_t)GST_BUFFER_PTS(buf) : -1;
            *duration_ns = GST_BUFFER_DURATION_IS_VALID(buf) ? (int64_t)GST_BUFFER_DURATION(buf) : -1;
            gst_sample_unref(sample);
            if (!mapped) {
                cli_fail(SG_OK, "%s: cannot map a decoded frame", s->path);
                return -1;
            }
            return 1;
        }
        if (gst_app_sink_is_eos(GST_APP_SINK(s->sink)))
            return 0;
        /* no frame yet: an error stops the stream without an end, so look at the bus */
        GstMessage *msg;
        while ((msg = gst_bus_pop_filtered(s->bus, GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
            bool error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
            if (error)
                report_error(s, msg);
            else
                report_missing(s, msg);
            gst_message_unref(msg);
            if (error)
                return -1;
        }
    }
}

void review_frame_release(GstVideoFrame *frame)
{
    gst_video_frame_unmap(frame);
}

void review_source_close(review_source *s)
{
    if (!s)
        return;
    if (s->pipeline) {
        gst_element_set_state(s->pipeline, GST_STATE_NULL);
        gst_object_unref(s->pipeline);
    }
    if (s->sink)
        gst_object_unref(s->sink);
    if (s->bus)
        gst_object_unref(s->bus);
    g_free(s->path);
    g_free(s);
}
