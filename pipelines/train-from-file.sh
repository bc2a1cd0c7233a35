#!/usr/bin/env bash
# Train a model from a recording of normal (defect-free) production: the frames
# are decoded and fed to skipganomaly in train mode, which collects
# train-frames of them, trains for the given epochs, calibrates the threshold
# and writes the checkpoint (and every save-interval epochs on the way, so a
# long run can be interrupted with Ctrl-C and still leave a model).
#
#   ./train-from-file.sh normal.mp4 [out.safetensors]
#
# Environment (the model's shape is fixed here; scoring reads it back):
#   INPUT_SIZE (default 64: frames are resized to this square), WIDTH (model
#   width multiplier, default 0.25), EPOCHS (20: about 560 steps of 16 of the
#   450 frames not held out), BATCH_SIZE (16), LEARNING_RATE (0.001),
#   TRAIN_FRAMES (500: frames taken from the stream), SAVE_INTERVAL (5 epochs),
#   ROI ("x,y,width,height": learn only that part of the picture).
# The element's defaults do the rest: the generator without its upper skips,
# trained on the reconstruction alone (docs/training.md, "Skips left out").
set -euo pipefail
. "$(dirname "$0")/common.sh"

input="${1:?usage: $0 normal-video [out.safetensors]}"
model="${2:-out.safetensors}"

need_elements skipganomaly decodebin videoconvert fakesink

props=(mode=train model="$model"
    input-size="${INPUT_SIZE:-64}" width="${WIDTH:-0.25}"
    epochs="${EPOCHS:-20}" batch-size="${BATCH_SIZE:-16}" learning-rate="${LEARNING_RATE:-0.001}"
    train-frames="${TRAIN_FRAMES:-500}" save-interval="${SAVE_INTERVAL:-5}")
[ -n "${ROI:-}" ] && props+=(roi="$ROI")

# post-messages: training progress (epoch, losses) as element messages, which
# -m prints
launch -m filesrc location="$input" ! decodebin ! videoconvert \
    ! skipganomaly "${props[@]}" post-messages=true \
    ! fakesink sync=false
echo "model: $model"
echo "before trusting its threshold, calibrate it on a few hundred later normal frames:"
echo "  sgad calibrate --model $model --video later-normal.mp4 --stride 1 --frames 500   (docs/training.md, \"Calibrating a model trained on a short clip\")"
