#!/usr/bin/env bash
# Part of the suite again under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer: the readers of files and the metrics, the tests
# that fit CI's time. It uses the clang build that scripts/fuzz.sh configures
# (build-fuzz/, -Db_sanitize=address,undefined); any other test can be run the
# same way, or a whole sanitized build made with
#   meson setup build-asan -Db_sanitize=address,undefined && meson test -C build-asan
#
#   scripts/sanitize.sh [TEST...]       default: safetensors dataset metrics
# Prints meson's summary (Ok:, Fail:) like the main suite.
set -uo pipefail
cd "$(dirname "$0")/.."
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(safetensors dataset metrics)
build=${BUILD_DIR_FUZZ:-build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" --buildtype=debugoptimized -Dfuzzing=true -Db_sanitize=address,undefined \
    -Db_lundef=false || exit 1
fi
ninja -C "$build" $(printf "tests/test_%s " "${tests[@]}") || exit 1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C "$build" --no-rebuild --print-errorlogs "${tests[@]}"
