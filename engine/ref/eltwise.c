/* Reference math of the elementwise ops. */
#include "sgad/ref.h"

void sg_ref_add_forward(size_t n, const float *a, const float *b, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}

/* Index into b of element i of a: b is a's shape, or (N,C,1,1) repeated over H,W. */
static size_t b_index(sg_shape as, sg_shape bs, size_t i)
{
    return sg_shape_equal(as, bs) ? i : i / ((size_t)as.h * as.w);
}

void sg_ref_mul_forward(sg_shape as, const float *a, sg_shape bs, const float *b, float *y)
{
    size_t n = sg_shape_count(as);
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] * b[b_index(as, bs, i)];
}

/* da = dy * b; db = dy * a, summed over the H,W positions that share one b. */
void sg_ref_mul_backward(sg_shape as, const float *a, sg_shape bs, const float *b,
                         const float *dy, float *da, float *db)
{
    size_t n = sg_shape_count(as);
    if (da)
        for (size_t i = 0; i < n; i++)
            da[i] += dy[i] * b[b_index(as, bs, i)];
    if (!db)
        return;
    if (sg_shape_equal(as, bs)) {
        for (size_t i = 0; i < n; i++)
            db[i] += dy[i] * a[i];
        return;
    }
    size_t hw = (size_t)as.h * as.w, rows = (size_t)as.n * as.c;
    for (size_t r = 0; r < rows; r++) {
        double s = 0;
        for (size_t j = 0; j < hw; j++)
            s += (double)dy[r * hw + j] * a[r * hw + j];
        db[r] = (float)(db[r] + s);
    }
}
