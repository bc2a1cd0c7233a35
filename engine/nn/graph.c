#include "graph.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"

typedef enum op_kind {
    OP_CONV, OP_CONV_T, OP_BN, OP_BN_ACT, OP_ACT, OP_ADD, OP_MUL, OP_CONCAT, OP_MAXPOOL, OP_UPSAMPLE,
    OP_AVGPOOL, OP_LINEAR,
} op_kind;

/* What backward needs to know about one recorded op. */
typedef struct tape_entry {
    op_kind kind;
    sg_node *in[2], *out;
    sg_param *w, *b, *mean, *var;
    sg_conv2d conv;
    sg_activation act;
    float slope; /* OP_ACT, OP_BN_ACT */
    sg_tensor *save_mean, *save_invstd; /* batch norm */
    bool shared[2]; /* OP_ADD: input k's gradient is the output's (see share_add_grads) */
} tape_entry;

struct sg_graph {
    sg_device *dev;
    sg_seq *seq;
    bool training;
    bool fold; /* eval only: sg_graph_conv_bn as one fused pass */
    sg_seq *pack; /* with fold: where the convolutions' weights are packed, or NULL */
    sg_status status;
    sg_node **nodes;
    size_t node_count, node_cap;
    bool *owned; /* parallel to nodes: value owned by the graph */
    /* Node gradients, llm.c style: a few large tensors (arenas) hold them
     * all, so a handful of fills zero them. The arenas are made when the
     * gradients are first needed (sg_graph_zero_grads, sg_graph_backward),
     * once the forward is recorded; until then pending[i] says node i will
     * have one. A node recorded after that gets a tensor of its own. */
    bool *pending;
    bool arenas_made;
    size_t arena_nodes; /* nodes recorded before the arenas were made */
    sg_tensor **arenas;
    size_t arena_count, arena_cap;
    tape_entry *tape;
    size_t tape_count, tape_cap;
    sg_tensor **extra; /* saved statistics */
    size_t extra_count, extra_cap;
    size_t bytes;
    sg_plan *plan;         /* eval only: memory by lifetime (plan.h), or NULL */
    int op;                /* ops recorded so far: the plan's clock */
    sg_tensor *plan_arena; /* a finished plan's arena, made at the first node */
};

sg_status sg_graph_create(sg_device *dev, sg_seq *seq, bool training, sg_graph **out)
{
    sg_graph *g = calloc(1, sizeof *g);
    if (!g)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    g->dev = dev;
    g->seq = seq;
    g->training = training;
    g->fold = !training;
    *out = g;
    return SG_OK;
}

void sg_graph_destroy(sg_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->node_count; i++) {
        if (g->owned[i])
            sg_tensor_destroy(g->nodes[i]->value);
        sg_tensor_destroy(g->nodes[i]->grad);
        free(g->nodes[i]);
    }
    for (size_t i = 0; i < g->arena_count; i++) /* after their views */
        sg_tensor_destroy(g->arenas[i]);
    sg_tensor_destroy(g->plan_arena);
    free(g->arenas);
    free(g->pending);
    for (size_t i = 0; i < g->extra_count; i++)
        sg_tensor_destroy(g->extra[i]);
    free(g->nodes);
    free(g->owned);
    free(g->tape);
    free(g->extra);
    free(g);
}

sg_status sg_graph_status(const sg_graph *g)
{
    return g->status;
}

bool sg_graph_training(const sg_graph *g)
{
    return g->training;
}

void sg_graph_set_folding(sg_graph *g, bool fold, sg_seq *pack)
{
    g->fold = fold && !g->training;
    g->pack = g->fold ? pack : NULL;
}

void sg_graph_set_plan(sg_graph *g, sg_plan *plan)
{
    g->plan = g->training ? NULL : plan;
    if (g->plan && sg_plan_finished(g->plan))
        sg_plan_rewind(g->plan);
}

