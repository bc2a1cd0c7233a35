/* The Skip-GANomaly++ generator (ResUNet++-style), spec "Generator":
 *   c1 = Stem(C->f0); c2, c3, c4 = Res(.., stride 2); bridge = ASPP(f3->f4);
 *   d1, d2, d3 = Decoder(g = c3, c2, c1; x = previous); out = head_conv(head_aspp(d3)).
 * A model may leave skips out (sg_model_config.dropped_skips): that level's
 * decoder then gets zeros in place of c1, c2 or c3.
 * Module and parameter names follow tests/reference/skipganomaly_pp.py. */
#include <stdio.h>
#include <stdlib.h>

#include "../nn/modules.h"
#include "networks.h"

typedef struct se_m {
    sg_linear_module fc1, fc2;
} se_m;

/* Stem and ResBlock share one shape: [bn1] conv1 bn2|bn1 conv2 + skip, SE. */
typedef struct res_m {
    bool stem;     /* Stem: conv1 -> bn1 -> ReLU -> conv2; Res: bn1 -> ReLU -> conv1 -> bn2 -> ReLU -> conv2 */
    sg_bn_module bn1, bn2; /* Stem uses bn1 only */
    sg_conv_module conv1, conv2, skip_conv;
    sg_bn_module skip_bn;
    se_m se;
} res_m;

typedef struct aspp_m {
    sg_conv_module conv[4];
    sg_bn_module bn[4];
    sg_conv_module out_conv;
} aspp_m;

typedef struct attention_m {
    sg_bn_module g_bn, x_bn, out_bn;
    sg_conv_module g_conv, x_conv, out_conv;
} attention_m;

typedef struct decoder_m {
    attention_m attn;
    bool transposed;
    sg_conv_module up;
    res_m res;
} decoder_m;

struct sg_pp_generator {
    unsigned dropped_skips;
    res_m c1, c2, c3, c4;
    aspp_m bridge, head_aspp;
    decoder_m d1, d2, d3;
    sg_conv_module head_conv;
};

static const int ASPP_RATES[4] = {1, 6, 12, 18};

/* The spec's squeeze is c/8; widths below 8 (width multipliers under 0.5) keep one unit. */
static bool se_declare(sg_param_set *s, se_m *m, const char *name, int c)
{
    char a[128], b[128];
    int squeeze = c / 8 > 0 ? c / 8 : 1;
    return sg_linear_module_declare(s, &m->fc1, sg_join(a, sizeof a, name, "se.fc1"), c, squeeze, false) &&
           sg_linear_module_declare(s, &m->fc2, sg_join(b, sizeof b, name, "se.fc2"), squeeze, c, false);
}

static bool res_declare(sg_param_set *s, res_m *m, const char *name, int in, int out, int stride, bool stem)
{
    char n[128];
    m->stem = stem;
    bool ok = true;
    if (stem) {
        ok = sg_conv_module_declare(s, &m->conv1, sg_join(n, sizeof n, name, "conv1"), in, out, 3, 1, 1, 1, true) &&
             sg_bn_module_declare(s, &m->bn1, sg_join(n, sizeof n, name, "bn1"), out);
    } else {
        ok = sg_bn_module_declare(s, &m->bn1, sg_join(n, sizeof n, name, "bn1"), in) &&
             sg_conv_module_declare(s, &m->conv1, sg_join(n, sizeof n, name, "conv1"), in, out, 3, stride, 1, 1, true) &&
             sg_bn_module_declare(s, &m->bn2, sg_join(n, sizeof n, name, "bn2"), out);
    }
    return ok && sg_conv_module_declare(s, &m->conv2, sg_join(n, sizeof n, name, "conv2"), out, out, 3, 1, 1, 1, true) &&
           sg_conv_module_declare(s, &m->skip_conv, sg_join(n, sizeof n, name, "skip_conv"), in, out, 1, stride, 0, 1, true) &&
           sg_bn_module_declare(s, &m->skip_bn, sg_join(n, sizeof n, name, "skip_bn"), out) && se_declare(s, &m->se, name, out);
}

