/* sgad review: score every frame of a recording against a checkpoint, in
 * batches, and write a report for a person: the score over time, the
 * anomalous segments (CSV, JSON), the peak frame of the top segments with its
 * heat map, one HTML page (review.h). Frames are prepared exactly as the
 * skipganomaly element prepares them (its preprocessing is compiled in), so the
 * checkpoint's threshold means the same here as on the live stream. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <gst/gst.h>

#include <sgad/score_worker.h>

#include "cli.h"
#include "preprocess.h"
#include "review.h"
#include "sgad/baselines.h"

static const char USAGE[] =
    "usage: sgad review VIDEO --model PATH --out DIR [options]\n"
    "Score every frame of a recording (any format GStreamer plays) and write a report into DIR:\n"
    "index.html (open it in a browser), timeline.png, segments.csv, segments.json and the peak frame\n"
    "of the top segments with its heat map (peak-N.png).\n"
    "\n"
    "  --model PATH       checkpoint (trained with 'sgad train' or skipganomaly mode=train)\n"
    "  --out DIR          the report's folder: must not exist yet, or be empty\n"
    "  --threshold X      flag scores above X (default: the checkpoint's calibrated threshold)\n"
    "  --batch N          frames per scoring batch (default 16; 1 scores frame by frame)\n"
    "  --top N            peak frames drawn for the N highest segments (default 6, 0 for none)\n"
    "  --merge-gap S      segments closer than S seconds are one (default 0.5)\n"
    "  --clips            also cut the top segments out (a second either side) as clip-N.avi\n"
    "                     (Motion-JPEG in AVI)\n"
    "  --truth FILE       the frames that hold a defect: anomalyexport's JSON lines (\"truth\"), or a CSV\n"
    "                     of frame numbers and ranges a-b counted from 0 (every other frame normal);\n"
    "                     the report then gives frame ROC AUC, AUPRC, defects flagged, good frames stopped\n"
    "  --device D         Vulkan device index or name\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- progress: a bar with the time left on a terminal, a line per 10% in a log ---- */

typedef struct progress {
    bool tty, printed;
    double start, last_print;
    int64_t duration_ns;
    int last_decile;
} progress;

static void duration_text(char *buf, size_t size, double s)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void progress_update(progress *p, int64_t frames, int64_t position_ns)
{
    double t = now_s(), elapsed = t - p->start;
    double fps = elapsed > 0 ? frames / elapsed : 0;
    double done = p->duration_ns > 0 ? (double)position_ns / p->duration_ns : -1;
    if (done > 1)
        done = 1;
    char left[32] = "?", spent[32];
    /* the rest of the recording at the pace so far (recording seconds per wall second) */
    if (done > 0 && elapsed > 0)
        duration_text(left, sizeof left, elapsed * (1 - done) / done);
    duration_text(spent, sizeof spent, elapsed);
    if (p->tty) {
        if (t - p->last_print < 0.2)
            return;
        p->last_print = t;
        enum { WIDTH = 30 };
        char bar[WIDTH + 1];
        int filled = done > 0 ? (int)(done * WIDTH) : 0;
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[WIDTH] = 0;
        char line[256];
        if (done >= 0)
            snprintf(line, sizeof line, "[%s] %3.0f%% %lld frames, %.3g frames/s, %s elapsed, %s left", bar,
                     done * 100, (long long)frames, fps, spent, left);
        else
            snprintf(line, sizeof line, "%lld frames, %.3g frames/s, %s elapsed (length unknown)", (long long)frames,
                     fps, spent);
        struct winsize ws;
        if (ioctl(fileno(stderr), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col <= sizeof line)
            line[ws.ws_col - 1] = 0;
        fprintf(stderr, "\r\033[K%s", line);
        p->printed = true;
    } else {
        int decile = done >= 0 ? (int)(done * 10) : (int)(elapsed / 10);
        if (decile <= p->last_decile)
            return;
        p->last_decile = decile;
        if (done >= 0)
            fprintf(stderr, "%3.0f%%: %lld frames, %.3g frames/s, %s elapsed, %s left\n", done * 100,
                    (long long)frames, fps, spent, left);
        else
            fprintf(stderr, "%lld frames, %.3g frames/s, %s elapsed\n", (long long)frames, fps, spent);
    }
    fflush(stderr);
}

static void progress_finish(progress *p)
{
    if (p->tty && p->printed)
        fputc('\n', stderr);
}

/* ---- the scoring run ---------------------------------------------------------------- */

typedef struct run {
    float *scores;
    int64_t *times;
    size_t count, cap;
} run;

static bool run_append(run *r, float score, int64_t pts)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        float *s = realloc(r->scores, cap * sizeof *s);
        if (s)
            r->scores = s;
        int64_t *t = realloc(r->times, cap * sizeof *t);
        if (t)
            r->times = t;
        if (!s || !t)
            return cli_false(SG_OK, "out of memory keeping the scores");
        r->cap = cap;
    }
    r->scores[r->count] = score;
    r->times[r->count] = pts;
    r->count++;
    return true;
}

