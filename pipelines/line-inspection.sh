#!/usr/bin/env bash
# Validate an inspection line before deployment: paint synthetic defects into a
# known fraction of the frames (anomalyinject records which), score every frame
# (skipganomaly), and measure how well the scores separate the defective
# frames from the clean ones: anomalyexport computes the ROC AUC at EOS and
# posts it in its anomalyexport-summary message, which this script reads and
# prints (1.0: every defect scores above every clean frame; 0.5: chance).
#
#   ./line-inspection.sh [model.safetensors] [recording.mp4]
#
# Without a model, one is first trained here on clean frames of the same source
# (small and quick, for a demonstration). Without a recording, videotestsrc's
# colour bars stand in for the line.
#
# Environment: FRAMES (frames to inspect, 200), FRACTION (share of frames with a
# defect, 0.2), SEED (1: same seed, same defects on the same frames), DEFECTS
# (scratch+spot+missing+color-shift), SIZE (defect size relative to the frame,
# 0.15), OUT (JSON lines, line-inspection.jsonl), and for the quick training:
# TRAIN_FRAMES (64), EPOCHS (5), INPUT_SIZE (32), WIDTH (1), TRAIN_ON (passed to
# skipganomaly's train-on when set).
set -euo pipefail
. "$(dirname "$0")/common.sh"

model="${1:-}"
recording="${2:-}"
frames="${FRAMES:-200}"
out="${OUT:-line-inspection.jsonl}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

need_elements skipganomaly anomalyinject anomalyexport videoconvert videoscale fakesink

# the line: a recording, or a still test picture, at a modest size
caps="video/x-raw,width=320,height=240"
source_for() { # <frames>
    if [ -n "$recording" ]; then
        echo "filesrc location=$recording ! decodebin ! videoconvert ! videoscale ! $caps"
    else
        echo "videotestsrc num-buffers=$1 pattern=smpte ! $caps"
    fi
}

if [ -z "$model" ]; then
    model="line-inspection.safetensors"
    echo "training $model on clean frames first" >&2
    train=(mode=train model="$model" input-size="${INPUT_SIZE:-32}" width="${WIDTH:-1}"
        epochs="${EPOCHS:-5}" batch-size=8 learning-rate=0.0002 train-frames="${TRAIN_FRAMES:-64}")
    [ -n "${TRAIN_ON:-}" ] && train+=(train-on="$TRAIN_ON")
    # shellcheck disable=SC2046 # the source is a pipeline fragment, split on purpose
    launch $(source_for "${TRAIN_FRAMES:-64}") ! videoconvert ! skipganomaly "${train[@]}" ! fakesink sync=false
fi

# -m prints bus messages, among them the summary, which we keep in $log
# shellcheck disable=SC2046
launch -m $(source_for "$frames") \
    ! anomalyinject fraction="${FRACTION:-0.2}" seed="${SEED:-1}" defects="${DEFECTS:-scratch+spot+missing+color-shift}" \
        size="${SIZE:-0.15}" \
    ! videoconvert ! skipganomaly model="$model" \
    ! anomalyexport location="$out" summary=true \
    ! fakesink sync=false | tee "$log"

auc="$(summary_field "$log" auc)"
echo
echo "frames:    $(summary_field "$log" frames)"
echo "defective: $(summary_field "$log" positives)"
echo "flagged:   $(summary_field "$log" flagged)"
if [ -n "$auc" ]; then
    echo "ROC AUC:   $auc"
else
    echo "ROC AUC:   not available (no scored frames of both kinds)"
fi
echo "per-frame scores and truths: $out"
