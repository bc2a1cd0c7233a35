/* The layers the networks are built from, each a declaration (its parameters,
 * named as in the PyTorch reference: "<prefix>.weight", ...) and an apply
 * function recording it into a graph. Internal to the model layer. */
#ifndef SGAD_MODEL_MODULES_H
#define SGAD_MODEL_MODULES_H

#include "graph.h"

typedef struct sg_conv_module {
    sg_param *w, *b; /* b NULL without bias */
    sg_conv2d p;
    bool transposed;
} sg_conv_module;

typedef struct sg_bn_module {
    sg_param *w, *b, *mean, *var;
} sg_bn_module;

typedef struct sg_linear_module {
    sg_param *w, *b;
} sg_linear_module;

/* Each declare returns false (with the error set) on failure. `name` is the
 * module's full dotted name, e.g. "c1.conv1". */
bool sg_conv_module_declare(sg_param_set *set, sg_conv_module *m, const char *name, int in, int out, int k, int stride,
                  int pad, int dil, bool bias);
bool sg_conv_transpose_module_declare(sg_param_set *set, sg_conv_module *m, const char *name, int in, int out, int k,
                            int stride, int pad, bool bias);
bool sg_bn_module_declare(sg_param_set *set, sg_bn_module *m, const char *name, int channels);
bool sg_linear_module_declare(sg_param_set *set, sg_linear_module *m, const char *name, int in, int out, bool bias);

sg_node *sg_conv_module_apply(sg_graph *g, const sg_conv_module *m, sg_node *x);
sg_node *sg_bn_module_apply(sg_graph *g, const sg_bn_module *m, sg_node *x);
/* bn -> ReLU (slope 0) or LeakyReLU: sg_graph_batchnorm_act, one pass in eval graphs. */
sg_node *sg_bn_act_module_apply(sg_graph *g, const sg_bn_module *bn, float slope, sg_node *x);
/* conv -> bn (bn NULL: none) (-> ReLU with slope 0, LeakyReLU otherwise, when activate):
 * sg_graph_conv_bn, folded into one pass in eval graphs. */
sg_node *sg_conv_bn_module_apply(sg_graph *g, const sg_conv_module *conv, const sg_bn_module *bn, bool activate,
                                 float slope, sg_node *x);
/* sum + the convolution (then batch norm, when bn) of x: sg_graph_conv_bn_add,
 * one pass in eval graphs that fold (sum must have no later reader). */
sg_node *sg_conv_bn_module_apply_add(sg_graph *g, const sg_conv_module *conv, const sg_bn_module *bn, sg_node *x,
                                     sg_node *sum);
sg_node *sg_linear_module_apply(sg_graph *g, const sg_linear_module *m, sg_node *x);

/* "a" + "." + "b" into buf (names of nested modules). */
const char *sg_join(char *buf, size_t size, const char *a, const char *b);

#endif
