/* The DCGAN discriminator of the spec (no biases anywhere):
 *   conv1 4x4(C->64, s2, p1) -> LeakyReLU(0.2);
 *   while the map is larger than 4x4: conv{k} 4x4(c->2c, s2, p1) -> bn{k} -> LeakyReLU(0.2);
 *   feature 4x4(c->100, s1, p0) = f(x); classifier 3x3(100->1, p1) -> sigmoid = D(x). */
#include <stdio.h>
#include <stdlib.h>

#include "../nn/modules.h"
#include "networks.h"

#define MAX_LEVELS 12

struct sg_discriminator {
    int levels; /* stride-2 convolutions, conv1..conv{levels} */
    sg_conv_module conv[MAX_LEVELS + 1];
    sg_bn_module bn[MAX_LEVELS + 1]; /* bn[k] for k >= 2 */
    sg_conv_module feature, classifier;
};

sg_discriminator *sg_discriminator_create(sg_param_set *s, int channels, int size)
{
    sg_discriminator *D = calloc(1, sizeof *D);
    if (!D)
        return NULL;
    char name[32];
    bool ok = sg_conv_module_declare(s, &D->conv[1], "conv1", channels, SG_DISC_NDF, 4, 2, 1, 1, false);
    int c = SG_DISC_NDF, map = size / 2, k = 1;
    while (ok && map > 4 && k < MAX_LEVELS) {
        k++;
        snprintf(name, sizeof name, "conv%d", k);
        ok = sg_conv_module_declare(s, &D->conv[k], name, c, 2 * c, 4, 2, 1, 1, false);
        snprintf(name, sizeof name, "bn%d", k);
        ok = ok && sg_bn_module_declare(s, &D->bn[k], name, 2 * c);
        c *= 2;
        map /= 2;
    }
    D->levels = k;
    ok = ok && sg_conv_module_declare(s, &D->feature, "feature", c, SG_DISC_NZ, 4, 1, 0, 1, false) &&
         sg_conv_module_declare(s, &D->classifier, "classifier", SG_DISC_NZ, 1, 3, 1, 1, 1, false);
    if (!ok) {
        free(D);
        return NULL;
    }
    return D;
}

void sg_discriminator_destroy(sg_discriminator *D)
{
    free(D);
}

sg_node *sg_discriminator_forward(const sg_discriminator *D, sg_graph *g, sg_node *x, sg_node **features)
{
    sg_node *h = sg_conv_bn_module_apply(g, &D->conv[1], NULL, true, 0.2f, x);
    for (int k = 2; k <= D->levels; k++)
        h = sg_conv_bn_module_apply(g, &D->conv[k], &D->bn[k], true, 0.2f, h);
    sg_node *f = sg_conv_module_apply(g, &D->feature, h);
    if (features)
        *features = f;
    return sg_graph_activation(g, sg_conv_module_apply(g, &D->classifier, f), SG_ACT_SIGMOID, 0.0f);
}