void sg_graph_keep(sg_graph *g, const sg_node *n)
{
    if (g->plan && n)
        sg_plan_keep(g->plan, n->slot);
}

size_t sg_graph_bytes(const sg_graph *g)
{
    return g->bytes;
}

static bool failed(sg_graph *g, sg_status s)
{
    if (s != SG_OK && g->status == SG_OK)
        g->status = s;
    return g->status != SG_OK;
}

static sg_tensor *new_tensor(sg_graph *g, sg_shape shape)
{
    sg_tensor *t = NULL;
    if (!failed(g, sg_tensor_create(g->dev, shape, &t)))
        g->bytes += sg_shape_count(shape) * sizeof(float);
    return t;
}

/* Register a node; value is owned unless it wraps a caller's tensor. */
static sg_node *add_node(sg_graph *g, sg_tensor *value, bool owned, bool needs_grad)
{
    size_t cap = g->node_cap, cap2 = g->node_cap;
    if (!sg_array_reserve((void **)&g->nodes, &g->node_cap, g->node_count, sizeof *g->nodes, 64) ||
        !sg_array_reserve((void **)&g->owned, &cap, g->node_count, sizeof *g->owned, 64) ||
        !sg_array_reserve((void **)&g->pending, &cap2, g->node_count, sizeof *g->pending, 64)) {
        failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory"));
        if (owned)
            sg_tensor_destroy(value);
        return NULL;
    }
    sg_node *n = calloc(1, sizeof *n);
    if (!n) {
        failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory"));
        if (owned)
            sg_tensor_destroy(value);
        return NULL;
    }
    n->value = value;
    n->slot = -1;
    g->owned[g->node_count] = owned;
    g->pending[g->node_count] = needs_grad && g->training && !g->arenas_made;
    g->nodes[g->node_count++] = n;
    if (needs_grad && g->training && g->arenas_made)
        n->grad = new_tensor(g, sg_tensor_shape(value));
    return n;
}

/* An op begins: the plan's clock moves on, and the op's input nodes are
 * read by it (a learning plan extends their lives to it). */
static void begin_op(sg_graph *g, const sg_node *a, const sg_node *b)
{
    g->op++;
    if (g->plan && !sg_plan_finished(g->plan)) {
        sg_plan_use(g->plan, a ? a->slot : -1, g->op);
        sg_plan_use(g->plan, b ? b->slot : -1, g->op);
    }
}

/* A node's tensor: with a finished plan, a view of the arena at its planned
 * offset; with a learning one, a tensor of its own taught to the plan as a
 * slot made by the current op. */
static sg_tensor *node_tensor(sg_graph *g, sg_shape shape, int *slot)
{
    *slot = -1;
    if (!g->plan)
        return new_tensor(g, shape);
    size_t floats = sg_shape_count(shape), at;
    if (!sg_plan_finished(g->plan)) {
        sg_tensor *t = new_tensor(g, shape);
        if (t && (*slot = sg_plan_add(g->plan, floats, g->op)) < 0) {
            sg_tensor_destroy(t);
            failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory"));
            return NULL;
        }
        return t;
    }
    if (!sg_plan_next(g->plan, floats, &at)) {
        failed(g, sg_fail(SG_ERR_STATE, "a graph recorded other tensors than its memory plan learnt"));
        return NULL;
    }
    if (!g->plan_arena) {
        size_t arena = sg_plan_arena_floats(g->plan);
        if (arena > INT_MAX) {
            failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "a graph's planned memory, %zu floats, is over one tensor's", arena));
            return NULL;
        }
        if (failed(g, sg_tensor_create(g->dev, sg_shape4(1, 1, 1, (int)arena), &g->plan_arena)))
            return NULL;
        g->bytes += arena * sizeof(float);
    }
    sg_tensor *t = NULL;
    failed(g, sg_tensor_view(g->plan_arena, at, shape, &t));
    return t;
}

