#!/usr/bin/env bash
# Soak: FRAMES frames (default 100,000) of the generated line at 160x120 through
#   inspectionsrc ! anomalyinject ! skipganomaly (the bundled width-0.25 model) ! anomalyoverlay ! anomalyexport
# with a hot reload of the model every RELOAD_EVERY frames (default 1,000), alternating
# between two copies of it, at skipganomaly's score-batch SCORE_BATCH (default 1).
# Every SAMPLE_EVERY frames (default 500) it samples the process's resident memory and,
# on an NVIDIA GPU, the device memory it holds (nvidia-smi; "-" elsewhere: on lavapipe
# device memory is host memory, in the resident size). Writes OUT (default soak.csv:
# frame,seconds,rss_mib,device_mib) and prints the growth after warm-up (the first 10%
# of the frames). The driver is build/tests/sgad-soak (tests/soak.c). Too long for CI
# (hours on lavapipe); a developer runs it:
#
#   bash tests/soak.sh                                  # the full soak
#   FRAMES=2000 RELOAD_EVERY=200 bash tests/soak.sh     # a quick check that it runs
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SGAD_BUILD:-build}"
export GST_PLUGIN_PATH="$PWD/$build/gst-plugin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}"/sgad-soak-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp models/line-inspection.safetensors "$tmp/a.safetensors"
cp models/line-inspection.safetensors "$tmp/b.safetensors"
# in the background, so that a SIGTERM or Ctrl-C (a time limit, say) reaches the driver, which then
# writes the samples it took
"$build/tests/sgad-soak" --frames "${FRAMES:-100000}" --reload-every "${RELOAD_EVERY:-1000}" \
    --sample-every "${SAMPLE_EVERY:-500}" --score-batch "${SCORE_BATCH:-1}" \
    --model-a "$tmp/a.safetensors" --model-b "$tmp/b.safetensors" \
    --csv "${OUT:-soak.csv}" --jsonl "$tmp/scores.jsonl" &
driver=$!
trap 'kill -TERM $driver 2>/dev/null' TERM INT
rc=0
wait $driver || rc=$?
if ((rc > 128)); then # the trap ran: wait for the driver to finish writing
    rc=0
    wait $driver || rc=$?
fi
exit $rc
