/* A recorded network application with automatic backward (a tape).
 *
 * Model code is written like a PyTorch forward: each g_* call records the op's
 * forward into the graph's sequence, allocates its output node (and, in a
 * training graph, the node's gradient), and remembers how to run the op
 * backward. sg_graph_backward() then records the backward of every op in
 * reverse order, each ADDING into the gradients of its inputs and parameters,
 * so a node used twice (skip connections) gets the sum of both gradients.
 *
 * Nothing runs while recording: the sequences are replayed step after step.
 * Errors are sticky: after a failed op the following ones return NULL and
 * sg_graph_status() tells what went wrong first. Internal to the model layer. */
#ifndef SGAD_MODEL_GRAPH_H
#define SGAD_MODEL_GRAPH_H

#include <stdbool.h>

#include "params.h"
#include "plan.h"
#include "sgad/ops.h"

typedef struct sg_node {
    sg_tensor *value;
    /* NULL where no gradient is needed, and in every node until the first
     * sg_graph_zero_grads or sg_graph_backward: the gradients of the nodes
     * recorded by then are made there, together in a few large tensors */
    sg_tensor *grad;
    int slot; /* the plan's slot of the tensor holding value (plan.h), or -1 */
} sg_node;

typedef struct sg_graph sg_graph;

/* training: BN uses batch statistics and updates running ones, and gradients are
 * kept; otherwise eval mode without gradients. Forward ops go into `seq`. */
sg_status sg_graph_create(sg_device *dev, sg_seq *seq, bool training, sg_graph **out);
void sg_graph_destroy(sg_graph *g);
sg_status sg_graph_status(const sg_graph *g);
bool sg_graph_training(const sg_graph *g);
/* Eval graphs fold batch norm (and the activation after it) into the
 * convolution before it (sg_graph_conv_bn); off, they record each op alone as
 * training graphs do. On by default; set before recording. With fold and a
 * `pack` sequence, every convolution's weight packing (and folding) is
 * recorded into `pack` instead of the graph's sequence: the caller runs it
 * before the graph's sequence whenever the parameters changed. */
void sg_graph_set_folding(sg_graph *g, bool fold, sg_seq *pack);
/* An eval graph's memory planned by lifetime (plan.h): with an empty plan
 * the recording teaches it, with a finished one the nodes are views of one
 * arena at the planned offsets (the graph fails if it records other tensors
 * than the plan learnt). Set before recording; the plan outlives the graph. */
void sg_graph_set_plan(sg_graph *g, sg_plan *plan);
/* n is read after the graph (downloaded, or by ops outside it): its memory is
 * reused by no later node. Without a plan it does nothing. */
void sg_graph_keep(sg_graph *g, const sg_node *n);

/* An input node over an existing tensor (not owned). With needs_grad, the node
 * gets a gradient tensor that backward fills (e.g. D's input x_hat). */
sg_node *sg_graph_input(sg_graph *g, sg_tensor *t, bool needs_grad);
/* A node of zeros (graph-owned, no gradient), filled where it is recorded:
 * what stands in for a connection a model leaves out. */
sg_node *sg_graph_zeros(sg_graph *g, sg_shape shape);

sg_node *sg_graph_conv(sg_graph *g, sg_node *x, const sg_conv2d *p, sg_param *w, sg_param *b);
sg_node *sg_graph_conv_transpose(sg_graph *g, sg_node *x, const sg_conv2d *p, sg_param *w, sg_param *b);
/* BatchNorm2d (eps 1e-5, momentum 0.1) with weight, bias, running mean, running var. */
sg_node *sg_graph_batchnorm(sg_graph *g, sg_node *x, sg_param *weight, sg_param *bias, sg_param *mean,
                     sg_param *var);
sg_node *sg_graph_activation(sg_graph *g, sg_node *x, sg_activation act, float slope);
/* batch norm -> ReLU (slope 0) or LeakyReLU: one pass in an eval graph that
 * folds (sg_batchnorm_act_forward_eval) and in a training graph
 * (sg_batchnorm_act_forward_train, whose backward applies the activation's
 * derivative inside the batch norm's: the batch norm's output is no node and
 * has no gradient); the two ops in an eval graph that does not fold. */
sg_node *sg_graph_batchnorm_act(sg_graph *g, sg_node *x, sg_param *gamma, sg_param *beta, sg_param *mean,
                                sg_param *var, float slope);
/* conv (transposed: conv_transpose) -> batch norm (none when gamma, beta,
 * mean and var are NULL) -> with activate, ReLU (slope 0) or LeakyReLU
 * (slope). The maps between them are not nodes, so
 * nothing else can read them: in an eval graph that folds, one fused pass
 * (sg_conv2d_forward_fused); in a training graph the convolution, then batch
 * norm and activation as one op (sg_graph_batchnorm_act); otherwise the two or
 * three ops. */
sg_node *sg_graph_conv_bn(sg_graph *g, sg_node *x, const sg_conv2d *p, bool transposed, sg_param *w, sg_param *b,
                          sg_param *gamma, sg_param *beta, sg_param *mean, sg_param *var, bool activate,
                          float slope);
/* sum + conv_bn(x) (no activation): in an eval graph that folds, the
 * convolution adds its result into sum's tensor as it stores it (one pass, no
 * add), so sum must have no reader recorded after this call but the returned
 * node; otherwise sg_graph_conv_bn, then sg_graph_add. */
sg_node *sg_graph_conv_bn_add(sg_graph *g, sg_node *x, const sg_conv2d *p, bool transposed, sg_param *w,
                              sg_param *b, sg_param *gamma, sg_param *beta, sg_param *mean, sg_param *var,
                              sg_node *sum);
/* In a training graph, an input that no other op reads (and that an op of
 * this graph made) shares the output's gradient tensor, so the add's backward
 * copies nothing: seed gradients (losses) only into nodes that are no such
 * input. */
sg_node *sg_graph_add(sg_graph *g, sg_node *a, sg_node *b);
/* b has a's shape or is per-channel (N,C,1,1) */
sg_node *sg_graph_mul(sg_graph *g, sg_node *a, sg_node *b);
sg_node *sg_graph_concat(sg_graph *g, sg_node *a, sg_node *b);
sg_node *sg_graph_maxpool2x2(sg_graph *g, sg_node *x);
sg_node *sg_graph_upsample2x(sg_graph *g, sg_node *x);
sg_node *sg_graph_avgpool_global(sg_graph *g, sg_node *x);
sg_node *sg_graph_linear(sg_graph *g, sg_node *x, sg_param *w, sg_param *b);

/* Record: every node gradient set to zero (before seeding the output
 * gradients); one fill per 256 MB of gradients, plus one per node recorded
 * after the first call. */
sg_status sg_graph_zero_grads(sg_graph *g, sg_seq *seq);
/* Record the backward of every op, last to first. */
sg_status sg_graph_backward(sg_graph *g, sg_seq *seq);
/* The same for the nodes' gradients alone, the parameters' left as they are
 * (and not computed): what one graph passes back into another's output, e.g.
 * D(G(x)) into x_hat in the generator's step. */
sg_status sg_graph_backward_inputs(sg_graph *g, sg_seq *seq);

/* Bytes of device memory the graph's nodes hold (with a finished plan, its arena). */
size_t sg_graph_bytes(const sg_graph *g);

#endif
