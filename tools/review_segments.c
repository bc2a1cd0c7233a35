/* Anomalous segments of a recording: runs of frames above the threshold, one
 * segment across gaps of normal frames shorter than merge_gap (a defect that a
 * frame or two score just below the threshold is still one event for the
 * reviewer). Each segment's peak frame is kept while it is under way; when it
 * closes, its still stays only if the segment is among the top `keep` by peak
 * score, so memory is bounded by keep + 1 frames however long the recording. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "review.h"

bool review_is_anomalous(float score, float threshold)
{
    return !(score <= threshold); /* NaN too */
}

/* Peak order: a score that is not a number outranks every number. */
static double rank(float score)
{
    return isnan(score) ? INFINITY : score;
}

void review_segments_init(review_segments *g, float threshold, double merge_gap_s, int keep)
{
    memset(g, 0, sizeof *g);
    g->threshold = threshold;
    g->merge_gap_ns = (int64_t)llround(merge_gap_s * 1e9);
    g->keep = keep;
    g->stills = calloc(keep > 0 ? (size_t)keep : 1, sizeof *g->stills);
    g->still_owner = malloc((keep > 0 ? (size_t)keep : 1) * sizeof *g->still_owner);
    for (int i = 0; i < keep; i++)
        g->still_owner[i] = -1;
}

static void still_free(review_still *s)
{
    free(s->pixels);
    free(s->heat);
    memset(s, 0, sizeof *s);
}

/* The closed segment list[index] takes a still slot if its peak ranks among the top `keep`. */
static void place_still(review_segments *g, size_t index)
{
    review_segment *seg = &g->list[index];
    seg->still = -1;
    if (g->keep <= 0 || !g->pending_valid)
        return;
    int slot = -1;
    for (int i = 0; i < g->keep && slot < 0; i++)
        if (g->still_owner[i] < 0)
            slot = i;
    if (slot < 0) { /* all taken: replace the lowest peak if this one is higher */
        int low = 0;
        for (int i = 1; i < g->keep; i++)
            if (rank(g->list[g->still_owner[i]].peak_score) < rank(g->list[g->still_owner[low]].peak_score))
                low = i;
        if (!(rank(seg->peak_score) > rank(g->list[g->still_owner[low]].peak_score)))
            return;
        slot = low;
        g->list[g->still_owner[slot]].still = -1;
    }
    /* swap rather than copy: the pending buffers get reused for the next segment */
    review_still t = g->stills[slot];
    g->stills[slot] = g->pending;
    g->pending = t;
    g->still_owner[slot] = (int)index;
    seg->still = slot;
    g->pending_valid = false;
}

static void close_open(review_segments *g)
{
    if (!g->open)
        return;
    place_still(g, g->count);
    g->pending_valid = false;
    g->count++;
    g->open = false;
}

review_still *review_segments_peak_still(review_segments *g)
{
    g->pending_valid = true;
    return &g->pending;
}

bool review_segments_add(review_segments *g, int64_t index, int64_t pts_ns, int64_t duration_ns, float score,
                         bool *new_peak)
{
    *new_peak = false;
    if (!review_is_anomalous(score, g->threshold)) {
        if (g->open && pts_ns - g->list[g->count].end_ns > g->merge_gap_ns)
            close_open(g);
        return true;
    }
    if (!g->open) {
        if (g->count == g->cap) {
            size_t cap = g->cap ? g->cap * 2 : 64;
            review_segment *list = realloc(g->list, (cap + 1) * sizeof *list); /* +1: the open one */
            if (!list)
                return cli_false(SG_OK, "out of memory listing segments");
            g->list = list;
            g->cap = cap;
        }
        review_segment *seg = &g->list[g->count];
        memset(seg, 0, sizeof *seg);
        seg->first_frame = index;
        seg->start_ns = pts_ns;
        seg->peak_frame = -1;
        seg->still = -1;
        g->open = true;
    }
    review_segment *seg = &g->list[g->count];
    seg->last_frame = index;
    seg->end_ns = pts_ns + duration_ns;
    seg->anomalous_frames++;
    if (seg->peak_frame < 0 || rank(score) > rank(seg->peak_score)) {
        seg->peak_frame = index;
        seg->peak_ns = pts_ns;
        seg->peak_score = score;
        *new_peak = true;
    }
    return true;
}

bool review_segments_finish(review_segments *g)
{
    close_open(g);
    return true;
}

void review_segments_clear(review_segments *g)
{
    for (int i = 0; i < g->keep; i++)
        still_free(&g->stills[i]);
    still_free(&g->pending);
    free(g->stills);
    free(g->still_owner);
    free(g->list);
    memset(g, 0, sizeof *g);
}