static sg_node *new_node(sg_graph *g, sg_shape shape)
{
    int slot;
    sg_tensor *t = node_tensor(g, shape, &slot);
    /* every op output in a training graph carries a gradient: parameters sit
     * upstream of almost everything, and the rest costs only memory */
    sg_node *n = t ? add_node(g, t, true, true) : NULL;
    if (n)
        n->slot = slot;
    return n;
}

static sg_tensor *keep(sg_graph *g, sg_shape shape)
{
    sg_tensor *t = new_tensor(g, shape);
    if (t && !sg_array_reserve((void **)&g->extra, &g->extra_cap, g->extra_count, sizeof *g->extra, 64)) {
        sg_tensor_destroy(t);
        failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory"));
        return NULL;
    }
    if (t)
        g->extra[g->extra_count++] = t;
    return t;
}

static void push(sg_graph *g, const tape_entry *e)
{
    if (!g->training)
        return;
    if (!sg_array_reserve((void **)&g->tape, &g->tape_cap, g->tape_count, sizeof *g->tape, 64)) {
        failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory"));
        return;
    }
    g->tape[g->tape_count++] = *e;
}

sg_node *sg_graph_input(sg_graph *g, sg_tensor *t, bool needs_grad)
{
    if (g->status != SG_OK)
        return NULL;
    return add_node(g, t, false, needs_grad);
}

sg_node *sg_graph_zeros(sg_graph *g, sg_shape shape)
{
    if (g->status != SG_OK)
        return NULL;
    begin_op(g, NULL, NULL);
    int slot;
    sg_tensor *t = node_tensor(g, shape, &slot);
    if (!t)
        return NULL;
    sg_node *n = add_node(g, t, true, false);
    if (n)
        n->slot = slot;
    return n && !failed(g, sg_fill(g->seq, t, 0.0f)) ? n : NULL;
}

static bool ready(sg_graph *g, const void *a, const void *b)
{
    if (g->status != SG_OK)
        return false;
    if (!a || !b)
        return !failed(g, sg_fail(SG_ERR_ARGUMENT, "graph op given a NULL node or parameter"));
    return true;
}

static const sg_batchnorm BN = {1e-5f, 0.1f};

sg_node *sg_graph_conv(sg_graph *g, sg_node *x, const sg_conv2d *p, sg_param *w, sg_param *b)
{
    if (g->pack) /* the fused path, with no epilogue: its packing goes into g->pack */
        return sg_graph_conv_bn(g, x, p, false, w, b, NULL, NULL, NULL, NULL, false, 0.0f);
    if (!ready(g, x, w))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_shape ys = sg_shape4(xs.n, w->shape.n,
                            sg_conv2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation),
                            sg_conv2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation));
    if (ys.h <= 0 || ys.w <= 0) {
        failed(g, sg_fail(SG_ERR_SHAPE, "conv %s: input %dx%d too small", w->name, xs.h, xs.w));
        return NULL;
    }
    sg_node *y = new_node(g, ys);
    if (!y || failed(g, sg_conv2d_forward(g->seq, p, x->value, w->value, b ? b->value : NULL, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_CONV, .in = {x}, .out = y, .w = w, .b = b, .conv = *p});
    return y;
}

sg_node *sg_graph_conv_transpose(sg_graph *g, sg_node *x, const sg_conv2d *p, sg_param *w, sg_param *b)
{
    if (g->pack)
        return sg_graph_conv_bn(g, x, p, true, w, b, NULL, NULL, NULL, NULL, false, 0.0f);
    if (!ready(g, x, w))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_shape ys = sg_shape4(xs.n, w->shape.c,
                            sg_conv_transpose2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation),
                            sg_conv_transpose2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation));
    sg_node *y = new_node(g, ys);
    if (!y || failed(g, sg_conv_transpose2d_forward(g->seq, p, x->value, w->value, b ? b->value : NULL, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_CONV_T, .in = {x}, .out = y, .w = w, .b = b, .conv = *p});
    return y;
}

