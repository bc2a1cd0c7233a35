/* Colour maps of heat maps: a value t in [0, 1] (low to high error) to 8-bit
 * RGB. Shared by the anomalyoverlay element and `sgad review`'s report, so a
 * heat map looks the same on the live video and in the report. */
#ifndef SGAD_COLORMAP_H
#define SGAD_COLORMAP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_colormap {
    SG_COLORMAP_JET = 0, /* blue, cyan, yellow, red: MATLAB's jet */
    SG_COLORMAP_INFERNO, /* black, purple, orange, yellow: matplotlib's inferno */
} sg_colormap;

/* t is clamped to [0, 1]; NaN maps to the top (a score that is not a number never reads as normal). */
void sg_colormap_rgb(sg_colormap map, double t, uint8_t rgb[3]);

#ifdef __cplusplus
}
#endif
#endif
