/* The heat maps' colour maps (sgad/colormap.h). */
#include <math.h>

#include "sgad/colormap.h"

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

void sg_colormap_rgb(sg_colormap map, double t, uint8_t rgb[3])
{
    t = isnan(t) ? 1.0 : clamp01(t);
    if (map == SG_COLORMAP_JET) {
        /* piecewise linear, as MATLAB's jet */
        rgb[0] = (uint8_t)lrint(255.0 * clamp01(1.5 - fabs(4.0 * t - 3.0)));
        rgb[1] = (uint8_t)lrint(255.0 * clamp01(1.5 - fabs(4.0 * t - 2.0)));
        rgb[2] = (uint8_t)lrint(255.0 * clamp01(1.5 - fabs(4.0 * t - 1.0)));
        return;
    }
    /* matplotlib's inferno sampled at 0, 0.1, ..., 1, interpolated linearly */
    static const uint8_t inferno[11][3] = {{0, 0, 4},      {22, 11, 57},   {66, 10, 104},  {106, 23, 110},
                                           {147, 38, 103}, {188, 55, 84},  {221, 81, 58},  {243, 120, 25},
                                           {252, 165, 10}, {246, 215, 70}, {252, 255, 164}};
    double x = t * 10.0;
    int i = x >= 9.0 ? 9 : (int)x;
    double f = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lrint(inferno[i][c] * (1.0 - f) + inferno[i + 1][c] * f);
}
