#!/usr/bin/env bash
# Frames per second of `sgad review` (decoding, preprocessing, scoring and the report) on recordings of
# the generated line at 320x240 and 1280x720 (Motion-JPEG in AVI), at batch 1 against batched, with the
# bundled 32x32 model and, when --size64 is given, a 64x64 model of the same width trained for one
# epoch here (its speed is what matters, not its quality). Prints a Markdown table (docs/benchmarks.md).
# CPU ms per frame includes the start (device, model: about a second of CPU).
#   bash scripts/bench-review.sh [--size64] [--frames N] [--batches "1 16"]   (after a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD_DIR:-build}
export GST_PLUGIN_PATH="$root/$build/gst-plugin"
sgad="$root/$build/tools/sgad"
frames=200 frames64=40 batches="1 16" size64=0
while (($#)); do
    case "$1" in
    --size64) size64=1 ;;
    --frames) frames=$2; shift ;;
    --batches) batches=$2; shift ;;
    *) echo "usage: $0 [--size64] [--frames N] [--batches \"1 16\"]" >&2; exit 2 ;;
    esac
    shift
done
work=$(mktemp -d "${TMPDIR:-/tmp}"/sgad-bench-review-XXXXXX)
trap 'rm -rf "$work"' EXIT

for n in $frames $frames64; do
    for res in 320x240 1280x720; do
        gst-launch-1.0 -q inspectionsrc seed=11 first-frame=1800 num-buffers="$n" \
            ! "video/x-raw,width=${res%x*},height=${res#*x},framerate=25/1" ! videoconvert ! jpegenc quality=85 \
            ! avimux ! filesink location="$work/line-$res-$n.avi"
    done
done

models=("$root/models/line-inspection.safetensors")
if ((size64)); then
    # 64 frames of the line as PNG files, one epoch at 64x64 with the bundled model's width
    mkdir -p "$work/frames"
    gst-launch-1.0 -q inspectionsrc seed=11 num-buffers=64 ! video/x-raw,width=320,height=240 ! videoconvert \
        ! pngenc ! multifilesink location="$work/frames/%03d.png"
    "$sgad" train --dataset folder --data "$work/frames" --size 64 --width 0.25 --epochs 1 --batch-size 16 \
        --holdout 0.25 --out "$work/size64.safetensors" >/dev/null 2>&1
    models+=("$work/size64.safetensors")
fi

# frames/s is wall-clock (the whole run: decoding, preprocessing, scoring, the report); CPU ms per frame
# (user + system, all threads) says the same with less noise on a shared machine
echo "| recording | input size | batch | frames/s | CPU ms/frame |"
echo "|---|---|---|---|---|"
for model in "${models[@]}"; do
    size=$(case "$model" in *size64*) echo 64 ;; *) echo 32 ;; esac)
    n=$frames
    [ "$size" = 64 ] && n=$frames64
    for res in 320x240 1280x720; do
        for batch in $batches; do
            rm -rf "$work/report"
            TIMEFORMAT="%U %S"
            cpu=$( { time "$sgad" review "$work/line-$res-$n.avi" --model "$model" --out "$work/report" \
                --batch "$batch" --threshold 1e30 >"$work/out.txt" 2>/dev/null; } 2>&1)
            fps=$(sed -n 's/.*(\([0-9.]*\) frames\/s.*/\1/p' "$work/out.txt")
            ms=$(awk -v c="$cpu" -v n="$n" 'BEGIN { split(c, t, " "); printf "%.0f", (t[1] + t[2]) * 1000 / n }')
            echo "| $res, $n frames | $size | $batch | $fps | $ms |"
        done
    done
done
