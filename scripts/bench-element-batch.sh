#!/usr/bin/env bash
# Frames per second of the skipganomaly element on a file (non-live, so sync scoring) at score-batch 1
# against batched: recordings of the generated line at 320x240 and 1280x720 (Motion-JPEG in AVI),
# decoded in their own thread (a queue before the element), scored with the bundled 32x32 model.
# Prints a Markdown table (docs/benchmarks.md). frames/s is wall-clock over the whole run; CPU ms per
# frame is user + system time of the whole run (all threads, the start of about a second included).
#   bash scripts/bench-element-batch.sh [--frames N] [--batches "1 4 16"]   (after a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD_DIR:-build}
export GST_PLUGIN_PATH="$root/$build/gst-plugin"
frames=60 batches="1 4 16"
while (($#)); do
    case "$1" in
    --frames) frames=$2; shift ;;
    --batches) batches=$2; shift ;;
    *) echo "usage: $0 [--frames N] [--batches \"1 4 16\"]" >&2; exit 2 ;;
    esac
    shift
done
work=$(mktemp -d "${TMPDIR:-/tmp}"/sgad-bench-batch-XXXXXX)
trap 'rm -rf "$work"' EXIT
model="$root/models/line-inspection.safetensors"

echo "| recording | input size | score-batch | frames/s | CPU ms/frame |"
echo "|---|---|---|---|---|"
for res in 320x240 1280x720; do
    gst-launch-1.0 -q inspectionsrc seed=11 first-frame=1800 num-buffers="$frames" \
        ! "video/x-raw,width=${res%x*},height=${res#*x},framerate=25/1" ! videoconvert ! jpegenc quality=85 \
        ! avimux ! filesink location="$work/line-$res.avi"
    for b in $batches; do
        TIMEFORMAT="%R %U %S"
        { time gst-launch-1.0 -q filesrc location="$work/line-$res.avi" \
            ! avidemux ! jpegdec ! videoconvert ! queue max-size-buffers=64 max-size-time=0 max-size-bytes=0 \
            ! skipganomaly model="$model" score-batch="$b" ! fakesink sync=false >/dev/null 2>&1; } 2>"$work/time"
        read -r wall user sys <"$work/time"
        awk -v r="$res" -v b="$b" -v n="$frames" -v w="$wall" -v u="$user" -v s="$sys" \
            'BEGIN { printf "| %s, %d frames | 32 | %d | %.2f | %.0f |\n", r, n, b, n / w, 1000 * (u + s) / n }'
    done
done