static bool aspp_declare(sg_param_set *s, aspp_m *m, const char *name, int in, int out)
{
    char n[128], leaf[32];
    for (int i = 0; i < 4; i++) {
        int r = ASPP_RATES[i];
        snprintf(leaf, sizeof leaf, "conv_r%d", r);
        if (!sg_conv_module_declare(s, &m->conv[i], sg_join(n, sizeof n, name, leaf), in, out, 3, 1, r, r, true))
            return false;
        snprintf(leaf, sizeof leaf, "bn_r%d", r);
        if (!sg_bn_module_declare(s, &m->bn[i], sg_join(n, sizeof n, name, leaf), out))
            return false;
    }
    return sg_conv_module_declare(s, &m->out_conv, sg_join(n, sizeof n, name, "out_conv"), out, out, 1, 1, 0, 1, true);
}

static bool attention_declare(sg_param_set *s, attention_m *m, const char *name, int gc, int xc)
{
    char n[128];
    return sg_bn_module_declare(s, &m->g_bn, sg_join(n, sizeof n, name, "g_bn"), gc) &&
           sg_conv_module_declare(s, &m->g_conv, sg_join(n, sizeof n, name, "g_conv"), gc, xc, 3, 1, 1, 1, true) &&
           sg_bn_module_declare(s, &m->x_bn, sg_join(n, sizeof n, name, "x_bn"), xc) &&
           sg_conv_module_declare(s, &m->x_conv, sg_join(n, sizeof n, name, "x_conv"), xc, xc, 3, 1, 1, 1, true) &&
           sg_bn_module_declare(s, &m->out_bn, sg_join(n, sizeof n, name, "out_bn"), xc) &&
           sg_conv_module_declare(s, &m->out_conv, sg_join(n, sizeof n, name, "out_conv"), xc, xc, 3, 1, 1, 1, true);
}

static bool decoder_declare(sg_param_set *s, decoder_m *m, const char *name, int gc, int xc, int out,
                            bool transposed)
{
    char n[128];
    m->transposed = transposed;
    return attention_declare(s, &m->attn, sg_join(n, sizeof n, name, "attn"), gc, xc) &&
           (!transposed ||
            sg_conv_transpose_module_declare(s, &m->up, sg_join(n, sizeof n, name, "up"), xc, xc, 4, 2, 1, true)) &&
           res_declare(s, &m->res, sg_join(n, sizeof n, name, "res"), xc + gc, out, 1, false);
}

sg_pp_generator *sg_pp_generator_create(sg_param_set *s, const sg_net_shape *c)
{
    sg_pp_generator *G = calloc(1, sizeof *G);
    if (!G)
        return NULL;
    int f[5];
    for (int i = 0; i < 5; i++)
        f[i] = sg_net_width(c, 16) << i;
    bool t = c->transposed;
    G->dropped_skips = c->dropped_skips;
    bool ok = res_declare(s, &G->c1, "c1", c->channels, f[0], 1, true) &&
              res_declare(s, &G->c2, "c2", f[0], f[1], 2, false) &&
              res_declare(s, &G->c3, "c3", f[1], f[2], 2, false) &&
              res_declare(s, &G->c4, "c4", f[2], f[3], 2, false) && aspp_declare(s, &G->bridge, "bridge", f[3], f[4]) &&
              decoder_declare(s, &G->d1, "d1", f[2], f[4], f[3], t) &&
              decoder_declare(s, &G->d2, "d2", f[1], f[3], f[2], t) &&
              decoder_declare(s, &G->d3, "d3", f[0], f[2], f[1], t) &&
              aspp_declare(s, &G->head_aspp, "head_aspp", f[1], f[0]) &&
              sg_conv_module_declare(s, &G->head_conv, "head_conv", f[0], c->channels, 1, 1, 0, 1, true);
    if (!ok) {
        free(G);
        return NULL;
    }
    return G;
}

void sg_pp_generator_destroy(sg_pp_generator *G)
{
    free(G);
}

static sg_node *relu(sg_graph *g, sg_node *x)
{
    return sg_graph_activation(g, x, SG_ACT_RELU, 0.0f);
}

