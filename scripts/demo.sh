#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the demo: a line-inspection run on a
# generated stream. A small model is first trained on clean frames of the stream
# (skipganomaly mode=train), then defects are painted into a share of the frames
# (anomalyinject), every frame is scored (skipganomaly), and the scores are
# compared with the truth (anomalyexport prints the ROC AUC).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized
ninja -C "$build"

export SGAD_BUILD="$PWD/$build"
mkdir -p demo-output
cd demo-output
FRAMES=${FRAMES:-60} TRAIN_FRAMES=${TRAIN_FRAMES:-48} EPOCHS=${EPOCHS:-2} FRACTION=${FRACTION:-0.3} \
    bash ../pipelines/line-inspection.sh "$@"
