/* Reference math of the basic ops. */
#include "sgad/ref.h"

void sg_ref_axpy(size_t n, float alpha, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] += alpha * x[i];
}
