#!/usr/bin/env bash
# Inspect high-resolution frames with tiles: a 4K picture shrunk whole to the
# model's input size would lose a defect a few pixels wide, so skipganomaly
# cuts the region of interest into tiles, scores each at the model's
# resolution, and flags the frame when any tile is over the threshold. The
# overlay outlines the tiles (red: over the threshold) and blends the heat map
# stitched back (upsample) over the region; anomalyinject adds small defects
# so there is something to find.
#
#   ./highres-tiles.sh model.safetensors [annotated.avi]
#
# Environment: TILES (grid, COLSxROWS, default 4x4), ROI ("x,y,width,height" in
# frame pixels, default the centre 3200x1800 of the 3840x2160 frame), FRAMES
# (30), SIZE (defect size relative to the frame, 0.03), UPSAMPLE (passed to
# skipganomaly's upsample when set).
set -euo pipefail
. "$(dirname "$0")/common.sh"

model="${1:?usage: $0 model.safetensors [annotated.avi]}"
video="${2:-highres-tiles.avi}"
tiles="${TILES:-4x4}"
roi="${ROI:-320,180,3200,1800}"

need_elements skipganomaly anomalyinject anomalyoverlay anomalyexport videoconvert videoscale jpegenc avimux

props=(model="$model" tiles="$tiles" roi="$roi" post-messages=true)
[ -n "${UPSAMPLE:-}" ] && props+=(upsample="$UPSAMPLE")

# the overlay draws at full resolution; the copy on disk is scaled to 1080p
launch videotestsrc num-buffers="${FRAMES:-30}" pattern=smpte ! video/x-raw,width=3840,height=2160 \
    ! anomalyinject fraction=0.3 seed=2 size="${SIZE:-0.03}" roi="$roi" \
    ! videoconvert ! skipganomaly "${props[@]}" \
    ! anomalyexport location="${video%.*}.jsonl" summary=true \
    ! videoconvert ! anomalyoverlay show-tiles=true show-roi=true \
    ! videoscale ! video/x-raw,width=1920,height=1080 ! videoconvert ! jpegenc ! avimux ! filesink location="$video"
echo "annotated video: $video   scores: ${video%.*}.jsonl"
