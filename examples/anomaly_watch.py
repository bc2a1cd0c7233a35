#!/usr/bin/env python3
"""Watch a stream for anomalies from Python (GObject introspection).

Runs a pipeline ending in skipganomaly, reads the GstAnomalyMeta of every
buffer leaving it (a pad probe) and the element's bus messages, and prints a
line per anomalous frame, per anomaly-start/-end event and the element's last
statistics:

    ANOMALY frame=12 pts=0.400s score=0.0513 threshold=0.0311 result-of=12 age=0ms truth=1 defect=scratch
    EVENT anomaly-start frame=12 pts=0.400s score=0.0513
    STATS frames=60 scored=60 skipped=0 dropped=0 scoring=sync
    SUMMARY frames=60 with-result=60 anomalous=9

By default the source is inspectionsrc (a generated conveyor line) with
anomalyinject painting defects into a fraction of the frames, so it runs
without a camera:

    python3 examples/anomaly_watch.py --model models/line-inspection.safetensors
    python3 examples/anomaly_watch.py --model M --source "v4l2src ! videoconvert"

GST_PLUGIN_PATH must name the plugin's folder (build/gst-plugin) unless it is
installed. Exit status: 0 at EOS, 1 on an error message.
"""
import argparse
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


_print_lock = threading.Lock()


def say(line):
    """One whole line at a time: the probe runs in the streaming thread."""
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def seconds(ns):
    return "none" if ns == Gst.CLOCK_TIME_NONE else "%.3fs" % (ns / Gst.SECOND)


class Watch:
    def __init__(self):
        self.frames = 0
        self.with_result = 0
        self.anomalous = 0

    def on_buffer(self, pad, info):
        """Pad probe on skipganomaly's src pad: the meta of each frame."""
        buf = info.get_buffer()
        self.frames += 1
        meta = buf.get_custom_meta("GstAnomalyMeta")
        if meta is None:
            return Gst.PadProbeReturn.OK
        s = meta.get_structure()
        ok, pending = s.get_boolean("result-pending")
        ok_score, score = s.get_double("score")
        if (ok and pending) or not ok_score:
            return Gst.PadProbeReturn.OK  # asynchronous scoring has no result yet
        self.with_result += 1
        if not s.get_boolean("anomalous")[1]:
            return Gst.PadProbeReturn.OK
        self.anomalous += 1
        threshold = s.get_double("threshold")[1]
        frame = s.get_uint64("frame")[1]
        source = s.get_uint64("result-frame")
        age = s.get_uint64("result-age")
        line = "ANOMALY frame=%d pts=%s score=%.4g threshold=%.4g" % (frame, seconds(buf.pts), score, threshold)
        if source[0]:
            line += " result-of=%d age=%dms" % (source[1], age[1] // Gst.MSECOND if age[0] else 0)
        ok_truth, truth = s.get_int("truth")
        if ok_truth:
            line += " truth=%d" % truth
            defect = s.get_string("defect")
            if defect:
                line += " defect=%s" % defect
        say(line)
        return Gst.PadProbeReturn.OK


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="checkpoint to score with")
    ap.add_argument("--source", help="source part of the pipeline (default: inspectionsrc with anomalyinject)")
    ap.add_argument("--frames", type=int, default=60, help="frames of the default source")
    ap.add_argument("--fraction", type=float, default=0.3, help="share of frames anomalyinject paints a defect into")
    ap.add_argument("--live", action="store_true", help="default source at its frame rate (asynchronous scoring)")
    ap.add_argument("--scorer", default="", help="more skipganomaly properties, e.g. \"tiles=2\"")
    args = ap.parse_args()

    Gst.init(None)
    source = args.source or (
        "inspectionsrc seed=11 first-frame=1800 num-buffers=%d is-live=%s ! "
        "video/x-raw,width=320,height=240,framerate=30/1 ! "
        "anomalyinject fraction=%g seed=1 defects=missing+spot+color-shift size=0.3"
        % (args.frames, "true" if args.live else "false", args.fraction))
    description = "%s ! skipganomaly name=scorer model=\"%s\" %s ! fakesink sync=false" % (
        source, args.model, args.scorer)
    try:
        pipeline = Gst.parse_launch(description)
    except gi.repository.GLib.Error as e:
        print("error: cannot build the pipeline: %s\n  %s" % (e.message, description), file=sys.stderr)
        return 1

    watch = Watch()
    scorer = pipeline.get_by_name("scorer")
    scorer.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, watch.on_buffer)

    status = 0
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    while True:
        msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                     Gst.MessageType.EOS | Gst.MessageType.ERROR | Gst.MessageType.ELEMENT)
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print("error from %s: %s (%s)" % (msg.src.get_name(), err.message, debug), file=sys.stderr)
            status = 1
            break
        if msg.type == Gst.MessageType.EOS:
            break
        s = msg.get_structure()
        name = s.get_name()
        if name in ("anomaly-start", "anomaly-end"):
            say("EVENT %s frame=%d pts=%s score=%.4g" % (name, s.get_uint64("frame")[1],
                                                       seconds(s.get_uint64("timestamp")[1]),
                                                       s.get_double("score")[1]))
        elif name == "skipganomaly-stats":
            stats = "STATS frames=%d scored=%d skipped=%d dropped=%d scoring=%s" % (
                s.get_uint64("frames")[1], s.get_uint64("scored")[1], s.get_uint64("skipped")[1],
                s.get_uint64("dropped")[1], s.get_string("scoring"))
            say(stats)
    pipeline.set_state(Gst.State.NULL)
    say("SUMMARY frames=%d with-result=%d anomalous=%d" % (watch.frames, watch.with_result, watch.anomalous))
    return status


if __name__ == "__main__":
    sys.exit(main())
