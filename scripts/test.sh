#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the whole test suite with the
# Khronos validation layer on. Ends with a line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1
build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=debugoptimized || exit 1
fi
ninja -C "$build" || exit 1

meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" 2>&1 | tee "$build/test-output.txt"
status=${PIPESTATUS[0]}

# meson's summary counts tests; report them in the plain form CI reads
passed=$(grep -E '^Ok:' "$build/test-output.txt" | awk '{print $2}')
failed=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$build/test-output.txt" | awk '{s += $2} END {print s + 0}')
skipped=$(grep -E '^Skipped:' "$build/test-output.txt" | awk '{print $2}')
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
