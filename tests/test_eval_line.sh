#!/bin/sh
# sgad eval --line: the generated line as an evaluation suite. Usage errors;
# the baselines alone on a short stretch (a black rectangle over a sixteenth of
# the frame is plain to a mean-frame distance, plain or standardised per pixel:
# ROC AUC >= 0.8 on every run, and
# at pixel level against the painted pixels);
# then the bundled model given the spec's frame score (sgad calibrate) on a few
# frames, where the checkpoint's own score and the mean of its heat maps are the
# same score computed two ways, so their figures must agree; and the bundled
# model as it is (max,std, its per-pixel statistics in the checkpoint) gives
# on the suite's frames and on the same frames through the real pipeline
# (inspectionsrc ! anomalyinject ! skipganomaly ! anomalyexport) the same ROC
# AUC (all four kinds: an AUC short of 1 that any other frame or
# defect would move), so the suite's frames are the elements' frames, and
# the same pixel ROC AUC and AUPRO (anomalyexport's, from anomalyinject's
# truth-mask), so the stream's pixel truth is the suite's.
#
#   test_eval_line.sh PATH/TO/sgad SOURCE_ROOT PLUGIN_DIR
set -eu

SGAD=$1
MODEL=$2/models/line-inspection.safetensors
. "$(dirname "$0")/cli_checks.sh"

echo "# usage errors"
expect_rc 2 "$SGAD" eval --line --kinds dent
expect_rc 2 "$SGAD" eval --line --calib-first 1850
expect_rc 2 "$SGAD" eval --line --frames 5
expect_rc 2 "$SGAD" eval --line --object teapot
expect_rc 0 "$SGAD" eval --line --help
grep -q "nearest normal frame" "$TMP/last" && ok "help names the baselines" || fail "help"

echo "# baselines alone"
expect_rc 0 "$SGAD" eval --line --frames 60 --seeds 1,2 --kinds missing,scratch --normal-frames 60 \
    --calib-frames 100 --csv "$TMP/b.csv"
rows=$(($(wc -l <"$TMP/b.csv") - 1))
[ "$rows" = 16 ] && ok "CSV: 4 baselines x 2 kinds x 2 seeds" || fail "CSV has $rows rows, want 16"
for m in "mean frame" "standardised mean frame (max)"; do
    bad=$(awk -F, -v m="\"baseline: $m\"" '$1 == m && $2 == "missing" && $6 < 0.8' "$TMP/b.csv" | wc -l)
    n=$(awk -F, -v m="\"baseline: $m\"" '$1 == m && $2 == "missing"' "$TMP/b.csv" | wc -l)
    [ "$n" = 2 ] && [ "$bad" = 0 ] && ok "$m finds missing regions (AUC >= 0.8 on each seed)" ||
        fail "$m: $n runs on missing, $bad with AUC < 0.8"
done
grep -q "^defects: scratch" "$TMP/last" && ok "a table per kind" || fail "no table for scratch"
# the tablet line: other frames, so other figures for the same run (seed 1, missing)
expect_rc 0 "$SGAD" eval --line --object tablet --frames 60 --seeds 1 --kinds missing --normal-frames 60 \
    --calib-frames 100 --csv "$TMP/t.csv"
cap=$(awk -F, '$1 == "\"baseline: mean frame\"" && $2 == "missing" && $3 == 1 { print $6, $10 }' "$TMP/b.csv")
tab=$(awk -F, '$1 == "\"baseline: mean frame\"" && $2 == "missing" && $3 == 1 { print $6, $10 }' "$TMP/t.csv")
[ -n "$tab" ] && [ "$tab" != "$cap" ] && ok "--object tablet scores other frames (mean frame: $tab; caps: $cap)" ||
    fail "--object tablet: mean frame '$tab', caps '$cap'"
