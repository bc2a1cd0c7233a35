/* Fully connected layer: y = x w^T + b, with x (N,In) and w (Out,In).
 * Forward and the three backward products are one strided kernel, one thread
 * per output element with a plain loop over the inner dimension (the layers
 * this engine meets are small: a head on a pooled feature vector). */
#include "op_util.h"

#include "linear_gemm.spv.h"

SG_KERNEL(linear_gemm, SG_ELEMENTWISE_GROUP);

/* out[r*cols + c] (+)= (bias[c]) + sum_j (a[r*a_rs + j*a_js]) * b[c*b_cs + j*b_js];
 * a == NULL: a counts as 1; bias == NULL: none. */
typedef struct gemm {
    const sg_tensor *a, *b, *bias;
    sg_tensor *out;
    uint32_t rows, cols, inner, a_rs, a_js, b_cs, b_js;
    bool accumulate;
} gemm;

static sg_status gemm_dispatch(sg_seq *seq, const gemm *g)
{
    /* absent operands get a valid address the shader never reads */
    struct {
        uint64_t a, b, bias, out;
        uint32_t rows, cols, inner, a_rs, a_js, b_cs, b_js, has_a, has_bias, accumulate;
    } pc = {sg_tensor_address(g->a ? g->a : g->b), sg_tensor_address(g->b),
            sg_tensor_address(g->bias ? g->bias : g->b), sg_tensor_address(g->out),
            g->rows, g->cols, g->inner, g->a_rs, g->a_js, g->b_cs, g->b_js, g->a != NULL,
            g->bias != NULL, g->accumulate};
    sg_dispatch d = {.kernel = &kernel_linear_gemm, .push = &pc, .push_size = sizeof pc,
                     .reads = {g->b, g->a, g->bias}, .writes = {g->out}};
    sg_elementwise_groups((size_t)g->rows * g->cols, d.groups);
    return sg_seq_dispatch(seq, &d);
}

/* Reads N, In, Out from x (N elements first), w (Out*In) and an output or
 * gradient y (N,Out); fails with a message when they do not fit. */
static sg_status linear_dims(sg_seq *seq, const char *op, const sg_tensor *x, const sg_tensor *w,
                             const char *yname, const sg_tensor *y, uint32_t *n, uint32_t *in,
                             uint32_t *out)
{
    sg_shape xs = sg_tensor_shape(x), ys = sg_tensor_shape(y);
    size_t nin = sg_tensor_count(x) / (size_t)xs.n, nout = sg_tensor_count(y) / (size_t)ys.n;
    if (ys.n != xs.n)
        return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: x has batch %d but %s has batch %d", op, xs.n,
                           yname, ys.n);
    if (sg_tensor_count(w) != nin * nout)
        return sg_seq_fail(seq, SG_ERR_SHAPE,
                           "%s: w has %zu elements, expected Out*In = %zu*%zu (from %s and x)", op,
                           sg_tensor_count(w), nout, nin, yname);
    *n = (uint32_t)xs.n;
    *in = (uint32_t)nin;
    *out = (uint32_t)nout;
    return SG_OK;
}

sg_status sg_linear_forward(sg_seq *seq, const sg_tensor *x, const sg_tensor *w,
                            const sg_tensor *b, sg_tensor *y)
{
    const char *op = "linear_forward";
    sg_status s;
    uint32_t n, in, out;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "w", w)) ||
        (s = sg_require(seq, op, "y", y)) ||
        (s = linear_dims(seq, op, x, w, "y", y, &n, &in, &out)) ||
        (b && (s = sg_require_count(seq, op, "b", b, out))))
        return s;
    /* y[n,o] = b[o] + sum_i x[n,i] w[o,i] */
    gemm g = {.a = x, .b = w, .bias = b, .out = y, .rows = n, .cols = out, .inner = in,
              .a_rs = in, .a_js = 1, .b_cs = in, .b_js = 1};
    return gemm_dispatch(seq, &g);
}

sg_status sg_linear_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *w,
                             const sg_tensor *dy, sg_tensor *dx, sg_tensor *dw, sg_tensor *db)
{
    const char *op = "linear_backward";
    sg_status s;
    uint32_t n, in, out;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "w", w)) ||
        (s = sg_require(seq, op, "dy", dy)) ||
        (s = linear_dims(seq, op, x, w, "dy", dy, &n, &in, &out)) ||
        (dx && (s = sg_require_count(seq, op, "dx", dx, (size_t)n * in))) ||
        (dw && (s = sg_require_count(seq, op, "dw", dw, (size_t)out * in))) ||
        (db && (s = sg_require_count(seq, op, "db", db, out))))
        return s;
    if (dx) { /* dx[n,i] += sum_o dy[n,o] w[o,i] */
        gemm g = {.a = dy, .b = w, .out = dx, .rows = n, .cols = in, .inner = out,
                  .a_rs = out, .a_js = 1, .b_cs = 1, .b_js = in, .accumulate = true};
        if ((s = gemm_dispatch(seq, &g)))
            return s;
    }
    if (dw) { /* dw[o,i] += sum_n dy[n,o] x[n,i] */
        gemm g = {.a = dy, .b = x, .out = dw, .rows = out, .cols = in, .inner = n,
                  .a_rs = 1, .a_js = out, .b_cs = 1, .b_js = in, .accumulate = true};
        if ((s = gemm_dispatch(seq, &g)))
            return s;
    }
    if (db) { /* db[o] += sum_n dy[n,o] */
        gemm g = {.b = dy, .out = db, .rows = 1, .cols = out, .inner = n, .b_cs = 1,
                  .b_js = out, .accumulate = true};
        if ((s = gemm_dispatch(seq, &g)))
            return s;
    }
    return SG_OK;
}
