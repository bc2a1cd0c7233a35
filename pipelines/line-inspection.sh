#!/usr/bin/env bash
# Validate an inspection line before deployment: paint synthetic defects into a
# known fraction of the frames (anomalyinject records which), score every frame
# (skipganomaly), draw the verdict on the video (anomalyoverlay), and measure
# how well the scores separate the defective frames from the clean ones:
# anomalyexport writes one JSON line per frame and posts the ROC AUC at EOS
# (1.0: every defect scores above every clean frame; 0.5: chance).
#
#   ./line-inspection.sh [model.safetensors] [recording]
#
# Without a model, the bundled default (models/line-inspection.safetensors) is
# used: it was trained on frames 0-1799 of inspectionsrc's line with seed 11
# (scripts/train-default-model.sh), so the generated line starts at frame 1800,
# which it has not seen. Without a recording, inspectionsrc generates that line:
# crown caps passing on a conveyor.
#
# Environment: FRAMES (frames to inspect, 300), FRACTION (share of frames with a
# defect, 0.2), LINE_SEED (11) and FIRST_FRAME (1800): which line and where on
# it, DEFECT_SEED (1: same seed, same defects on the same frames), DEFECTS
# (missing+spot+color-shift; add "scratch" to paint scratches too: a few pixels
# wide, they nearly vanish when a 320x240 frame shrinks to the model's 32x32, so
# the bundled model finds them worst (ROC AUC 0.82 at size 0.25 against 0.99 for
# spots): use tiles= or a larger input-size for those),
# SIZE (defect size relative to the frame, 0.3), VIDEO (annotated video, line-inspection.avi; "none" for none), OUT
# (JSON lines, line-inspection.jsonl).
set -euo pipefail
. "$(dirname "$0")/common.sh"

model="${1:-$here/../models/line-inspection.safetensors}"
recording="${2:-}"
frames="${FRAMES:-300}"
out="${OUT:-line-inspection.jsonl}"
video="${VIDEO:-line-inspection.avi}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

need_elements skipganomaly anomalyinject anomalyexport anomalyoverlay inspectionsrc videoconvert fakesink
[ -f "$model" ] || { echo "error: model '$model' not found" >&2; exit 1; }

if [ -n "$recording" ]; then
    source=(filesrc location="$recording" ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=320,height=240)
else
    source=(inspectionsrc seed="${LINE_SEED:-11}" first-frame="${FIRST_FRAME:-1800}" num-buffers="$frames"
        ! video/x-raw,width=320,height=240)
fi
if [ "$video" = none ]; then
    sink=(fakesink sync=false)
else
    need_elements jpegenc avimux filesink
    # Motion-JPEG in AVI: quick to encode on two cores, played by every player
    sink=(anomalyoverlay ! videoconvert ! jpegenc quality=85 ! avimux ! filesink location="$video")
fi

# -m prints bus messages, among them the summary, which we keep in $log
start=$(date +%s.%N)
launch -m "${source[@]}" \
    ! anomalyinject fraction="${FRACTION:-0.2}" seed="${DEFECT_SEED:-1}" defects="${DEFECTS:-missing+spot+color-shift}" \
        size="${SIZE:-0.3}" \
    ! skipganomaly model="$model" \
    ! anomalyexport location="$out" summary=true \
    ! "${sink[@]}" >"$log"
end=$(date +%s.%N)

n="$(summary_field "$log" frames)"
auc="$(summary_field "$log" auc)"
echo
echo "frames:          $n ($(awk -v n="$n" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f frames/s", n / (b - a) }'))"
echo "with a defect:   $(summary_field "$log" positives)"
echo "flagged:         $(summary_field "$log" flagged) (score above the model's threshold)"
if [ -n "$auc" ]; then
    printf 'ROC AUC:         %.3f\n' "$auc"
else
    echo "ROC AUC:         not available (no scored frames of both kinds)"
fi
echo "per-frame log:   $out"
[ "$video" = none ] || echo "annotated video: $video"