/* cairo's RGB24 pixel (a native-endian 0x00RRGGBB word) as a GStreamer format: the stills' pixels */
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define STILL_FORMAT GST_VIDEO_FORMAT_BGRx
#else
#define STILL_FORMAT GST_VIDEO_FORMAT_xRGB
#endif

/* Copy a decoded frame into a batch slot: the decoder's buffer goes back at once (holding a batch of them
 * could stall a decoder with a small buffer pool). */
static bool slot_fill(GstBuffer **slot, const GstVideoInfo *info, const GstVideoFrame *frame)
{
    if (!*slot && !(*slot = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL)))
        return cli_false(SG_OK, "out of memory holding a %dx%d frame", GST_VIDEO_INFO_WIDTH(info),
                         GST_VIDEO_INFO_HEIGHT(info));
    GstVideoFrame copy;
    if (!gst_video_frame_map(&copy, info, *slot, GST_MAP_WRITE))
        return cli_false(SG_OK, "cannot map a frame buffer");
    bool ok = gst_video_frame_copy(&copy, frame);
    gst_video_frame_unmap(&copy);
    return ok ? true : cli_false(SG_OK, "cannot copy a decoded frame");
}

/* A peak frame for the report: the slot converted to cairo's pixels, with its heat map. */
static bool still_fill(review_still *still, GstVideoConverter *convert, const GstVideoInfo *info, GstBuffer *slot,
                       const float *heat, int size)
{
    int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
    GstVideoInfo out;
    gst_video_info_set_format(&out, STILL_FORMAT, (guint)w, (guint)h);
    out.fps_n = info->fps_n;
    out.fps_d = info->fps_d;
    out.par_n = info->par_n;
    out.par_d = info->par_d;
    size_t bytes = GST_VIDEO_INFO_SIZE(&out), plane = (size_t)size * size;
    if (!still->pixels || (size_t)still->stride * still->height != bytes) {
        free(still->pixels);
        still->pixels = malloc(bytes);
    }
    if (!still->heat || still->heat_size != size) {
        free(still->heat);
        still->heat = malloc(plane * sizeof(float));
    }
    if (!still->pixels || !still->heat)
        return cli_false(SG_OK, "out of memory keeping a peak frame");
    still->width = w;
    still->height = h;
    still->stride = GST_VIDEO_INFO_PLANE_STRIDE(&out, 0);
    still->heat_size = size;
    memcpy(still->heat, heat, plane * sizeof(float));
    GstBuffer *target = gst_buffer_new_wrapped_full(0, still->pixels, bytes, 0, bytes, NULL, NULL);
    GstVideoFrame src, dst;
    bool ok = false;
    if (gst_video_frame_map(&src, info, slot, GST_MAP_READ)) {
        if (gst_video_frame_map(&dst, &out, target, GST_MAP_WRITE)) {
            gst_video_converter_frame(convert, &src, &dst);
            gst_video_frame_unmap(&dst);
            ok = true;
        }
        gst_video_frame_unmap(&src);
    }
    gst_buffer_unref(target);
    return ok ? true : cli_false(SG_OK, "cannot convert a peak frame");
}

/* The baseline a truth file is measured with beside the model: each prepared
 * frame's mean squared difference to the one before it (the first frame's is 0). */
typedef struct frame_difference {
    float *scores, *prev;
    size_t count, cap;
} frame_difference;

static bool baseline_append(frame_difference *d, const float *prepared, size_t image)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 1024;
        float *grown = realloc(d->scores, cap * sizeof *grown);
        if (!grown)
            return cli_false(SG_OK, "out of memory keeping the frame differences");
        d->scores = grown, d->cap = cap;
    }
    if (!d->prev && !(d->prev = malloc(image * sizeof *d->prev)))
        return cli_false(SG_OK, "out of memory keeping the frame differences");
    d->scores[d->count] = d->count ? sg_image_msd(prepared, d->prev, image) : 0.0f;
    d->count++;
    memcpy(d->prev, prepared, image * sizeof *prepared);
    return true;
}

/* One batch of decoded frames: filled by the main thread while the scoring
 * thread scores the other one (sgad/score_worker.h). */
