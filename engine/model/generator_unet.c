/* The Skip-GANomaly baseline generator: pix2pix's U-Net with ngf 64 and
 * N = log2(S) levels (innermost map 1x1), unrolled as in the reference's
 * UNetGenerator docstring:
 *   e_i = down_i(e_{i-1}): [LeakyReLU(0.2) if i > 1] -> conv 4x4 s2 p1 -> [BN if 1 < i < N]
 *   decoder from h = e_N, i = N..1: u = up_i(h): ReLU -> convT 4x4 s2 p1 -> [BN if i > 1];
 *   h = concat(e_{i-1}, u) (skip first); output tanh(u) of level 1.
 * Only up1's transposed conv has a bias. */
#include <stdio.h>
#include <stdlib.h>

#include "../nn/modules.h"
#include "networks.h"

#define MAX_LEVELS 10
#define NGF 64

struct sg_unet_generator {
    int levels;
    sg_conv_module down[MAX_LEVELS + 1], up[MAX_LEVELS + 1];
    sg_bn_module down_bn[MAX_LEVELS + 1], up_bn[MAX_LEVELS + 1];
};

static int inner_width(int i, const sg_net_shape *c)
{
    int m = 1 << (i - 1);
    return sg_net_width(c, NGF) * (m < 8 ? m : 8);
}

sg_unet_generator *sg_unet_generator_create(sg_param_set *s, const sg_net_shape *c)
{
    sg_unet_generator *G = calloc(1, sizeof *G);
    if (!G)
        return NULL;
    int n = 0;
    while ((1 << n) < c->size)
        n++;
    G->levels = n;
    bool ok = n <= MAX_LEVELS;
    char name[32];
    for (int i = 1; i <= n && ok; i++) {
        int outer = i == 1 ? c->channels : inner_width(i - 1, c), inner = inner_width(i, c);
        snprintf(name, sizeof name, "down%d.conv", i);
        ok = sg_conv_module_declare(s, &G->down[i], name, outer, inner, 4, 2, 1, 1, false);
        if (ok && i > 1 && i < n) {
            snprintf(name, sizeof name, "down%d.bn", i);
            ok = sg_bn_module_declare(s, &G->down_bn[i], name, inner);
        }
    }
    for (int i = n; i >= 1 && ok; i--) {
        int outer = i == 1 ? c->channels : inner_width(i - 1, c), inner = inner_width(i, c);
        snprintf(name, sizeof name, "up%d.conv", i);
        ok = sg_conv_transpose_module_declare(s, &G->up[i], name, i == n ? inner : 2 * inner, outer, 4, 2, 1, i == 1);
        if (ok && i > 1) {
            snprintf(name, sizeof name, "up%d.bn", i);
            ok = sg_bn_module_declare(s, &G->up_bn[i], name, outer);
        }
    }
    if (!ok) {
        free(G);
        return NULL;
    }
    return G;
}

void sg_unet_generator_destroy(sg_unet_generator *G)
{
    free(G);
}

sg_node *sg_unet_generator_forward(const sg_unet_generator *G, sg_graph *g, sg_node *x)
{
    sg_node *e[MAX_LEVELS + 1];
    e[0] = x;
    for (int i = 1; i <= G->levels; i++) {
        sg_node *h = i > 1 ? sg_graph_activation(g, e[i - 1], SG_ACT_LEAKY_RELU, 0.2f) : e[i - 1];
        e[i] = sg_conv_bn_module_apply(g, &G->down[i], i > 1 && i < G->levels ? &G->down_bn[i] : NULL, false, 0.0f, h);
    }
    sg_node *h = e[G->levels], *u = NULL;
    for (int i = G->levels; i >= 1; i--) {
        u = sg_conv_bn_module_apply(g, &G->up[i], i > 1 ? &G->up_bn[i] : NULL, false, 0.0f,
                                    sg_graph_activation(g, h, SG_ACT_RELU, 0.0f));
        if (i > 1)
            h = sg_graph_concat(g, e[i - 1], u);
    }
    return sg_graph_activation(g, u, SG_ACT_TANH, 0.0f);
}