/* Training-mode batch norm: batch statistics kept for the backward. With
 * `activate` the ReLU/LeakyReLU after it is the same op (sg_batchnorm_act_forward_train),
 * whose backward applies the activation's derivative inside the batch norm's
 * gradient kernels: the batch norm's output is no node, so nothing else reads it. */
static sg_node *bn_train(sg_graph *g, sg_node *x, sg_param *gamma, sg_param *beta, sg_param *mean, sg_param *var,
                         bool activate, float slope)
{
    if (!ready(g, x, gamma) || !ready(g, beta, mean) || !ready(g, var, var))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_node *y = new_node(g, xs);
    if (!y)
        return NULL;
    sg_tensor *sm = keep(g, sg_shape4(1, xs.c, 1, 1)), *si = keep(g, sg_shape4(1, xs.c, 1, 1));
    if (!sm || !si ||
        failed(g, activate ? sg_batchnorm_act_forward_train(g->seq, &BN, x->value, gamma->value, beta->value,
                                                            mean->value, var->value, sm, si, slope, y->value)
                           : sg_batchnorm_forward_train(g->seq, &BN, x->value, gamma->value, beta->value,
                                                        mean->value, var->value, sm, si, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = activate ? OP_BN_ACT : OP_BN, .in = {x}, .out = y, .w = gamma, .b = beta,
                          .mean = mean, .var = var, .slope = slope, .save_mean = sm, .save_invstd = si});
    return y;
}

sg_node *sg_graph_batchnorm(sg_graph *g, sg_node *x, sg_param *weight, sg_param *bias, sg_param *mean, sg_param *var)
{
    if (g->training)
        return bn_train(g, x, weight, bias, mean, var, false, 0.0f);
    if (!ready(g, x, weight) || !ready(g, bias, mean) || !ready(g, var, var))
        return NULL;
    begin_op(g, x, NULL);
    sg_node *y = new_node(g, sg_tensor_shape(x->value));
    if (!y)
        return NULL;
    failed(g, sg_batchnorm_forward_eval(g->seq, &BN, x->value, weight->value, bias->value, mean->value,
                                        var->value, y->value));
    return g->status == SG_OK ? y : NULL;
}

sg_node *sg_graph_activation(sg_graph *g, sg_node *x, sg_activation act, float slope)
{
    if (!ready(g, x, x))
        return NULL;
    begin_op(g, x, NULL);
    sg_node *y = new_node(g, sg_tensor_shape(x->value));
    if (!y || failed(g, sg_activation_forward(g->seq, act, slope, x->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_ACT, .in = {x}, .out = y, .act = act, .slope = slope});
    return y;
}

sg_node *sg_graph_batchnorm_act(sg_graph *g, sg_node *x, sg_param *gamma, sg_param *beta, sg_param *mean,
                                sg_param *var, float slope)
{
    if (g->training)
        return bn_train(g, x, gamma, beta, mean, var, true, slope);
    if (!g->fold)
        return sg_graph_activation(g, sg_graph_batchnorm(g, x, gamma, beta, mean, var),
                                   slope == 0.0f ? SG_ACT_RELU : SG_ACT_LEAKY_RELU, slope);
    if (!ready(g, x, gamma) || !ready(g, beta, mean) || !ready(g, var, var))
        return NULL;
    begin_op(g, x, NULL);
    sg_node *y = new_node(g, sg_tensor_shape(x->value));
    if (!y || failed(g, sg_batchnorm_act_forward_eval(g->seq, &BN, x->value, gamma->value, beta->value, mean->value,
                                                      var->value, slope, y->value)))
        return NULL;
    return y;
}

/* One fused pass of a folding eval graph: the convolution of x, then batch
 * norm with the running statistics (when gamma), into y; e says the rest
 * (activation, accumulation). */
static bool record_fused(sg_graph *g, sg_node *x, const sg_conv2d *p, bool transposed, sg_param *w, sg_param *b,
                         sg_param *gamma, sg_param *beta, sg_param *mean, sg_param *var, sg_conv_epilogue e,
                         sg_tensor *y)
{
    e.eps = BN.eps, e.pack = g->pack;
    if (gamma)
        e.gamma = gamma->value, e.beta = beta->value, e.mean = mean->value, e.var = var->value;
    const sg_tensor *bias = b ? b->value : NULL;
    return !failed(g, transposed ? sg_conv_transpose2d_forward_fused(g->seq, p, x->value, w->value, bias, &e, y)
                                 : sg_conv2d_forward_fused(g->seq, p, x->value, w->value, bias, &e, y));
}

sg_node *sg_graph_conv_bn(sg_graph *g, sg_node *x, const sg_conv2d *p, bool transposed, sg_param *w, sg_param *b,
                          sg_param *gamma, sg_param *beta, sg_param *mean, sg_param *var, bool activate,
                          float slope)
{
    if (!g->fold) {
        sg_node *y = transposed ? sg_graph_conv_transpose(g, x, p, w, b) : sg_graph_conv(g, x, p, w, b);
        if (gamma && activate)
            return sg_graph_batchnorm_act(g, y, gamma, beta, mean, var, slope);
        if (gamma)
            y = sg_graph_batchnorm(g, y, gamma, beta, mean, var);
        return activate ? sg_graph_activation(g, y, slope == 0.0f ? SG_ACT_RELU : SG_ACT_LEAKY_RELU, slope) : y;
    }
    if (!ready(g, x, w) || (gamma && (!ready(g, gamma, beta) || !ready(g, mean, var))))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_shape ys;
    if (transposed)
        ys = sg_shape4(xs.n, w->shape.c,
                       sg_conv_transpose2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation),
                       sg_conv_transpose2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation));
    else
        ys = sg_shape4(xs.n, w->shape.n, sg_conv2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation),
                       sg_conv2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation));
    if (ys.h <= 0 || ys.w <= 0) {
        failed(g, sg_fail(SG_ERR_SHAPE, "conv %s: input %dx%d too small", w->name, xs.h, xs.w));
        return NULL;
    }
    sg_node *y = new_node(g, ys);
    if (!y || !record_fused(g, x, p, transposed, w, b, gamma, beta, mean, var,
                            (sg_conv_epilogue){.activate = activate, .slope = slope}, y->value))
        return NULL;
    return y;
}

