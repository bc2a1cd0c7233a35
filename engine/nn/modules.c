#include "modules.h"

#include <stdio.h>

const char *sg_join(char *buf, size_t size, const char *a, const char *b)
{
    snprintf(buf, size, "%s.%s", a, b);
    return buf;
}

static sg_param *declare(sg_param_set *set, const char *module, const char *leaf, int ndim, int64_t d0,
                         int64_t d1, int64_t d2, int64_t d3, bool trainable, sg_init_rule rule)
{
    char name[128];
    int64_t dims[4] = {d0, d1, d2, d3};
    return sg_params_declare(set, sg_join(name, sizeof name, module, leaf), ndim, dims, trainable, rule);
}

bool sg_conv_module_declare(sg_param_set *set, sg_conv_module *m, const char *name, int in, int out, int k, int stride, int pad,
                  int dil, bool bias)
{
    m->p = (sg_conv2d){k, k, stride, pad, dil};
    m->transposed = false;
    m->w = declare(set, name, "weight", 4, out, in, k, k, true, SG_INIT_WEIGHT);
    m->b = bias ? declare(set, name, "bias", 1, out, 0, 0, 0, true, SG_INIT_ZERO) : NULL;
    return m->w && (!bias || m->b);
}

bool sg_conv_transpose_module_declare(sg_param_set *set, sg_conv_module *m, const char *name, int in, int out, int k, int stride,
                            int pad, bool bias)
{
    m->p = (sg_conv2d){k, k, stride, pad, 1};
    m->transposed = true;
    m->w = declare(set, name, "weight", 4, in, out, k, k, true, SG_INIT_WEIGHT);
    m->b = bias ? declare(set, name, "bias", 1, out, 0, 0, 0, true, SG_INIT_ZERO) : NULL;
    return m->w && (!bias || m->b);
}

bool sg_bn_module_declare(sg_param_set *set, sg_bn_module *m, const char *name, int c)
{
    m->w = declare(set, name, "weight", 1, c, 0, 0, 0, true, SG_INIT_BN_WEIGHT);
    m->b = declare(set, name, "bias", 1, c, 0, 0, 0, true, SG_INIT_ZERO);
    m->mean = declare(set, name, "running_mean", 1, c, 0, 0, 0, false, SG_INIT_ZERO);
    m->var = declare(set, name, "running_var", 1, c, 0, 0, 0, false, SG_INIT_ONE);
    return m->w && m->b && m->mean && m->var;
}

bool sg_linear_module_declare(sg_param_set *set, sg_linear_module *m, const char *name, int in, int out, bool bias)
{
    m->w = declare(set, name, "weight", 2, out, in, 0, 0, true, SG_INIT_WEIGHT);
    m->b = bias ? declare(set, name, "bias", 1, out, 0, 0, 0, true, SG_INIT_ZERO) : NULL;
    return m->w && (!bias || m->b);
}

sg_node *sg_conv_module_apply(sg_graph *g, const sg_conv_module *m, sg_node *x)
{
    return m->transposed ? sg_graph_conv_transpose(g, x, &m->p, m->w, m->b) : sg_graph_conv(g, x, &m->p, m->w, m->b);
}

sg_node *sg_bn_module_apply(sg_graph *g, const sg_bn_module *m, sg_node *x)
{
    return sg_graph_batchnorm(g, x, m->w, m->b, m->mean, m->var);
}

sg_node *sg_bn_act_module_apply(sg_graph *g, const sg_bn_module *bn, float slope, sg_node *x)
{
    return sg_graph_batchnorm_act(g, x, bn->w, bn->b, bn->mean, bn->var, slope);
}

sg_node *sg_conv_bn_module_apply(sg_graph *g, const sg_conv_module *conv, const sg_bn_module *bn, bool activate,
                                 float slope, sg_node *x)
{
    return bn ? sg_graph_conv_bn(g, x, &conv->p, conv->transposed, conv->w, conv->b, bn->w, bn->b, bn->mean,
                                 bn->var, activate, slope)
              : sg_graph_conv_bn(g, x, &conv->p, conv->transposed, conv->w, conv->b, NULL, NULL, NULL, NULL,
                                 activate, slope);
}

sg_node *sg_conv_bn_module_apply_add(sg_graph *g, const sg_conv_module *conv, const sg_bn_module *bn, sg_node *x,
                                     sg_node *sum)
{
    return sg_graph_conv_bn_add(g, x, &conv->p, conv->transposed, conv->w, conv->b, bn ? bn->w : NULL,
                                bn ? bn->b : NULL, bn ? bn->mean : NULL, bn ? bn->var : NULL, sum);
}

sg_node *sg_linear_module_apply(sg_graph *g, const sg_linear_module *m, sg_node *x)
{
    return sg_graph_linear(g, x, m->w, m->b);
}
