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
rm -f "$build/fuzz-output.txt" "$build/sanitize-output.txt"  # a previous run's

meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" 2>&1 | tee "$build/test-output.txt"
status=${PIPESTATUS[0]}

# The readers of hostile input under libFuzzer with ASan and UBSan, 25 s per
# target (a separate clang build in build-fuzz/; docs/testing.md); each target
# counts as a test. SGAD_FUZZ=0 skips them.
fuzz_passed=0 fuzz_failed=0
if [ "${SGAD_FUZZ:-1}" != 0 ]; then
  bash scripts/fuzz.sh --ci 2>&1 | tee "$build/fuzz-output.txt"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  fuzz_passed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$build/fuzz-output.txt")
  fuzz_failed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$build/fuzz-output.txt")
  # a build that failed before any target ran is one failure
  [ -n "$fuzz_failed" ] || { fuzz_passed=0; fuzz_failed=1; }
fi

# The suite again under ASan + UBSan in a gcc build of its own (build-asan/,
# scripts/sanitize.sh says which tests and why); they count as tests of their
# own. SGAD_SANITIZE=0 (or SGAD_FUZZ=0) skips them.
san_passed=0 san_failed=0 san_skipped=0
if [ "${SGAD_FUZZ:-1}" != 0 ] && [ "${SGAD_SANITIZE:-1}" != 0 ]; then
  bash scripts/sanitize.sh 2>&1 | tee "$build/sanitize-output.txt"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  counts=$(sed -n 's/^sanitize: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
    "$build/sanitize-output.txt")
  if [ -n "$counts" ]; then
    read -r san_passed san_failed san_skipped <<< "$counts"
  else
    san_failed=1 # it ended before its count
  fi
fi

# CI shows only the end of this output: name what failed just above the count
failures=$(cat "$build/test-output.txt" "$build/fuzz-output.txt" "$build/sanitize-output.txt" 2>/dev/null |
  grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|UNEXPECTEDPASS) |^FAIL - ' | sed 's/^ */  /' | sort -u)
if [ -n "$failures" ]; then
  # the last lines each failed meson test printed (full logs: meson-logs/testlog.txt)
  python3 - "$build/meson-logs/testlog.json" "${BUILD_DIR_ASAN:-build-asan}/meson-logs/testlog.json" <<'PY' || true
import json, os, sys
for log in filter(os.path.exists, sys.argv[1:]):
    for line in open(log):
        t = json.loads(line)
        if t["result"] in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        print("--- %s: %s (%s), last lines:" % (os.path.dirname(os.path.dirname(log)), t["name"], t["result"]))
        for stream in ("stdout", "stderr"):
            for l in (t.get(stream) or "").splitlines()[-12:]:
                print("    " + l)
PY
  printf 'failed:\n%s\n' "$failures"
fi

# meson's summary counts tests; report them in the plain form CI reads
passed=$(grep -E '^Ok:' "$build/test-output.txt" | awk '{print $2}')
failed=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$build/test-output.txt" | awk '{s += $2} END {print s + 0}')
skipped=$(grep -E '^Skipped:' "$build/test-output.txt" | awk '{print $2}')
echo "$((${passed:-0} + fuzz_passed + san_passed)) passed, $((${failed:-0} + fuzz_failed + san_failed)) failed," \
  "$((${skipped:-0} + san_skipped)) skipped"
exit "$status"
