/* `sgad review`: a recording decoded by GStreamer, scored in batches, and a
 * report for a person (timeline, segments, peak frames, one HTML page).
 *
 *   review_source.c   decoding: uridecodebin ! videoconvert ! appsink, frames pulled one by one
 *   review_segments.c anomalous frames -> segments (merged across short gaps), the top N kept with their peak frame
 *   review_report.c   the report, written into a temporary folder renamed into place at the end
 *   review_clips.c    the top segments cut out of the recording (--clips)
 *   review_truth.c    a truth file's defect frames, and how the scores rank them (--truth)
 *   cmd_review.c      the command: options, the scoring loop, progress */
#ifndef SGAD_REVIEW_H
#define SGAD_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gst/video/video.h>

/* ---- review_source.c ---------------------------------------------------- */

typedef struct review_source review_source;

typedef struct review_stream_info {
    int width, height;      /* decoded frame, pixels */
    int par_n, par_d;       /* pixel aspect ratio */
    int fps_n, fps_d;       /* 0/1 when variable or unknown */
    int64_t duration_ns;    /* -1 when unknown */
    bool gray;              /* the decoder gave grayscale frames */
    char decoded_format[32]; /* the decoder's own format, before conversion, e.g. "I420" */
} review_stream_info;

/* Open a video file and preroll it: on failure a message naming the file and why (no such file, not a
 * format GStreamer knows, a missing decoder (with the Debian package that holds it when known), no
 * video stream) is printed and false returned. */
bool review_source_open(const char *path, int queue_frames, review_source **out, review_stream_info *info);
/* The next frame, in one of the formats the skipganomaly element takes (the decoder's own when it is
 * one of them); 1 a frame (unmap with review_frame_release), 0 the end, -1 an error (printed). */
int review_source_next(review_source *s, GstVideoFrame *frame, int64_t *pts_ns, int64_t *duration_ns);
void review_frame_release(GstVideoFrame *frame);
/* The frame format review_source_next gives, for the preprocessing plan. */
const GstVideoInfo *review_source_video_info(review_source *s);
void review_source_close(review_source *s);

/* ---- review_segments.c -------------------------------------------------- */

/* A frame image kept for the report: 32-bit pixels as cairo's RGB24, with its heat map. */
typedef struct review_still {
    int width, height, stride;
    uint8_t *pixels;
    int heat_size; /* S: heat is S x S */
    float *heat;
} review_still;

typedef struct review_segment {
    int64_t first_frame, last_frame; /* frame indices, inclusive */
    int64_t start_ns, end_ns;        /* first frame's time, last frame's time + its duration */
    int64_t peak_frame, peak_ns;
    float peak_score;                /* NaN when a score that is not a number was the peak */
    int64_t anomalous_frames;        /* frames above the threshold inside (a merged gap holds normal ones) */
    int still;                       /* index into the kept stills, -1 when not among the top N */
} review_segment;

typedef struct review_segments {
    float threshold;
    int64_t merge_gap_ns;  /* segments closer than this are one */
    int keep;              /* peak frames kept: the top N segments by peak score */
    review_segment *list;  /* closed segments, in time order */
    size_t count, cap;
    bool open;             /* list[count] is the segment under way (when open) */
    review_still *stills;  /* keep of them */
    int *still_owner;      /* segment index holding each still, -1 free */
    review_still pending;  /* the open segment's peak frame so far */
    bool pending_valid;
} review_segments;

void review_segments_init(review_segments *g, float threshold, double merge_gap_s, int keep);
/* One scored frame, in order. *new_peak: it is the peak of the segment under way so far; the caller then
 * fills review_segments_peak_still (when keep > 0). False when out of memory (printed). */
bool review_segments_add(review_segments *g, int64_t index, int64_t pts_ns, int64_t duration_ns, float score,
                         bool *new_peak);
review_still *review_segments_peak_still(review_segments *g);
/* Close the segment under way at the end of the recording. */
bool review_segments_finish(review_segments *g);
/* Anomalous: above the threshold, or not a number (which never reads as normal). */
bool review_is_anomalous(float score, float threshold);
void review_segments_clear(review_segments *g);

/* ---- review_truth.c ----------------------------------------------------- */

/* Which frames hold a defect (--truth): anomalyexport's JSON lines ({"frame": N, ..., "truth": 0|1}: the
 * frames named are labelled, the others unknown) or a CSV of the frames with a defect (numbers and ranges
 * a-b; every other frame normal). Frames count from 0, the recording's first frame. */
typedef struct review_truth {
    int8_t *label;   /* -1 unknown, 0 normal, 1 defect; frames of them */
    int64_t frames;  /* allocated */
    int64_t listed;  /* one past the last frame the file names */
    bool json;
} review_truth;

/* False with a message naming the file and line on a malformed file or a frame number out of range. */
bool review_truth_load(const char *path, review_truth *t);
void review_truth_clear(review_truth *t);

typedef struct review_truth_metrics {
    size_t defects, normal;   /* labelled frames scored */
    size_t unlabelled;        /* scored frames the file says nothing of (JSON lines) */
    size_t beyond;            /* labelled frames past the recording's end */
    size_t flagged, stopped;  /* at the threshold: defects flagged, normal frames stopped */
    bool ranked;              /* auc, auprc computed (both kinds present) */
    double auc, auprc;        /* a score that is not a number ranks above every other */
    double baseline_auc;      /* the frame difference's ROC AUC on the same frames (when ranked) */
} review_truth_metrics;

/* baseline: the frame difference's score of every frame (the same count as scores). */
bool review_truth_measure(const review_truth *t, const float *scores, const float *baseline, int64_t frames,
                          float threshold, review_truth_metrics *m);
/* The figures as a few lines of text (the command's output). */
void review_truth_print(FILE *f, const char *path, const review_truth_metrics *m);

/* ---- review_report.c ---------------------------------------------------- */

typedef struct review_report {
    const char *video, *model;
    review_stream_info stream;
    int model_size, model_channels;
    float threshold;
    bool threshold_from_model;
    int64_t frames;
    const float *scores;      /* frames of them */
    const int64_t *times_ns;  /* frames of them */
    int64_t end_ns;           /* the recording's end: last frame's time + its duration */
    const review_segments *segments;
    double seconds, frames_per_second; /* the scoring run */
    int batch;
    bool clips;               /* cut the top segments out as clip-N.avi */
    const char *truth_path;   /* --truth, NULL without */
    const review_truth_metrics *truth;
} review_report;

/* Write the report into a fresh temporary folder beside `dir`, then rename it to `dir` (which must not
 * exist, or be an empty folder). On failure the temporary folder is removed and a message names the
 * file that could not be written. */
bool review_report_write(const char *dir, const review_report *r);
/* Fail early, before a long scoring run, when `dir` cannot become the report (exists with files, or its
 * parent folder is not writable). */
bool review_report_check_destination(const char *dir);

/* ---- review_clips.c ----------------------------------------------------- */

/* Seconds of the recording kept before and after a segment in its clip. */
#define REVIEW_CLIP_MARGIN_S 1.0
/* Cut [start_ns, stop_ns) of the video out into `path` (Motion-JPEG in AVI); false with *why set. */
bool review_write_clip(const char *video, int64_t start_ns, int64_t stop_ns, const char *path, char *why,
                       size_t why_size);

/* "m:ss.mmm" (or "h:mm:ss.mmm") of a time in nanoseconds */
void review_format_time(char *buf, size_t size, int64_t ns);

#endif