typedef struct batch_buf {
    float *input, *heat, *scores;
    GstBuffer **slots; /* the frames, copied (the peak stills are drawn from them) */
    int64_t *pts, *dur;
    int n;
} batch_buf;

static bool batch_alloc(batch_buf *b, long batch, size_t image, size_t plane)
{
    b->input = malloc((size_t)batch * image * sizeof *b->input);
    b->heat = malloc((size_t)batch * plane * sizeof *b->heat);
    b->scores = malloc((size_t)batch * sizeof *b->scores);
    b->slots = calloc((size_t)batch, sizeof *b->slots);
    b->pts = malloc((size_t)batch * sizeof *b->pts);
    b->dur = malloc((size_t)batch * sizeof *b->dur);
    return b->input && b->heat && b->scores && b->slots && b->pts && b->dur;
}

static void batch_free(batch_buf *b, long batch)
{
    if (b->slots)
        for (long i = 0; i < batch; i++)
            if (b->slots[i])
                gst_buffer_unref(b->slots[i]);
    free(b->slots);
    free(b->input);
    free(b->heat);
    free(b->scores);
    free(b->pts);
    free(b->dur);
}

/* What taking a scored batch's results needs. */
typedef struct taker {
    sg_score_worker *worker;
    const char *video;
    review_segments *segments;
    run *scored;
    int top, size;
    GstVideoConverter *convert;
    const GstVideoInfo *frame_info;
    progress *prog;
} taker;

/* Wait for the batch on the scoring thread and add its frames to the run. */
static bool batch_take(taker *t, const batch_buf *b)
{
    sg_status s = sg_score_worker_wait(t->worker);
    if (s != SG_OK)
        return cli_false(s, "scoring frames %zu..%zu of %s failed", t->scored->count,
                         t->scored->count + b->n - 1, t->video);
    const size_t plane = (size_t)t->size * t->size;
    for (int k = 0; k < b->n; k++) {
        bool peak;
        if (!review_segments_add(t->segments, (int64_t)t->scored->count, b->pts[k], b->dur[k], b->scores[k], &peak) ||
            !run_append(t->scored, b->scores[k], b->pts[k]))
            return false;
        if (peak && t->top > 0 &&
            !still_fill(review_segments_peak_still(t->segments), t->convert, t->frame_info, b->slots[k],
                        b->heat + (size_t)k * plane, t->size))
            return false;
    }
    progress_update(t->prog, (int64_t)t->scored->count, b->pts[b->n - 1] + b->dur[b->n - 1]);
    return true;
}

