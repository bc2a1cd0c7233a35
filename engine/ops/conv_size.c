/* Output sizes of convolutions (sgad/ops.h), shared by the ops, the model and
 * the references. */
#include "sgad/ops.h"

int sg_conv2d_out_size(int in, int kernel, int stride, int padding, int dilation)
{
    if (stride <= 0 || dilation <= 0)
        return 0;
    return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

int sg_conv_transpose2d_out_size(int in, int kernel, int stride, int padding, int dilation)
{
    return (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1;
}
