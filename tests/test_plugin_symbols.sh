#!/usr/bin/env bash
# The plugin exports only what GStreamer loads (GST_PLUGIN_DEFINE's entry
# points); the meta's helpers come from libsgadmeta, which exports only them.
#   test_plugin_symbols.sh libgstsgad.so libsgadmeta.so
set -u
FAILED=0
check() { # check LIBRARY EXPECTED-SYMBOLS...
    local lib="$1"; shift
    local got want
    got=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    if [ "$got" = "$want" ]; then
        echo "ok - $(basename "$lib") exports: $got"
    else
        echo "FAIL - $(basename "$lib") exports: $got"
        echo "       expected only: $want"
        FAILED=1
    fi
}
check "$1" gst_plugin_sgad_get_desc gst_plugin_sgad_register
check "$2" sgad_anomaly_meta_register sgad_buffer_set_anomaly_result sgad_buffer_get_anomaly_result \
    sgad_buffer_set_anomaly_truth sgad_buffer_get_anomaly_truth sgad_buffer_set_anomaly_source \
    sgad_buffer_set_anomaly_pending sgad_buffer_get_anomaly_source sgad_buffer_set_anomaly_truth_mask \
    sgad_buffer_get_anomaly_truth_mask
exit $FAILED
