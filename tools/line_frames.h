/* Frames of the generated inspection line as the skipganomaly element sees
 * them: inspectionsrc's drawing (inspectionscene.c), anomalyinject's defects
 * (defects.c, drawn with the same seeded choices per stream frame) and the
 * element's preprocessing (preprocess.c), without a pipeline. Frame for frame
 * the same as
 *   inspectionsrc seed=S first-frame=F ! anomalyinject seed=I fraction=P defects=K size=Z
 *     ! skipganomaly input-size=...
 * at the given frame size. */
#ifndef SGAD_LINE_FRAMES_H
#define SGAD_LINE_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct line_source {
    unsigned line_seed;  /* inspectionsrc seed */
    int width, height;   /* frame size (inspectionsrc's default 320x240) */
    double speed, variation;
    int object;          /* SgadSceneObject */
} line_source;

typedef struct line_defects {
    unsigned seed;     /* anomalyinject seed */
    double fraction;   /* probability of a defect per frame */
    double size;       /* relative to the frame's smaller side */
    unsigned kinds;    /* SgadDefectKind flags; 0 = clean frames */
} line_defects;

line_source line_source_default(void);
/* "WxH", 32..4096 each, into src's frame size; false (src unchanged) otherwise. */
bool line_source_parse_size(const char *text, line_source *src);
/* "cap" or "tablet" (inspectionsrc's object) into src; false (src unchanged) otherwise. */
bool line_source_parse_object(const char *text, line_source *src);

/* Frames first .. first+count-1 of the line, defects painted when `defects` is
 * not NULL (anomalyinject's frame counter starting at 0 at `first`), each
 * prepared to channels x size x size floats in out; truth[i] (may be NULL) is 1
 * for a frame with a defect; masks (may be NULL) gets each frame's size x size
 * pixel truth: 1 where the painting changed at least LINE_MASK_COVERAGE of the
 * frame pixels that the model's pixel averages. False with a message printed on
 * failure. */
bool line_frames(const line_source *src, uint64_t first, size_t count, const line_defects *defects, int channels,
                 int size, float *out, uint8_t *truth, uint8_t *masks);

/* A quarter: a thin scratch across a model pixel shifts its colour by about that
 * share of the scratch's contrast, which the model can see; less is noise. */
#define LINE_MASK_COVERAGE 0.25

/* "scratch+spot" and the like into SgadDefectKind flags; false if unknown. */
bool line_parse_kinds(const char *s, unsigned *kinds);

#endif
