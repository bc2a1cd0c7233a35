#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the demo: a line-inspection run on
# a generated conveyor line (inspectionsrc). Defects are painted into a share
# of the frames (anomalyinject), every frame is scored by the bundled default
# model (skipganomaly, models/line-inspection.safetensors), the verdict is drawn
# on the video (anomalyoverlay), and the scores are compared with the truth
# (anomalyexport). Results in demo-output/: the annotated video, the per-frame
# JSON lines, and the summary printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized
ninja -C "$build"

export SGAD_BUILD="$PWD/$build"
mkdir -p demo-output
cd demo-output
bash ../pipelines/line-inspection.sh "$@"