# pixel level: where anomalyinject painted, against the mean frame's per-pixel distance; a black
# rectangle is plain there, so a misplaced or empty mask shows (pixel AUC near 0.5, AUPRO near 0)
px=$(sed -n '/^pixel level/,$p' "$TMP/last" | awk '/baseline: mean frame/ { print $4, $5 }')
echo "$px" | awk '{ exit !($1 >= 0.9 && $2 >= 0.7) }' && ok "pixel AUC, AUPRO of the mean frame on missing: $px" ||
    fail "mean frame on missing regions: pixel AUC, AUPRO '$px' (want >= 0.9, >= 0.7)"

echo "# the bundled model, given the spec's mean (sgad calibrate), beside them"
expect_rc 0 "$SGAD" calibrate --model "$MODEL" --out "$TMP/mean.safetensors" --frame-score mean --quantile 0.9 \
    --line 200000 --frames 20
expect_rc 0 "$SGAD" eval --line --model "$TMP/mean.safetensors" --frames 30 --seeds 1 --kinds missing \
    --normal-frames 20 --calib-frames 40 --csv "$TMP/m.csv"
own=$(grep '^"model: checkpoint score' "$TMP/m.csv" | cut -d, -f6-9)
mean=$(grep '^"model: heat mean",' "$TMP/m.csv" | cut -d, -f6-9)
[ -n "$own" ] && [ "$own" = "$mean" ] && ok "checkpoint score = heat-map mean ($own)" ||
    fail "checkpoint score '$own' differs from the heat-map mean '$mean'"
grep -q '^"model: heat topk=0.01,smooth=1,std"' "$TMP/m.csv" && ok "standardised top-k row" || fail "no top-k row"

echo "# the same frames through the pipeline"
export GST_PLUGIN_PATH=$3 GST_REGISTRY="$TMP/registry.bin"
expect_rc 0 "$SGAD" eval --line --model "$MODEL" --frames 40 --seeds 1 --kinds all --fraction 0.3 \
    --normal-frames 10 --calib-frames 20 --csv "$TMP/p.csv"
suite_auc=$(grep '^"model: checkpoint score' "$TMP/p.csv" | cut -d, -f6)
suite_px=$(sed -n '/^pixel level/,$p' "$TMP/last" | awk '/model: error map  / { print $4, $5 }')
expect_rc 0 gst-launch-1.0 -q inspectionsrc seed=11 first-frame=1800 num-buffers=40 \
    ! anomalyinject seed=1 fraction=0.3 defects=scratch+spot+missing+color-shift size=0.25 \
    ! skipganomaly model="$MODEL" ! anomalyexport location="$TMP/p.jsonl" summary=true ! fakesink
pipe_auc=$(python3 - "$TMP/p.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"frame"')]
pos = [r["score"] for r in rows if r["truth"] == 1]
neg = [r["score"] for r in rows if r["truth"] == 0]
pairs = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
print("%.6f" % (pairs / (len(pos) * len(neg))))
PY
)
[ -n "$suite_auc" ] && [ "$suite_auc" = "$pipe_auc" ] && ok "the pipeline's ROC AUC equals the suite's ($pipe_auc)" ||
    fail "pipeline ROC AUC '$pipe_auc', the suite's '$suite_auc'"
# pixel level: anomalyexport ranks the heat maps against anomalyinject's truth-mask as the suite
# ranks its model's raw error maps against the painted pixels (printed to 3 decimals)
pipe_px=$(python3 -c 'import json, sys; s = json.loads(open(sys.argv[1]).read().splitlines()[-1])["summary"]
print("%.3f %.3f" % (s["pixel-auc"], s["pixel-aupro"]))' "$TMP/p.jsonl")
[ -n "$suite_px" ] && [ "$suite_px" = "$pipe_px" ] &&
    ok "the pipeline's pixel AUC and AUPRO equal the suite's ($pipe_px)" ||
    fail "pipeline pixel AUC, AUPRO '$pipe_px', the suite's '$suite_px'"
exit $FAILED
