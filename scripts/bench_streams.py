#!/usr/bin/python3
"""Many streams on one device: frames/s of N skipganomaly instances scoring
N inspectionsrc streams (320x240) with the same model, each scoring alone
(one dispatch per frame) or with batch-streams=true (one dispatch per batch
of the streams' frames).

    GST_PLUGIN_PATH=build/gst-plugin /usr/bin/python3 scripts/bench_streams.py \
        --model models/line-inspection.safetensors --streams 1 2 4 8 --frames 24

Each pipeline plays to EOS; the rate is counted from the moment every stream
has passed its first `--warmup` frames (recording the scorers, first
dispatches) to the last frame, in wall-clock time. Prints a Markdown table.
"""
import argparse
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def run(model, streams, frames, warmup, batched, timeout_ms):
    branches = []
    for i in range(streams):
        branches.append(
            "inspectionsrc seed=%d num-buffers=%d ! video/x-raw,width=320,height=240,framerate=30/1 ! "
            "skipganomaly name=sg%d model=\"%s\" scoring=sync batch-streams=%s batch-timeout=%d "
            "stats-interval=0 ! fakesink sync=false" % (
                11 + i, frames, i, model, "true" if batched else "false", timeout_ms))
    pipeline = Gst.parse_launch(" ".join(branches))
    lock = threading.Lock()
    times = [[] for _ in range(streams)]

    def probe(pad, info, i):
        with lock:
            times[i].append(time.monotonic())
        return Gst.PadProbeReturn.OK

    for i in range(streams):
        pipeline.get_by_name("sg%d" % i).get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe, i)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        sys.exit("error: %s (%s)" % (err.message, dbg))
    pipeline.set_state(Gst.State.NULL)
    start = max(t[warmup - 1] for t in times)
    end = max(t[-1] for t in times)
    counted = sum(sum(1 for x in t if x > start) for t in times)
    total = counted / (end - start)
    return total / streams, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--warmup", type=int, default=4)
    ap.add_argument("--batch-timeout", type=int, default=100, help="ms")
    args = ap.parse_args()
    Gst.init(None)
    print("| streams | alone: frames/s per stream | total | batched: per stream | total | speed-up |")
    print("|---|---|---|---|---|---|")
    for n in args.streams:
        alone = run(args.model, n, args.frames, args.warmup, False, args.batch_timeout)
        batched = run(args.model, n, args.frames, args.warmup, True, args.batch_timeout)
        print("| %d | %.2f | %.2f | %.2f | %.2f | %.2fx |" % (n, alone[0], alone[1], batched[0], batched[1],
                                                            batched[1] / alone[1]), flush=True)


if __name__ == "__main__":
    main()