int cmd_review(int argc, char **argv)
{
    enum { O_MODEL = 256, O_OUT, O_THRESHOLD, O_BATCH, O_TOP, O_MERGE_GAP, O_CLIPS, O_TRUTH, O_DEVICE, O_HELP };
    static const struct option options[] = {
        {"model", required_argument, 0, O_MODEL},   {"out", required_argument, 0, O_OUT},
        {"threshold", required_argument, 0, O_THRESHOLD}, {"batch", required_argument, 0, O_BATCH},
        {"top", required_argument, 0, O_TOP},       {"merge-gap", required_argument, 0, O_MERGE_GAP},
        {"clips", no_argument, 0, O_CLIPS},         {"device", required_argument, 0, O_DEVICE},
        {"truth", required_argument, 0, O_TRUTH},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0}};
    const char *model_path = NULL, *out = NULL, *device = NULL, *truth_path = NULL;
    double threshold = 0, merge_gap = 0.5;
    bool have_threshold = false, clips = false;
    long batch = 16, top = 6;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: model_path = optarg; break;
        case O_OUT: out = optarg; break;
        case O_THRESHOLD:
            if (!cli_parse_float(optarg, -1e30, 1e30, &threshold))
                return cli_usage_error("review", "--threshold needs a number, not '%s'", optarg);
            have_threshold = true;
            break;
        case O_BATCH:
            if (!cli_parse_int(optarg, 1, 1024, &batch))
                return cli_usage_error("review", "--batch must be 1..1024");
            break;
        case O_TOP:
            if (!cli_parse_int(optarg, 0, 100, &top))
                return cli_usage_error("review", "--top must be 0..100");
            break;
        case O_MERGE_GAP:
            if (!cli_parse_float(optarg, 0, 3600, &merge_gap))
                return cli_usage_error("review", "--merge-gap must be 0..3600 seconds");
            break;
        case O_CLIPS: clips = true; break;
        case O_TRUTH: truth_path = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return 0;
        default: return cli_usage_hint("review");
        }
    }
    if (!model_path)
        return cli_usage_error("review", "--model PATH is needed");
    if (!out)
        return cli_usage_error("review", "--out DIR is needed");
    if (optind >= argc)
        return cli_usage_error("review", "no video given");
    if (optind + 1 < argc)
        return cli_usage_error("review", "one video at a time ('%s' is extra)", argv[optind + 1]);
    const char *video = argv[optind];
    if (!review_report_check_destination(out))
        return EXIT_ERROR;
    review_truth truth = {0}; /* read before the scoring run, so that a bad file fails at once */
    frame_difference frame_diff = {0};
    if (truth_path && !review_truth_load(truth_path, &truth))
        return EXIT_ERROR;

    gst_init(NULL, NULL);
    int rc = EXIT_ERROR;
    sg_device *dev = NULL;
    sg_model *model = NULL;
    sg_scorer *scorer = NULL;
    review_source *source = NULL;
    SgadPlan plan;
    bool plan_valid = false;
    batch_buf bufs[2] = {{0}};
    sg_score_worker *worker = NULL;
    GstVideoConverter *convert = NULL;
    run scored = {0};
    review_segments segments;
    review_segments_init(&segments, 0, merge_gap, (int)top);

    if (!cli_open_device(device, &dev))
        goto done;
    sg_status s = sg_model_load(dev, model_path, &model);
    if (s != SG_OK) {
        cli_fail(s, "cannot load %s", model_path);
        goto done;
    }
    const sg_calibration *cal = sg_model_calibration(model);
    if (!have_threshold && !cal->valid) {
        cli_fail(SG_OK, "%s has no calibrated threshold (training did not finish, or held nothing out): "
                        "pass --threshold X", model_path);
        goto done;
    }
    segments.threshold = have_threshold ? (float)threshold : cal->threshold;
    const sg_model_config *cfg = sg_model_get_config(model);
    const int C = cfg->channels, S = cfg->size;

    review_stream_info info;
    if (!review_source_open(video, 2 * (int)batch, &source, &info))
        goto done;
    if (info.gray && C == 3) {
        cli_fail(SG_OK, "%s is grayscale (%s) but %s takes colour frames (3 channels): its scores would not "
                        "mean anything; use a model trained on grayscale frames (channels 1)",
                 video, info.decoded_format, model_path);
        goto done;
    }
    if (!info.gray && C == 1)
        fprintf(stderr, "sgad: %s takes 1 channel: the colour frames of %s are reduced to luma, as the "
                        "skipganomaly element does\n", model_path, video);
    double aspect = (double)info.width * info.par_n / ((double)info.height * info.par_d);
    if (fabs(aspect - 1.0) > 0.01)
        fprintf(stderr, "sgad: %s: %dx%d frames (display aspect %.3g:1) are squashed to %dx%d squares for the "
                        "model, as the skipganomaly element does: shapes look %s to it\n",
                video, info.width, info.height, aspect, S, S, aspect > 1 ? "narrower" : "wider");

    gchar *why = NULL;
    if (!sgad_plan_init(&plan, review_source_video_info(source), NULL, 1, C, S, &why)) {
        cli_fail(SG_OK, "cannot score the frames of %s: %s", video, why);
        g_free(why);
        goto done;
    }
    plan_valid = true;
    s = sg_scorer_create(model, (int)batch, &scorer);
    if (s != SG_OK) {
        cli_fail(s, "cannot prepare scoring batches of %ld", batch);
        goto done;
    }
    s = sg_score_worker_create(NULL, scorer, &worker);
    if (s != SG_OK) {
        cli_fail(s, "cannot start scoring");
        goto done;
    }
    const size_t image = (size_t)C * S * S, plane = (size_t)S * S;
    bool allocated = batch_alloc(&bufs[0], batch, image, plane) && batch_alloc(&bufs[1], batch, image, plane);
    const GstVideoInfo *frame_info = review_source_video_info(source);
    GstVideoInfo still_info;
    gst_video_info_set_format(&still_info, STILL_FORMAT, (guint)info.width, (guint)info.height);
    still_info.fps_n = frame_info->fps_n; /* the converter wants them equal */
    still_info.fps_d = frame_info->fps_d;
    still_info.par_n = frame_info->par_n;
    still_info.par_d = frame_info->par_d;
    convert = gst_video_converter_new((GstVideoInfo *)frame_info, &still_info, NULL);
    if (!convert) {
        cli_fail(SG_OK, "cannot convert %s frames of %s for the report's pictures", GST_VIDEO_INFO_NAME(frame_info),
                 video);
        goto done;
    }
    if (!allocated) {
        cli_fail(SG_OK, "out of memory for batches of %ld frames", batch);
        goto done;
    }

    /* frames without timestamps are placed at the frame rate (25 per second when unknown) */
    int64_t frame_ns = info.fps_n > 0 ? (int64_t)llround(1e9 * info.fps_d / info.fps_n) : 40000000;
    progress prog = {.tty = isatty(fileno(stderr)), .start = now_s(), .duration_ns = info.duration_ns,
                     .last_decile = 0};
    double start = now_s();
    int64_t next_pts = 0;
    taker take = {.worker = worker, .video = video, .segments = &segments, .scored = &scored, .top = (int)top,
                  .size = S, .convert = convert, .frame_info = frame_info, .prog = &prog};
    /* double buffering: decode and preprocess one batch while the device scores the other */
    int filling = 0;
    bool ended = false;
    while (!ended) {
        batch_buf *b = &bufs[filling];
        b->n = 0;
        while (b->n < batch) {
            GstVideoFrame frame;
            int64_t pts, dur;
            int got = review_source_next(source, &frame, &pts, &dur);
            if (got < 0)
                goto done;
            if (got == 0) {
                ended = true;
                break;
            }
            float *prepared = b->input + (size_t)b->n * image;
            sgad_preprocess(&plan, &frame, prepared);
            if (truth_path && !baseline_append(&frame_diff, prepared, image))
                goto done;
            bool ok = slot_fill(&b->slots[b->n], frame_info, &frame);
            review_frame_release(&frame);
            if (!ok)
                goto done;
            b->pts[b->n] = pts >= 0 ? pts : next_pts;
            b->dur[b->n] = dur > 0 ? dur : frame_ns;
            next_pts = b->pts[b->n] + b->dur[b->n];
            b->n++;
        }
        if (sg_score_worker_busy(worker) && !batch_take(&take, &bufs[1 - filling]))
            goto done;
        if (b->n == 0)
            break;
        s = sg_score_worker_start(worker, b->input, b->n, b->scores, b->heat);
        if (s != SG_OK) {
            cli_fail(s, "cannot score frames of %s", video);
            goto done;
        }
        filling = 1 - filling;
    }
    if (sg_score_worker_busy(worker) && !batch_take(&take, &bufs[1 - filling]))
        goto done;
    progress_finish(&prog);
    double seconds = now_s() - start;
    if (scored.count == 0) {
        cli_fail(SG_OK, "%s holds no video frame (shorter than one frame)", video);
        goto done;
    }
    review_segments_finish(&segments);

    review_report report = {
        .video = video,
        .model = model_path,
        .stream = info,
        .model_size = S,
        .model_channels = C,
        .threshold = segments.threshold,
        .threshold_from_model = !have_threshold,
        .frames = (int64_t)scored.count,
        .scores = scored.scores,
        .times_ns = scored.times,
        .end_ns = next_pts,
        .segments = &segments,
        .seconds = seconds,
        .frames_per_second = seconds > 0 ? scored.count / seconds : 0,
        .batch = (int)batch,
        .clips = clips,
    };
    review_truth_metrics truth_metrics;
    if (truth_path) {
        if (!review_truth_measure(&truth, scored.scores, frame_diff.scores, (int64_t)scored.count, segments.threshold,
                                  &truth_metrics))
            goto done;
        report.truth_path = truth_path;
        report.truth = &truth_metrics;
    }
    if (!review_report_write(out, &report))
        goto done;
    size_t flagged = 0;
    for (size_t i = 0; i < scored.count; i++)
        flagged += review_is_anomalous(scored.scores[i], segments.threshold);
    printf("%zu frames scored in %.1f s (%.3g frames/s, batch %ld); %zu above the threshold %.6g; %zu segments\n"
           "report: %s/index.html\n",
           scored.count, seconds, report.frames_per_second, batch, flagged, segments.threshold, segments.count, out);
    if (report.truth)
        review_truth_print(stdout, truth_path, report.truth);
    rc = 0;
done:
    sg_score_worker_destroy(worker); /* first: it may be reading a batch */
    batch_free(&bufs[0], batch);
    batch_free(&bufs[1], batch);
    free(scored.scores);
    free(scored.times);
    review_segments_clear(&segments);
    review_truth_clear(&truth);
    free(frame_diff.scores);
    free(frame_diff.prev);
    if (plan_valid)
        sgad_plan_clear(&plan);
    if (convert)
        gst_video_converter_free(convert);
    review_source_close(source);
    if (scorer)
        sg_scorer_destroy(scorer);
    if (model)
        sg_model_destroy(model);
    if (dev)
        cli_close_device(dev);
    return rc;
}
