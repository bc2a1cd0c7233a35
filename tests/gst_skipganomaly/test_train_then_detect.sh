#!/usr/bin/env bash
# Train mode on a synthetic normal stream, then scoring that stream with
# anomalyinject: the ROC AUC of the scores against the painted truth must be at
# least 0.9. The normal stream is inspectionsrc's line (caps moving on a belt,
# natural variation); the model trains on its first 64 frames and is scored on
# the 80 frames after them, which it has not seen, half of them with a missing
# region or a spot. Two defect seeds, each must pass.
#   test_train_then_detect.sh GST_LAUNCH
set -u
launch="$1"
TMP=$(mktemp -d "${TMPDIR:-/tmp}"/sgad-detect-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILED=0
line="inspectionsrc seed=3 speed=4 variation=0.3"
caps="video/x-raw,width=160,height=120"

# width 0.25 and 64 frames x 4 epochs keep this to a minute or two on lavapipe;
# score-lambda=1: the reconstruction error alone (docs/training.md)
if "$launch" -q -e $line num-buffers=64 ! $caps ! skipganomaly mode=train model="$TMP/m.safetensors" \
    train-frames=64 input-size=32 width=0.25 upsample=nearest epochs=4 batch-size=16 learning-rate=0.001 \
    score-lambda=1 seed=1 ! fakesink >"$TMP/train.log" 2>&1 && [ -s "$TMP/m.safetensors" ]; then
    echo "ok - trained on 64 normal frames"
else
    echo "FAIL - training"; cat "$TMP/train.log"; exit 1
fi

for seed in 2 5; do
    "$launch" -m $line first-frame=64 num-buffers=80 ! $caps \
        ! anomalyinject fraction=0.5 seed=$seed defects=missing+spot size=0.35 \
        ! skipganomaly model="$TMP/m.safetensors" ! anomalyexport location="$TMP/s$seed.jsonl" summary=true \
        ! fakesink >"$TMP/score$seed.log" 2>&1
    auc=$(grep anomalyexport-summary "$TMP/score$seed.log" | sed -n 's/.*[ ,]auc=(double)\([0-9.e-]*\).*/\1/p')
    pos=$(grep anomalyexport-summary "$TMP/score$seed.log" | sed -n 's/.*[ ,]positives=(guint64)\([0-9]*\).*/\1/p')
    if [ -n "$auc" ] && awk -v a="$auc" 'BEGIN { exit !(a >= 0.9) }'; then
        echo "ok - defect seed $seed: ROC AUC $auc over 80 frames ($pos with a defect)"
    else
        echo "FAIL - defect seed $seed: ROC AUC '${auc}' (at least 0.9 wanted)"; tail -20 "$TMP/score$seed.log"
        FAILED=1
    fi
done
grep -h "Vulkan validation:\|validation layer reported\|CRITICAL" "$TMP"/*.log && { echo "FAIL - Vulkan validation messages"; FAILED=1; }
exit $FAILED
