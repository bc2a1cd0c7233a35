#!/usr/bin/env bash
# Score a recorded video file (any container/codec decodebin handles): writes
# one JSON line per frame and an annotated copy of the video (MJPEG in AVI,
# encoders that are always in gst-plugins-good).
#
#   ./score-file.sh input.mp4 model.safetensors [scores.jsonl] [annotated.avi]
#
# Environment: THRESHOLD (empty: the model's calibrated one), ROI
# ("x,y,width,height" to score only part of the picture), DEVICE (Vulkan
# device index for skipganomaly).
set -euo pipefail
. "$(dirname "$0")/common.sh"

input="${1:?usage: $0 input-video model.safetensors [scores.jsonl] [annotated.avi]}"
model="${2:?usage: $0 input-video model.safetensors [scores.jsonl] [annotated.avi]}"
out="${3:-${input%.*}.jsonl}"
video="${4:-${input%.*}-scored.avi}"

need_elements skipganomaly anomalyoverlay anomalyexport decodebin videoconvert jpegenc avimux

props=(model="$model")
[ -n "${THRESHOLD:-}" ] && props+=(threshold="$THRESHOLD")
[ -n "${ROI:-}" ] && props+=(roi="$ROI")
[ -n "${DEVICE:-}" ] && props+=(device="$DEVICE")

# summary=true: the last line holds frames/scored/flagged counts
launch filesrc location="$input" ! decodebin ! videoconvert \
    ! skipganomaly "${props[@]}" \
    ! anomalyexport location="$out" summary=true \
    ! videoconvert ! anomalyoverlay ! videoconvert ! jpegenc ! avimux ! filesink location="$video"
echo "scores: $out   annotated video: $video"
