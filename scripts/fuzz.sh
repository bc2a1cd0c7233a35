#!/usr/bin/env bash
# Fuzz the readers of hostile input with libFuzzer (clang), under
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     each target for SECONDS (default 60)
#   scripts/fuzz.sh --ci                      what CI runs: every target, 25 s each
#
# Targets: safetensors checkpoint idx cifar10 image roi (tests/fuzz/fuzz_*.c).
# The build goes to build-fuzz/ (BUILD_DIR_FUZZ to change). Seeds come from
# tests/fuzz/corpus/<target>/ (read only); what libFuzzer finds goes to
# build-fuzz/corpus/<target>/, a crash to build-fuzz/crash-<target>-*.
# Ends with a line "fuzz: N passed, N failed"; exits 1 when a target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=60
if [ "${1:-}" = "--ci" ]; then
  seconds=25
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors checkpoint idx cifar10 image roi)

build=${BUILD_DIR_FUZZ:-build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" --buildtype=debugoptimized -Dfuzzing=true -Db_sanitize=address,undefined \
    -Db_lundef=false || exit 1
fi
ninja -C "$build" $(printf "tests/fuzz/fuzz_%s " "${targets[@]}") || exit 1

# undefined behaviour is a finding, not a note; lavapipe's own one-time
# allocations are not this project's leaks
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
passed=0 failed=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  echo "fuzz_$t: ${seconds} s"
  if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096 -timeout=20 \
      -artifact_prefix="$build/crash-$t-" -print_final_stats=1 \
      "$build/corpus/$t" "tests/fuzz/corpus/$t" >"$build/fuzz-$t.log" 2>&1; then
    echo "ok - fuzz_$t: $(grep -E '^stat::number_of_executed_units' "$build/fuzz-$t.log" | awk '{print $2}') runs, no crash"
    passed=$((passed + 1))
  else
    echo "FAIL - fuzz_$t (log: $build/fuzz-$t.log; input: $(ls "$build"/crash-"$t"-* 2>/dev/null | head -1))"
    tail -40 "$build/fuzz-$t.log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
