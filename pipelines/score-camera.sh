#!/usr/bin/env bash
# Score a live camera: every frame of a V4L2 camera goes through skipganomaly,
# the result is drawn on the picture (heat map, score bar, red border on
# anomalous frames) and written as JSON lines.
#
#   ./score-camera.sh model.safetensors [/dev/video0]
#
# Environment: THRESHOLD (empty: the one calibrated into the model), INTERVAL
# (score every n-th frame; 1 = all), OUT (JSON-lines file, default
# camera.jsonl), SINK (default autovideosink; fakesink for a headless box).
# Without a camera at the given device, videotestsrc stands in so the pipeline
# can still be tried.
set -euo pipefail
. "$(dirname "$0")/common.sh"

model="${1:?usage: $0 model.safetensors [/dev/videoN]}"
device="${2:-/dev/video0}"
out="${OUT:-camera.jsonl}"
sink="${SINK:-autovideosink}"
interval="${INTERVAL:-1}"

need_elements skipganomaly anomalyoverlay anomalyexport videoconvert "${sink%% *}"

if [ -e "$device" ]; then
    source=(v4l2src device="$device")
else
    echo "note: no camera at $device; using videotestsrc instead" >&2
    source=(videotestsrc is-live=true pattern=ball)
fi
threshold=()
[ -n "${THRESHOLD:-}" ] && threshold=(threshold="$THRESHOLD")

# $sink unquoted: it may carry properties ("autovideosink sync=false")
# A live source gets asynchronous scoring (skipganomaly scoring=auto): frames
# go on at the camera's rate with the newest result, the scorer skips (and
# counts) the frames it has no time for, none is dropped from the video.
# queue: capture and drawing in threads of their own. post-messages: one
# element message per scored frame on the bus, for applications watching it.
# shellcheck disable=SC2086
launch "${source[@]}" ! videoconvert ! queue max-size-buffers=2 \
    ! skipganomaly model="$model" interval="$interval" post-messages=true "${threshold[@]}" \
    ! anomalyexport location="$out" \
    ! videoconvert ! anomalyoverlay show-heatmap=true heatmap-alpha=0.4 \
    ! videoconvert ! $sink
