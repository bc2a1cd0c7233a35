#!/usr/bin/env bash
# Soak: FRAMES frames (default 100,000) of the generated line through
#   inspectionsrc ! anomalyinject ! skipganomaly (the bundled width-0.25 model) ! anomalyoverlay ! anomalyexport
# with a hot reload of the model every RELOAD_EVERY frames (default 1,000), alternating
# between two copies of it. Every SAMPLE_EVERY frames (default 500) it samples the
# process's resident memory and, on an NVIDIA GPU, the device memory in use
# (nvidia-smi; "-" elsewhere: on lavapipe device memory is host memory, in the RSS).
# Writes OUT (default soak.csv: frame,seconds,rss_mib,device_mib) and prints the
# growth after warm-up (the first 10% of the frames). Too long for CI (hours on
# lavapipe); a developer runs it:
#
#   bash tests/soak.sh                          # the full soak
#   FRAMES=2000 RELOAD_EVERY=200 bash tests/soak.sh   # a quick check that it runs
set -euo pipefail
cd "$(dirname "$0")/.."
export GST_PLUGIN_PATH="${SGAD_BUILD:-build}/gst-plugin"
export FRAMES="${FRAMES:-100000}" RELOAD_EVERY="${RELOAD_EVERY:-1000}" SAMPLE_EVERY="${SAMPLE_EVERY:-500}"
export OUT="${OUT:-soak.csv}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}"/sgad-soak-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp models/line-inspection.safetensors "$tmp/a.safetensors"
cp models/line-inspection.safetensors "$tmp/b.safetensors"
export MODEL_A="$tmp/a.safetensors" MODEL_B="$tmp/b.safetensors" JSONL="$tmp/scores.jsonl"
# the distribution's Python: it has the GObject bindings (python3-gi)
/usr/bin/python3 - <<'PY'
import os, subprocess, sys, time
import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst, GLib
Gst.init(None)
frames, reload_every, sample_every = (int(os.environ[k]) for k in ("FRAMES", "RELOAD_EVERY", "SAMPLE_EVERY"))
models = [os.environ["MODEL_A"], os.environ["MODEL_B"]]
pipe = Gst.parse_launch(
    "inspectionsrc seed=11 num-buffers=%d ! video/x-raw,width=160,height=120 ! anomalyinject fraction=0.2 "
    "! skipganomaly name=sg model=%s ! anomalyoverlay ! anomalyexport location=%s ! fakesink sync=false"
    % (frames, models[0], os.environ["JSONL"]))
sg = pipe.get_by_name("sg")

def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0

def device_mib():
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            pid, mem = (x.strip() for x in line.split(","))
            if int(pid) == os.getpid():
                return float(mem)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass
    return None

samples, count, t0 = [], [0], time.time()
def on_buffer(pad, info):
    count[0] += 1
    n = count[0]
    if n % reload_every == 0:
        # from the streaming thread, as an application's timer would do it mid-stream
        GLib.idle_add(lambda m=models[(n // reload_every) % 2]: sg.set_property("model", m) and False)
    if n % sample_every == 0:
        samples.append((n, time.time() - t0, rss_mib(), device_mib()))
    return Gst.PadProbeReturn.OK
sg.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_buffer)

loop = GLib.MainLoop()
failed = []
def on_message(bus, msg):
    if msg.type == Gst.MessageType.EOS:
        loop.quit()
    elif msg.type == Gst.MessageType.ERROR:
        failed.append(msg.parse_error()[0].message)
        loop.quit()
    elif msg.type == Gst.MessageType.WARNING:
        print("warning:", msg.parse_warning()[0].message, file=sys.stderr)
bus = pipe.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
pipe.set_state(Gst.State.PLAYING)
loop.run()
pipe.set_state(Gst.State.NULL)
with open(os.environ["OUT"], "w") as f:
    f.write("frame,seconds,rss_mib,device_mib\n")
    for n, t, r, d in samples:
        f.write("%d,%.1f,%.1f,%s\n" % (n, t, r, "-" if d is None else "%.0f" % d))
if failed:
    sys.exit("soak: error after %d frames: %s" % (count[0], failed[0]))
warm = [s for s in samples if s[0] >= frames // 10] or samples
print("soak: %d frames in %.0f s, %d hot reloads; resident memory %.1f MiB after warm-up, %.1f MiB at the end "
      "(%+.1f MiB); samples in %s" % (count[0], time.time() - t0, count[0] // reload_every, warm[0][2], samples[-1][2],
                                     samples[-1][2] - warm[0][2], os.environ["OUT"]))
PY
