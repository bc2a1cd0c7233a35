#!/usr/bin/env bash
# Frames per second of the skipganomaly element on a file (non-live, so sync scoring) at score-batch 1
# against batched: recordings of the generated line at 320x240 and 1280x720 (Motion-JPEG in AVI),
# decoded in their own thread (a queue before the element), scored with the bundled 32x32 model and,
# with --size64, a 64x64 model of the same width trained for one epoch here (its speed is what matters).
# Prints a Markdown table (docs/benchmarks.md). frames/s is wall-clock over the whole run; CPU ms per
# frame is user + system time of the whole run (all threads, the start of about a second included).
# BUILD_DIR (relative to the source root) picks another build, e.g. one of an earlier commit.
#   bash scripts/bench-element-batch.sh [--size64] [--frames N] [--batches "1 4 16"]   (after a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD_DIR:-build}
export GST_PLUGIN_PATH="$root/$build/gst-plugin"
frames=60 batches="1 4 16" size64=0
while (($#)); do
    case "$1" in
    --frames) frames=$2; shift ;;
    --batches) batches=$2; shift ;;
    --size64) size64=1 ;;
    *) echo "usage: $0 [--size64] [--frames N] [--batches \"1 4 16\"]" >&2; exit 2 ;;
    esac
    shift
done
work=$(mktemp -d "${TMPDIR:-/tmp}"/sgad-bench-batch-XXXXXX)
trap 'rm -rf "$work"' EXIT
models=("$root/models/line-inspection.safetensors")
if ((size64)); then
    # as scripts/bench-review.sh: 64 frames of the line, one epoch at 64x64 with the bundled model's width
    mkdir -p "$work/frames"
    gst-launch-1.0 -q inspectionsrc seed=11 num-buffers=64 ! video/x-raw,width=320,height=240 ! videoconvert \
        ! pngenc ! multifilesink location="$work/frames/%03d.png"
    "$root/$build/tools/sgad" train --dataset folder --data "$work/frames" --size 64 --width 0.25 \
        --epochs 1 --batch-size 16 --holdout 0.25 --out "$work/size64.safetensors" >/dev/null 2>&1
    models+=("$work/size64.safetensors")
fi

echo "| recording | input size | score-batch | frames/s | CPU ms/frame |"
echo "|---|---|---|---|---|"
for res in 320x240 1280x720; do
    gst-launch-1.0 -q inspectionsrc seed=11 first-frame=1800 num-buffers="$frames" \
        ! "video/x-raw,width=${res%x*},height=${res#*x},framerate=25/1" ! videoconvert ! jpegenc quality=85 \
        ! avimux ! filesink location="$work/line-$res.avi"
done
for model in "${models[@]}"; do
    size=$(case "$model" in *size64*) echo 64 ;; *) echo 32 ;; esac)
    for res in 320x240 1280x720; do
        for b in $batches; do
            TIMEFORMAT="%R %U %S" # bash's own: the GPU machine has no /usr/bin/time
            { time gst-launch-1.0 -q filesrc location="$work/line-$res.avi" \
                ! avidemux ! jpegdec ! videoconvert ! queue max-size-buffers=64 max-size-time=0 max-size-bytes=0 \
                ! skipganomaly model="$model" score-batch="$b" ! fakesink sync=false >/dev/null 2>&1; } 2>"$work/time"
            read -r wall user sys <"$work/time"
            awk -v r="$res" -v s="$size" -v b="$b" -v n="$frames" -v w="$wall" -v u="$user" -v t="$sys" \
                'BEGIN { printf "| %s, %d frames | %d | %d | %.2f | %.0f |\n", r, n, s, b, n / w, 1000 * (u + t) / n }'
        done
    done
done