static sg_node *se_apply(sg_graph *g, const se_m *m, sg_node *x)
{
    sg_node *s = sg_graph_avgpool_global(g, x);
    s = sg_graph_activation(g, sg_linear_module_apply(g, &m->fc2, relu(g, sg_linear_module_apply(g, &m->fc1, s))), SG_ACT_SIGMOID, 0.0f);
    return sg_graph_mul(g, x, s);
}

/* The sums below (main + shortcut, the ASPP branches, the attention gate's) are
 * recorded as a convolution adding into the other term (sg_conv_bn_module_apply_add):
 * in a scorer's graph the add is then part of the convolution's store. */
static sg_node *res_apply(sg_graph *g, const res_m *m, sg_node *x)
{
    sg_node *shortcut = sg_conv_bn_module_apply(g, &m->skip_conv, &m->skip_bn, false, 0.0f, x);
    sg_node *h;
    if (m->stem)
        h = sg_conv_bn_module_apply(g, &m->conv1, &m->bn1, true, 0.0f, x);
    else
        h = sg_conv_bn_module_apply(g, &m->conv1, &m->bn2, true, 0.0f, sg_bn_act_module_apply(g, &m->bn1, 0.0f, x));
    return se_apply(g, &m->se, sg_conv_bn_module_apply_add(g, &m->conv2, NULL, h, shortcut));
}

static sg_node *aspp_apply(sg_graph *g, const aspp_m *m, sg_node *x)
{
    sg_node *sum = sg_conv_bn_module_apply(g, &m->conv[0], &m->bn[0], false, 0.0f, x);
    for (int i = 1; i < 4; i++)
        sum = sg_conv_bn_module_apply_add(g, &m->conv[i], &m->bn[i], x, sum);
    return sg_conv_module_apply(g, &m->out_conv, sum);
}

static sg_node *attention_apply(sg_graph *g, const attention_m *m, sg_node *gate, sg_node *x)
{
    sg_node *gp = sg_graph_maxpool2x2(g, sg_conv_module_apply(g, &m->g_conv, sg_bn_act_module_apply(g, &m->g_bn, 0.0f, gate)));
    sg_node *sum = sg_conv_bn_module_apply_add(g, &m->x_conv, NULL, sg_bn_act_module_apply(g, &m->x_bn, 0.0f, x), gp);
    sg_node *a = sg_conv_module_apply(g, &m->out_conv, sg_bn_act_module_apply(g, &m->out_bn, 0.0f, sum));
    return sg_graph_mul(g, a, x);
}

static sg_node *decoder_apply(sg_graph *g, const decoder_m *m, sg_node *gate, sg_node *x)
{
    sg_node *d = attention_apply(g, &m->attn, gate, x);
    d = m->transposed ? sg_conv_module_apply(g, &m->up, d) : sg_graph_upsample2x(g, d);
    return res_apply(g, &m->res, sg_graph_concat(g, d, gate));
}

/* What the decoder gets of encoder level `level` (1..3): its features, or zeros
 * of their shape where the model leaves that skip out. */
static sg_node *skip(const sg_pp_generator *G, sg_graph *g, int level, sg_node *features)
{
    if (!features || !(G->dropped_skips & (1u << (level - 1))))
        return features;
    return sg_graph_zeros(g, sg_tensor_shape(features->value));
}

sg_node *sg_pp_generator_forward(const sg_pp_generator *G, sg_graph *g, sg_node *x)
{
    sg_node *c1 = res_apply(g, &G->c1, x);
    sg_node *c2 = res_apply(g, &G->c2, c1);
    sg_node *c3 = res_apply(g, &G->c3, c2);
    sg_node *c4 = res_apply(g, &G->c4, c3);
    sg_node *b = aspp_apply(g, &G->bridge, c4);
    sg_node *d1 = decoder_apply(g, &G->d1, skip(G, g, 3, c3), b);
    sg_node *d2 = decoder_apply(g, &G->d2, skip(G, g, 2, c2), d1);
    sg_node *d3 = decoder_apply(g, &G->d3, skip(G, g, 1, c1), d2);
    return sg_conv_module_apply(g, &G->head_conv, aspp_apply(g, &G->head_aspp, d3));
}
