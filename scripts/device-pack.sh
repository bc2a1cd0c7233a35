#!/usr/bin/env bash
# Packs what scripts/device-check.sh needs on a machine that has a GPU but none of
# our build's libraries (the lent H200 machine: no GStreamer, GLib or Vulkan loader):
# the built programs, the plugin, GStreamer's launcher and the few plugins the checks
# use, the Khronos validation layer, and every shared library they load except the C
# library's own (the machine's newer glibc runs them). Stripped copies keep it small.
#   scripts/device-pack.sh [DIR]     (default .devpkg; after a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
dir=${1:-.devpkg}
rm -rf "$dir"
# $dir/build mirrors build/ for the programs the scripts run (BUILD_DIR=$dir/build)
mkdir -p "$dir/bin" "$dir/lib" "$dir/gst" "$dir/layer" "$dir/build/tools" "$dir/build/tests" "$dir/build/gst-plugin"
multiarch=/usr/lib/x86_64-linux-gnu

cp "$build"/tools/sgad "$build"/tools/sgad-bench-engine "$build"/tools/*.py "$dir/build/tools/"
mkdir -p "$dir/build/tests/reference" # the PyTorch twins import the reference model from ../tests/reference
cp tests/reference/*.py "$dir/build/tests/reference/"
cp "$build"/tests/sgad-soak "$dir/build/tests/"
for t in core conv batchnorm activation eltwise shape linear loss adam graph model_score; do
    cp "$build/tests/test_$t" "$dir/build/tests/"
done
cp "$build"/gst-plugin/libgstsgad.so "$dir/build/gst-plugin/"
cp -L "$build"/gst-plugin/meta/libsgadmeta-1.0.so.0 "$dir/lib/"
cp /usr/bin/gst-launch-1.0 /usr/bin/gst-inspect-1.0 "$dir/bin/"
cp "$multiarch"/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner "$dir/bin/"
for p in coreelements videoconvertscale avi jpeg png multifile app playback typefindfunctions; do
    cp "$multiarch/gstreamer-1.0/libgst$p.so" "$dir/gst/"
done
cp "$multiarch"/libVkLayer_khronos_validation.so "$dir/layer/"
sed 's#"library_path": *"[^"]*"#"library_path": "./libVkLayer_khronos_validation.so"#' \
    /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json >"$dir/layer/VkLayer_khronos_validation.json"

# the GL vendor-neutral dispatch libraries that NVIDIA's Vulkan driver (libGLX_nvidia) loads
for l in libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libOpenGL.so.0; do
    [[ -e $multiarch/$l ]] && cp -L "$multiarch/$l" "$dir/lib/"
done

# one font, so that the overlay's and the report's text has a face to render with
mkdir -p "$dir/fonts"
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$dir/fonts/"
cat >"$dir/fonts/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir prefix="relative">.</dir><cachedir>/tmp/sgad-fontconfig</cachedir></fontconfig>
EOF

# every library these load, but the C and C++ runtimes (the machine's newer ones serve)
for f in "$dir"/bin/* "$dir"/build/*/* "$dir"/gst/*.so "$dir"/layer/*.so; do
    [[ $f == *.py ]] && continue
    ldd "$f" 2>/dev/null | awk '/=> \//{print $3}'
done | sort -u | grep -v -E '/(libc|libm|libdl|libpthread|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so' | while read -r lib; do
    cp -L "$lib" "$dir/lib/"
done
find "$dir" -type f ! -name '*.py' ! -name '*.json' -exec strip --strip-unneeded {} + 2>/dev/null || true
du -sh "$dir"
