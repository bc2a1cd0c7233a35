#!/usr/bin/env bash
# examples/anomaly_watch.py, the Python (GI) application: the bundled model on
# 40 frames of the generated line, half of them with a painted defect. It must
# end at EOS, see a result on every frame (a file: synchronous scoring), print
# one ANOMALY line per flagged frame (as many as its summary counts), flag at
# least one frame and only painted ones (truth=1: the spot of frame 15 scores
# 12.3 against a threshold of 0.25), and print the anomaly-start event.
#   test_example_watch.sh PYTHON SOURCE_ROOT
set -euo pipefail
python="$1"
src="$2"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$python" "$src/examples/anomaly_watch.py" --model "$src/models/line-inspection.safetensors" --frames 40 \
    --fraction 0.5 >"$out"
cat "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
grep -q '^SUMMARY frames=40 with-result=40 ' "$out" || fail "not every frame carried a result"
flagged=$(grep -c '^ANOMALY ' "$out" || true)
grep -q "^SUMMARY .* anomalous=$flagged\$" "$out" || fail "$flagged ANOMALY lines, the summary says otherwise"
[ "$flagged" -ge 1 ] || fail "no anomaly printed"
if grep '^ANOMALY ' "$out" | grep -vq ' truth=1'; then fail "a frame without a defect was flagged"; fi
grep -q '^EVENT anomaly-start ' "$out" || fail "no anomaly-start event"
grep -q '^STATS frames=40 scored=40 skipped=0 dropped=0 scoring=sync$' "$out" || fail "no final stats"
echo "ok: $flagged anomalies"
