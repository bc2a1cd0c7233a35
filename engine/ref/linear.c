/* Reference math of the fully connected layer: x (n,in), w (out,in), y (n,out). */
#include "sgad/ref.h"

void sg_ref_linear_forward(int n, int in, int out, const float *x, const float *w,
                           const float *b, float *y)
{
    for (int s = 0; s < n; s++)
        for (int o = 0; o < out; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++)
                acc += (double)x[(size_t)s * in + i] * w[(size_t)o * in + i];
            y[(size_t)s * out + o] = (float)acc;
        }
}

/* dx = dy w, dw = dy^T x, db = column sums of dy (each added to what is there). */
void sg_ref_linear_backward(int n, int in, int out, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *db)
{
    if (dx)
        for (int s = 0; s < n; s++)
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int o = 0; o < out; o++)
                    acc += (double)dy[(size_t)s * out + o] * w[(size_t)o * in + i];
                dx[(size_t)s * in + i] = (float)(dx[(size_t)s * in + i] + acc);
            }
    if (dw)
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int s = 0; s < n; s++)
                    acc += (double)dy[(size_t)s * out + o] * x[(size_t)s * in + i];
                dw[(size_t)o * in + i] = (float)(dw[(size_t)o * in + i] + acc);
            }
    if (db)
        for (int o = 0; o < out; o++) {
            double acc = 0;
            for (int s = 0; s < n; s++)
                acc += dy[(size_t)s * out + o];
            db[o] = (float)(db[o] + acc);
        }
}
