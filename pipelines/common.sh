# shellcheck shell=bash
# Sourced by the pipeline scripts here: finds the plugin and runs gst-launch.
#
# The plugin is taken from the build tree when there is one (../build/gst-plugin
# next to this folder, or $SGAD_BUILD/gst-plugin), otherwise GStreamer finds the
# installed one. Set GST_PLUGIN_PATH yourself to use another build.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${SGAD_BUILD:-$here/../build}"
if [ -z "${GST_PLUGIN_PATH:-}" ] && [ -d "$build/gst-plugin" ]; then
    export GST_PLUGIN_PATH="$build/gst-plugin"
fi

# Fail early, and say why, when an element this script needs is missing
# (plugin not built, or built without that element).
need_elements() {
    for e in "$@"; do
        if ! gst-inspect-1.0 --exists "$e" 2>/dev/null && ! gst-inspect-1.0 "$e" >/dev/null 2>&1; then
            echo "error: GStreamer element '$e' not found." >&2
            echo "  Build the plugin (meson setup build && ninja -C build) or install it;" >&2
            echo "  GST_PLUGIN_PATH is '${GST_PLUGIN_PATH:-<unset>}'." >&2
            exit 1
        fi
    done
}

# Print then run a gst-launch-1.0 pipeline; -e turns Ctrl-C into EOS so files
# (model checkpoints, JSON lines, videos) are finished properly.
launch() {
    echo "+ gst-launch-1.0 -e $*" >&2
    gst-launch-1.0 -e "$@"
}

# The value of a field in the anomalyexport-summary message as gst-launch -m
# prints it, e.g. "auc=(double)0.8125" -> 0.8125; empty when absent.
summary_field() { # <gst-launch output file> <field>
    grep 'anomalyexport-summary' "$1" | tail -n 1 | sed -n "s/.*[ ,]$2=(\\{0,1\\}[a-z0-9]*)\\{0,1\\}\\([^,;]*\\).*/\\1/p"
}