sg_node *sg_graph_conv_bn_add(sg_graph *g, sg_node *x, const sg_conv2d *p, bool transposed, sg_param *w,
                              sg_param *b, sg_param *gamma, sg_param *beta, sg_param *mean, sg_param *var,
                              sg_node *sum)
{
    if (!g->fold)
        return sg_graph_add(g, sum, sg_graph_conv_bn(g, x, p, transposed, w, b, gamma, beta, mean, var, false, 0.0f));
    if (!ready(g, x, w) || !ready(g, sum, sum) || (gamma && (!ready(g, gamma, beta) || !ready(g, mean, var))))
        return NULL;
    begin_op(g, x, sum);
    /* the op checks that sum has the convolution's output shape */
    if (!record_fused(g, x, p, transposed, w, b, gamma, beta, mean, var, (sg_conv_epilogue){.accumulate = true},
                      sum->value))
        return NULL;
    sg_node *y = add_node(g, sum->value, false, false);
    if (y) /* the same tensor: its readers are sum's */
        y->slot = sum->slot;
    return y;
}

sg_node *sg_graph_add(sg_graph *g, sg_node *a, sg_node *b)
{
    if (!ready(g, a, b))
        return NULL;
    begin_op(g, a, b);
    sg_node *y = new_node(g, sg_tensor_shape(a->value));
    if (!y || failed(g, sg_add_forward(g->seq, a->value, b->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_ADD, .in = {a, b}, .out = y});
    return y;
}

sg_node *sg_graph_mul(sg_graph *g, sg_node *a, sg_node *b)
{
    if (!ready(g, a, b))
        return NULL;
    begin_op(g, a, b);
    sg_node *y = new_node(g, sg_tensor_shape(a->value));
    if (!y || failed(g, sg_mul_forward(g->seq, a->value, b->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_MUL, .in = {a, b}, .out = y});
    return y;
}

sg_node *sg_graph_concat(sg_graph *g, sg_node *a, sg_node *b)
{
    if (!ready(g, a, b))
        return NULL;
    begin_op(g, a, b);
    sg_shape as = sg_tensor_shape(a->value), bs = sg_tensor_shape(b->value);
    sg_node *y = new_node(g, sg_shape4(as.n, as.c + bs.c, as.h, as.w));
    if (!y || failed(g, sg_concat_forward(g->seq, a->value, b->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_CONCAT, .in = {a, b}, .out = y});
    return y;
}

sg_node *sg_graph_maxpool2x2(sg_graph *g, sg_node *x)
{
    if (!ready(g, x, x))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_node *y = new_node(g, sg_shape4(xs.n, xs.c, xs.h / 2, xs.w / 2));
    if (!y || failed(g, sg_maxpool2x2_forward(g->seq, x->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_MAXPOOL, .in = {x}, .out = y});
    return y;
}

sg_node *sg_graph_upsample2x(sg_graph *g, sg_node *x)
{
    if (!ready(g, x, x))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_node *y = new_node(g, sg_shape4(xs.n, xs.c, xs.h * 2, xs.w * 2));
    if (!y || failed(g, sg_upsample2x_forward(g->seq, x->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_UPSAMPLE, .in = {x}, .out = y});
    return y;
}

sg_node *sg_graph_avgpool_global(sg_graph *g, sg_node *x)
{
    if (!ready(g, x, x))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_node *y = new_node(g, sg_shape4(xs.n, xs.c, 1, 1));
    if (!y || failed(g, sg_avgpool_global_forward(g->seq, x->value, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_AVGPOOL, .in = {x}, .out = y});
    return y;
}

sg_node *sg_graph_linear(sg_graph *g, sg_node *x, sg_param *w, sg_param *b)
{
    if (!ready(g, x, w))
        return NULL;
    begin_op(g, x, NULL);
    sg_shape xs = sg_tensor_shape(x->value);
    sg_node *y = new_node(g, sg_shape4(xs.n, w->shape.n, 1, 1));
    if (!y || failed(g, sg_linear_forward(g->seq, x->value, w->value, b ? b->value : NULL, y->value)))
        return NULL;
    push(g, &(tape_entry){.kind = OP_LINEAR, .in = {x}, .out = y, .w = w, .b = b});
    return y;
}

/* Floats in one arena at most (256 MB, the device memory's block size): a
 * larger gradient gets an arena of its own. */
#define ARENA_FLOATS (64u << 20)

static size_t padded(size_t count)
{
    return (count + 3) / 4 * 4; /* views start on 16 bytes */
}

/* Place the gradients of nodes first..last-1 (all pending) in one new arena. */
static sg_status make_arena(sg_graph *g, size_t first, size_t last, size_t floats)
{
    sg_tensor *arena = NULL;
    if (!sg_array_reserve((void **)&g->arenas, &g->arena_cap, g->arena_count, sizeof *g->arenas, 8))
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_status s = sg_tensor_create(g->dev, sg_shape4(1, 1, 1, (int)floats), &arena);
    if (s != SG_OK)
        return s;
    g->arenas[g->arena_count++] = arena;
    g->bytes += floats * sizeof(float);
    size_t at = 0;
    for (size_t i = first; i < last && s == SG_OK; i++) {
        if (!g->pending[i])
            continue;
        sg_shape shape = sg_tensor_shape(g->nodes[i]->value);
        s = sg_tensor_view(arena, at, shape, &g->nodes[i]->grad);
        at += padded(sg_shape_count(shape));
    }
    return s;
}

static size_t index_of(const sg_graph *g, const sg_node *n)
{
    for (size_t i = 0; i < g->node_count; i++)
        if (g->nodes[i] == n)
            return i;
    return g->node_count;
}

/* An add passes its output's gradient unchanged to each input, so an input
 * that no other op reads (a Res block's two branches, the ASPP and attention
 * sums) needs no gradient of its own: it shares the output's, and the add's
 * backward has nothing to do (no axpy, and fewer bytes to zero). Only for
 * inputs made by an op of this graph (a caller's input node may be seeded or
 * read from outside). share[i] becomes the node whose gradient node i shares
 * (itself when none). */
static void share_add_grads(sg_graph *g, size_t *share)
{
    for (size_t i = 0; i < g->node_count; i++)
        share[i] = i;
    size_t *readers = calloc(g->node_count, sizeof *readers);
    if (!readers)
        return; /* nothing shared: correct, only slower */
    for (size_t t = 0; t < g->tape_count; t++)
        for (int k = 0; k < 2; k++)
            if (g->tape[t].in[k]) {
                size_t i = index_of(g, g->tape[t].in[k]);
                if (i < g->node_count)
                    readers[i]++;
            }
    for (size_t t = 0; t < g->tape_count; t++) {
        tape_entry *e = &g->tape[t];
        if (e->kind != OP_ADD)
            continue;
        size_t out = index_of(g, e->out);
        for (int k = 0; k < 2; k++) {
            size_t i = index_of(g, e->in[k]);
            if (i < g->node_count && out < g->node_count && g->owned[i] && g->pending[i] && g->pending[out] &&
                readers[i] == 1) {
                share[i] = out;
                e->shared[k] = true;
            }
        }
    }
    free(readers);
}

/* Give every pending node its gradient, in arenas of up to ARENA_FLOATS. */
static sg_status make_grads(sg_graph *g)
{
    if (g->status != SG_OK || g->arenas_made)
        return g->status;
    g->arenas_made = true;
    g->arena_nodes = g->node_count;
    size_t *share = malloc((g->node_count + 1) * sizeof *share);
    if (!share) {
        failed(g, sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory"));
        return g->status;
    }
    share_add_grads(g, share);
    for (size_t i = 0; i < g->node_count; i++)
        if (share[i] != i)
            g->pending[i] = false; /* placed below, after the arenas */
    size_t first = 0, floats = 0;
    for (size_t i = 0; i < g->node_count; i++) {
        if (!g->pending[i])
            continue;
        size_t n = padded(sg_tensor_count(g->nodes[i]->value));
        if (floats > 0 && floats + n > ARENA_FLOATS) {
            if (failed(g, make_arena(g, first, i, floats)))
                return g->status;
            first = i;
            floats = 0;
        }
        floats += n;
    }
    if (floats > 0)
        failed(g, make_arena(g, first, g->node_count, floats));
    /* shared gradients: an add's output comes after its inputs, so going
     * backwards the gradient shared (maybe itself shared: the ASPP's chain of
     * sums) is made first */
    for (size_t i = g->node_count; i-- > 0 && g->status == SG_OK;)
        if (share[i] != i)
            failed(g, sg_tensor_view(g->nodes[share[i]]->grad, 0, sg_tensor_shape(g->nodes[i]->value),
                                     &g->nodes[i]->grad));
    free(share);
    return g->status;
}

sg_status sg_graph_zero_grads(sg_graph *g, sg_seq *seq)
{
    if (make_grads(g) != SG_OK)
        return g->status;
    for (size_t i = 0; i < g->arena_count; i++)
        if (failed(g, sg_fill(seq, g->arenas[i], 0.0f)))
            return g->status;
    for (size_t i = g->arena_nodes; i < g->node_count; i++)
        if (g->nodes[i]->grad && failed(g, sg_fill(seq, g->nodes[i]->grad, 0.0f)))
            break;
    return g->status;
}

static sg_tensor *grad_of(sg_node *n)
{
    return n ? n->grad : NULL;
}

/* p's gradient, or NULL (not computed) without params */
static sg_tensor *param_grad(const sg_param *p, bool params)
{
    return params && p ? p->grad : NULL;
}

static sg_status entry_backward(sg_seq *seq, const tape_entry *e, bool params)
{
    sg_tensor *dy = e->out->grad;
    sg_tensor *dx = grad_of(e->in[0]);
    switch (e->kind) {
    case OP_CONV:
        return sg_conv2d_backward(seq, &e->conv, e->in[0]->value, e->w->value, dy, dx,
                                  param_grad(e->w, params), param_grad(e->b, params));
    case OP_CONV_T:
        return sg_conv_transpose2d_backward(seq, &e->conv, e->in[0]->value, e->w->value, dy, dx,
                                            param_grad(e->w, params), param_grad(e->b, params));
    case OP_BN:
        return sg_batchnorm_backward(seq, e->in[0]->value, e->w->value, e->save_mean, e->save_invstd, dy, dx,
                                     param_grad(e->w, params), param_grad(e->b, params));
    case OP_BN_ACT:
        return sg_batchnorm_act_backward(seq, e->in[0]->value, e->w->value, e->save_mean, e->save_invstd,
                                         e->out->value, e->slope, dy, dx, param_grad(e->w, params),
                                         param_grad(e->b, params));
    case OP_ACT:
        return dx ? sg_activation_backward(seq, e->act, e->slope, e->in[0]->value, e->out->value, dy, dx) : SG_OK;
    case OP_ADD: {
        sg_status s = dx && !e->shared[0] ? sg_axpy(seq, 1.0f, dy, dx) : SG_OK;
        sg_tensor *db = grad_of(e->in[1]);
        return s == SG_OK && db && !e->shared[1] ? sg_axpy(seq, 1.0f, dy, db) : s;
    }
    case OP_MUL:
        return sg_mul_backward(seq, e->in[0]->value, e->in[1]->value, dy, dx, grad_of(e->in[1]));
    case OP_CONCAT:
        return sg_concat_backward(seq, dy, dx, grad_of(e->in[1]));
    case OP_MAXPOOL:
        return dx ? sg_maxpool2x2_backward(seq, e->in[0]->value, dy, dx) : SG_OK;
    case OP_UPSAMPLE:
        return dx ? sg_upsample2x_backward(seq, dy, dx) : SG_OK;
    case OP_AVGPOOL:
        return dx ? sg_avgpool_global_backward(seq, dy, dx) : SG_OK;
    case OP_LINEAR:
        return sg_linear_backward(seq, e->in[0]->value, e->w->value, dy, dx, param_grad(e->w, params),
                                  param_grad(e->b, params));
    }
    return sg_fail(SG_ERR_ARGUMENT, "unknown op on the tape");
}

static sg_status backward(sg_graph *g, sg_seq *seq, bool params)
{
    if (g->status != SG_OK)
        return g->status;
    if (!g->training)
        return sg_fail(SG_ERR_STATE, "backward through an eval-mode graph");
    if (make_grads(g) != SG_OK)
        return g->status;
    for (size_t i = g->tape_count; i-- > 0;)
        if (failed(g, entry_backward(seq, &g->tape[i], params)))
            break;
    return g->status;
}

sg_status sg_graph_backward(sg_graph *g, sg_seq *seq)
{
    return backward(g, seq, true);
}

sg_status sg_graph_backward_inputs(sg_graph *g, sg_seq *seq)
{
    return backward(g, seq, false);
}
