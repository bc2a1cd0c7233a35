/* A host copy of everything a training changes in a model (weights, BN running
 * statistics, Adam's moments, the training state), so that early stopping can
 * put back the best model it saw instead of keeping the last. */
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "model_internal.h"

enum { PART_COUNT = 8 }; /* values, adam_m, adam_v, buffers of G, then of D */

struct sg_model_snapshot {
    float *data[PART_COUNT];
    size_t count[PART_COUNT];
    sg_training_state state;
};

/* The tensors a snapshot keeps, in a fixed order (NULL where a set has none). */
static void parts(sg_model *m, sg_tensor *out[PART_COUNT])
{
    sg_param_set *sets[2] = {&m->gen, &m->disc};
    for (int i = 0; i < 2; i++) {
        out[i * 4 + 0] = sets[i]->values;
        out[i * 4 + 1] = sets[i]->adam_m;
        out[i * 4 + 2] = sets[i]->adam_v;
        out[i * 4 + 3] = sets[i]->buffers;
    }
}

void sg_model_snapshot_destroy(sg_model_snapshot *snap)
{
    if (!snap)
        return;
    for (int i = 0; i < PART_COUNT; i++)
        free(snap->data[i]);
    free(snap);
}

sg_status sg_model_snapshot_take(sg_model *m, sg_model_snapshot **io)
{
    sg_model_snapshot *snap = *io ? *io : calloc(1, sizeof *snap);
    if (!snap)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_tensor *t[PART_COUNT];
    parts(m, t);
    sg_status s = SG_OK;
    for (int i = 0; i < PART_COUNT && s == SG_OK; i++) {
        size_t n = t[i] ? sg_tensor_count(t[i]) : 0;
        if (n != snap->count[i]) {
            free(snap->data[i]);
            snap->data[i] = n ? malloc(n * sizeof(float)) : NULL;
            snap->count[i] = n;
            if (n && !snap->data[i]) {
                snap->count[i] = 0;
                s = sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory keeping the best model");
            }
        }
        if (s == SG_OK && n)
            s = sg_tensor_download(t[i], snap->data[i]);
    }
    snap->state = m->state;
    if (s != SG_OK && !*io)
        sg_model_snapshot_destroy(snap);
    else
        *io = snap;
    return s;
}

sg_status sg_model_snapshot_restore(sg_model *m, const sg_model_snapshot *snap)
{
    sg_tensor *t[PART_COUNT];
    parts(m, t);
    for (int i = 0; i < PART_COUNT; i++)
        if ((t[i] ? sg_tensor_count(t[i]) : 0) != snap->count[i])
            return sg_fail(SG_ERR_SHAPE, "the snapshot was taken of another model");
    sg_status s = SG_OK;
    for (int i = 0; i < PART_COUNT && s == SG_OK; i++)
        if (snap->count[i])
            s = sg_tensor_upload(t[i], snap->data[i]);
    if (s == SG_OK)
        m->state = snap->state;
    return s;
}
