/* The sgad GStreamer plugin: Skip-GANomaly++ anomaly detection in video.
 *   skipganomaly    scores frames (or trains on them) and attaches GstAnomalyMeta
 *   anomalyoverlay  draws the score, threshold bar, heat map and verdict
 *   anomalyinject   paints synthetic defects into some frames, with ground truth
 *   anomalyexport   writes one JSON line per frame from the meta
 *   anomalypublish  publishes the same JSON to an MQTT broker
 *   inspectionsrc   generates an inspection line: a conveyor carrying caps or tablets */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/gst.h>

#include <sgad/anomalymeta.h>

/* Each element's folder defines SGAD_HAVE_<ELEMENT> when it is built. */
#ifdef SGAD_HAVE_SKIPGANOMALY
GST_ELEMENT_REGISTER_DECLARE(skipganomaly);
#endif
#ifdef SGAD_HAVE_ANOMALY_ELEMENTS
GST_ELEMENT_REGISTER_DECLARE(anomalyoverlay);
GST_ELEMENT_REGISTER_DECLARE(anomalyinject);
GST_ELEMENT_REGISTER_DECLARE(anomalyexport);
GST_ELEMENT_REGISTER_DECLARE(inspectionsrc);
#endif
#ifdef SGAD_HAVE_ANOMALYPUBLISH
GST_ELEMENT_REGISTER_DECLARE(anomalypublish);
#endif

static gboolean plugin_init(GstPlugin *plugin)
{
    gboolean ok = TRUE;
    (void)plugin; /* unused when no element is built */
    sgad_anomaly_meta_register();
#ifdef SGAD_HAVE_SKIPGANOMALY
    ok &= GST_ELEMENT_REGISTER(skipganomaly, plugin);
#endif
#ifdef SGAD_HAVE_ANOMALY_ELEMENTS
    ok &= GST_ELEMENT_REGISTER(anomalyoverlay, plugin);
    ok &= GST_ELEMENT_REGISTER(anomalyinject, plugin);
    ok &= GST_ELEMENT_REGISTER(anomalyexport, plugin);
    ok &= GST_ELEMENT_REGISTER(inspectionsrc, plugin);
#endif
#ifdef SGAD_HAVE_ANOMALYPUBLISH
    ok &= GST_ELEMENT_REGISTER(anomalypublish, plugin);
#endif
    return ok;
}

#define PACKAGE "sgad"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, sgad,
                  "Skip-GANomaly++ anomaly detection and training on a Vulkan compute engine", plugin_init,
                  "0.1.0", "LGPL", "sgad", "https://github.com/sgad/sgad")
