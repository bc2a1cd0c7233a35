/* The layers the networks are built from, each a declaration (its parameters,
 * named as in the PyTorch reference: "<prefix>.weight", ...) and an apply
 * function recording it into a graph. Internal to the model layer. */
#ifndef SGAD_MODEL_MODULES_H
#define SGAD_MODEL_MODULES_H

#include "graph.h"

typedef struct conv_m {
    sg_param *w, *b; /* b NULL without bias */
    sg_conv2d p;
    bool transposed;
} conv_m;

typedef struct bn_m {
    sg_param *w, *b, *mean, *var;
} bn_m;

typedef struct linear_m {
    sg_param *w, *b;
} linear_m;

/* Each declare returns false (with the error set) on failure. `name` is the
 * module's full dotted name, e.g. "c1.conv1". */
bool conv_declare(sg_param_set *set, conv_m *m, const char *name, int in, int out, int k, int stride,
                  int pad, int dil, bool bias);
bool conv_transpose_declare(sg_param_set *set, conv_m *m, const char *name, int in, int out, int k,
                            int stride, int pad, bool bias);
bool bn_declare(sg_param_set *set, bn_m *m, const char *name, int channels);
bool linear_declare(sg_param_set *set, linear_m *m, const char *name, int in, int out, bool bias);

sg_node *conv_apply(sg_graph *g, const conv_m *m, sg_node *x);
sg_node *bn_apply(sg_graph *g, const bn_m *m, sg_node *x);
sg_node *linear_apply(sg_graph *g, const linear_m *m, sg_node *x);

/* "a" + "." + "b" into buf (names of nested modules). */
const char *sg_join(char *buf, size_t size, const char *a, const char *b);

#endif
