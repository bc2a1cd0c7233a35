/* Scoring several streams in one dispatch: the skipganomaly instances of a
 * process that score with the same model file on the same device (property
 * batch-streams) share a batcher. Each hands it a frame's images and waits;
 * the first frame of a batch waits up to a timeout for the other members'
 * frames (as nvstreammux's batched-push-timeout), and the batch runs as soon
 * as every member has handed one in, the batch is full, or the time is up.
 * The model runs once for all of them, at the smallest power-of-two batch
 * that holds them (a recorded scorer always runs its whole batch). */
#ifndef SGAD_BATCHER_H
#define SGAD_BATCHER_H

#include <glib.h>
#include <sgad/model.h>

#define SGAD_BATCHER_MAX_IMAGES 64

typedef struct _SgadBatcher SgadBatcher;

/* The batcher of (dev, path), loading the model on first use; NULL with *why
 * set (g_free it) when the file cannot be used. Every acquire is a member. */
SgadBatcher *sgad_batcher_acquire(sg_device *dev, const gchar *path, gchar **why);
void sgad_batcher_release(SgadBatcher *b);
const gchar *sgad_batcher_path(const SgadBatcher *b);

/* Score n images (channels x size x size each, the model's geometry; n at most
 * SGAD_BATCHER_MAX_IMAGES) together with whatever the other members hand in
 * within timeout_us of the batch's first frame; writes n scores and n maps
 * (size x size each). Blocks until the batch ran. On failure *why says why
 * (g_free it): the batch may have run on another member's thread. */
sg_status sgad_batcher_score(SgadBatcher *b, const gfloat *images, gint n, gint64 timeout_us, gfloat *scores,
                             gfloat *heatmaps, gchar **why);

/* How many batches ran and how many images they held, since the batcher was made. */
void sgad_batcher_counts(SgadBatcher *b, guint64 *batches, guint64 *images);

#endif
