/* Pixel-level truth for heat maps, for anomalyexport: anomalyinject's painted
 * mask (frame pixels) carried onto the heat map's grid, and a bounded sample of
 * (heat map, labels) pairs ranked at the end with the engine's pixel metrics
 * (sgad/pixel_metrics.h), so the figures are computed as `sgad eval --line`
 * computes them. */
#ifndef SGAD_PIXEL_TRUTH_H
#define SGAD_PIXEL_TRUTH_H

#include <gst/gst.h>

#include "sgad/pixel_metrics.h"

G_BEGIN_DECLS

/* A heat-map pixel is a defect where the painting changed at least this share
 * of the frame pixels whose centres fall in it (the rule and the share of
 * `sgad eval --line`, tools/line_frames.h): a thin scratch across a heat-map
 * pixel moves that pixel's average by about a quarter of its contrast, which a
 * model can see; "any pixel" would call a pixel defective for one touched
 * corner, "most" would lose every scratch thinner than half a heat-map pixel. */
#define SGAD_PIXEL_TRUTH_COVERAGE_NUM 1
#define SGAD_PIXEL_TRUTH_COVERAGE_DEN 4

/* anomalib's false-positive limit for AUPRO, as `sgad eval --line` uses it */
#define SGAD_PIXEL_TRUTH_FPR_LIMIT 0.3

/* labels (map_width x map_height, row-major) from a frame-sized mask
 * (mask_width x mask_height, nonzero on a defect) over the scored region
 * roi_x, roi_y, roi_width x roi_height that the heat map covers: a label is 1
 * when the coverage rule above holds. A heat-map pixel that no frame pixel's
 * centre falls in (a region smaller than the map) takes the frame pixel under
 * its own centre. FALSE, labels untouched, when the region is empty or not
 * wholly inside the mask. */
gboolean sgad_pixel_truth_labels(const guint8 *mask, guint mask_width, guint mask_height, gint roi_x, gint roi_y,
                                 gint roi_width, gint roi_height, guint map_width, guint map_height, guint8 *labels);

/* A uniform random sample of at most max_pixels heat-map pixels, taken as
 * whole frames (reservoir sampling with a fixed seed, so a rerun keeps the
 * same frames): every frame while they fit, then each new frame replaces a
 * random kept one with the probability that keeps the sample uniform. All maps
 * have the first one's size. */
typedef struct {
    guint width, height; /* of the maps, 0 before the first */
    guint capacity;      /* frames that fit in max_pixels */
    guint kept;          /* frames held */
    guint64 offered;     /* frames offered (kept or not) */
    guint64 max_pixels;
    GArray *maps;   /* gfloat, kept * width * height */
    GArray *labels; /* guint8, the same layout */
    GRand *rand;
} SgadPixelSample;

typedef enum {
    SGAD_PIXEL_SAMPLE_OFFERED,     /* kept, or left out by the sampling */
    SGAD_PIXEL_SAMPLE_SIZE_CHANGED, /* the map's size differs from the first map's */
    SGAD_PIXEL_SAMPLE_TOO_LARGE,    /* one map is more pixels than max_pixels */
} SgadPixelSampleOutcome;

void sgad_pixel_sample_init(SgadPixelSample *s, guint64 max_pixels);
/* Empty it (a new stream), with a new bound. */
void sgad_pixel_sample_reset(SgadPixelSample *s, guint64 max_pixels);
void sgad_pixel_sample_clear(SgadPixelSample *s);
SgadPixelSampleOutcome sgad_pixel_sample_offer(SgadPixelSample *s, const gfloat *map, const guint8 *labels,
                                               guint width, guint height);
/* The engine's pixel ROC AUC and AUPRO of the kept frames; an error status
 * (sg_error_message() says why) with no frame, no defect pixel or no normal
 * pixel among them. */
sg_status sgad_pixel_sample_metrics(const SgadPixelSample *s, sg_pixel_metrics *out);

G_END_DECLS

#endif
