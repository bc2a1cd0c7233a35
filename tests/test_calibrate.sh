#!/bin/sh
# sgad calibrate: a trained model (the bundled one, width 0.25, 32x32) given
# another frame score, per-pixel statistics and threshold on normal frames of
# its line, without retraining. Usage errors; errors that leave the model file
# byte for byte as it was (too few frames for the statistics or the quantile,
# a folder that is not there, a file that is not a model, an output that cannot
# be written); then max,std at quantile 0.8 on 160 + 200 spread frames: the
# checkpoint says so, and its threshold stops 20% of 400 unseen clean frames
# (sgad eval --line counts them) within 4 sigma of the sampling error of the
# quantile (sqrt(q(1-q)/200)) and of the check (sqrt(q(1-q)/400)); a folder of
# images and a recording calibrate too, and the spec's mean again needs no statistics.
#
#   test_calibrate.sh PATH/TO/sgad SOURCE_ROOT
set -eu

SGAD=$1
BUNDLED=$2/models/line-inspection.safetensors
. "$(dirname "$0")/cli_checks.sh"
says() { has "$TMP/last" "$1" "it says: $1"; }
meta() { # the checkpoint's metadata value of key $2
    python3 -c 'import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(json.loads(f.read(n))["__metadata__"].get(sys.argv[2], "-"))' "$1" "$2"
}

M=$TMP/m.safetensors
cp "$BUNDLED" "$M"
untouched() { cmp -s "$BUNDLED" "$M" && ok "the model file is as it was" || fail "the model file changed"; }

echo "# usage errors"
expect_rc 2 "$SGAD" calibrate --line 200000
expect_rc 2 "$SGAD" calibrate --model "$M"
expect_rc 2 "$SGAD" calibrate --model "$M" --line 200000 --images "$TMP"
expect_rc 2 "$SGAD" calibrate --model "$M" --images "$TMP" --frames 100
expect_rc 2 "$SGAD" calibrate --model "$M" --images "$TMP" --video "$TMP/v.avi"
expect_rc 2 "$SGAD" calibrate --model "$M" --video "$TMP/v.avi" --line-seed 3
expect_rc 2 "$SGAD" calibrate --model "$M" --line 200000 --quantile 1
expect_rc 2 "$SGAD" calibrate --model "$M" --line 200000 --frame-score median
expect_rc 2 "$SGAD" calibrate --model "$M" --line 200000 extra
expect_rc 2 "$SGAD" calibrate --model "$M" --line 200000 --lambda 1.5
expect_rc 0 "$SGAD" calibrate --help
says "stats-frames"
untouched

echo "# errors leave the model as it was"
expect_rc 1 "$SGAD" calibrate --model "$M" --frame-score max,std --line 200000 --frames 300
says "needs at least 200 normal frames"
untouched
expect_rc 1 "$SGAD" calibrate --model "$M" --frame-score max,std --quantile 0.8 --line 200000 --frames 60 \
    --stats-frames 20
says "at least 32 normal frames"
untouched
expect_rc 1 "$SGAD" calibrate --model "$M" --frame-score max,std --images "$TMP/nothing-here"
says "nothing-here"
untouched
expect_rc 1 "$SGAD" calibrate --model "$M" --frame-score max --quantile 0.8 --line 200000 --frames 30 \
    --out "$TMP/no-such-folder/c.safetensors"
says "cannot write"
untouched
expect_rc 1 "$SGAD" calibrate --model "$M" --frame-score mean --video "$TMP/no-such.avi"
says "no-such.avi"
untouched
head -c 5000 "$BUNDLED" >"$TMP/cut.safetensors"
cp "$TMP/cut.safetensors" "$TMP/cut.before"
expect_rc 1 "$SGAD" calibrate --model "$TMP/cut.safetensors" --line 200000 --frames 30 --quantile 0.8
says "cut.safetensors"
cmp -s "$TMP/cut.safetensors" "$TMP/cut.before" && ok "a file that is no model stays as it was" ||
    fail "the cut file changed"

echo "# max,std on spread frames of the line; its false alarms on unseen ones"
expect_rc 0 "$SGAD" calibrate --model "$M" --frame-score max,std --quantile 0.8 --line 200000 --frames 360 \
    --stats-frames 160
says "threshold .*quantile 0.8 of 200 normal frames"
[ "$(meta "$M" frame_score)" = max,std ] && [ "$(meta "$M" calibration_samples)" = 200 ] &&
    ok "the checkpoint: max,std, threshold from 200 frames" ||
    fail "checkpoint metadata: $(meta "$M" frame_score) $(meta "$M" calibration_samples)"
expect_rc 0 "$SGAD" eval --line --model "$M" --frames 10 --seeds 1 --kinds missing --normal-frames 10 \
    --calib-first 300000 --calib-frames 400
alarms=$(sed -n 's/.*stops [0-9.]*% of the 400 clean frames (\([0-9]*\),.*/\1/p' "$TMP/last")
echo "# false alarms: $alarms of 400"
# 4 sigma of sqrt(0.16/200 + 0.16/400) = 0.0346 around 0.2: 25..135 of 400
[ -n "$alarms" ] && [ "$alarms" -ge 25 ] && [ "$alarms" -le 135 ] &&
    ok "the 0.8 threshold stops $alarms of 400 unseen clean frames (20% +- 13.9%, 4 sigma)" ||
    { fail "false alarms '$alarms' of 400, want 25..135"; cat "$TMP/last"; }

echo "# the spec's mean again: no statistics, every frame sets the threshold; a folder of images"
expect_rc 0 "$SGAD" calibrate --model "$M" --frame-score mean --lambda 0.9 --quantile 0.9 --line 200000 --frames 40 \
    --out "$TMP/mean.safetensors"
says "quantile 0.9 of 40 normal frames"
[ "$(meta "$TMP/mean.safetensors" frame_score)" = mean ] && [ "$(meta "$TMP/mean.safetensors" score_lambda)" = 0.899999976 ] &&
    ok "the spec's mean and lambda in the copy" ||
    fail "copy's frame score, lambda: $(meta "$TMP/mean.safetensors" frame_score) $(meta "$TMP/mean.safetensors" score_lambda)"
mkdir "$TMP/frames"
python3 - "$TMP/frames" <<'EOF'
import sys, zlib, struct, random
random.seed(4)
def png(path, w, h, rows):
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i in range(70):
    png("%s/%03d.png" % (sys.argv[1], i), 32, 32,
        [[max(0, min(255, 120 + random.randint(-20, 20))) for _ in range(96)] for _ in range(32)])
EOF
expect_rc 0 "$SGAD" calibrate --model "$M" --frame-score topk=0.05,std --quantile 0.9 --images "$TMP/frames"
says "per-pixel statistics: 35 normal frames"
says "quantile 0.9 of 35 normal frames"
[ "$(meta "$M" frame_score)" = topk=0.05,std ] && ok "a folder of images calibrates topk=0.05,std" ||
    fail "frame score after --images: $(meta "$M" frame_score)"

echo "# a recording: every frame, or every 2nd to its end"
gst-launch-1.0 -q videotestsrc num-buffers=80 pattern=smpte ! video/x-raw,width=64,height=48 ! jpegenc \
    ! avimux ! filesink location="$TMP/v.avi" && ok "recorded v.avi" || fail "could not record v.avi"
expect_rc 0 "$SGAD" calibrate --model "$M" --frame-score max,std --quantile 0.8 --video "$TMP/v.avi" --frames 70 \
    --stride 1 --stats-frames 35
says "70 frames of .*v.avi, every 1"
says "quantile 0.8 of 35 normal frames"
expect_rc 0 "$SGAD" calibrate --model "$M" --frame-score mean --quantile 0.9 --video "$TMP/v.avi" --stride 2
says "40 frames of .*v.avi, every 2"
says "quantile 0.9 of 40 normal frames"
[ "$(meta "$M" frame_score)" = mean ] && [ "$(meta "$M" calibration_samples)" = 40 ] &&
    ok "calibrated on the recording's frames" ||
    fail "after --video: $(meta "$M" frame_score) $(meta "$M" calibration_samples)"

exit $FAILED
