#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs to build, test and run.
# Idempotent: packages already present are left alone. Run as root (or with sudo).
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config glslang-tools
  # Vulkan: loader + headers, the CPU device (lavapipe), the validation layer
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  # model layer: JSON headers, gzip, PNG, JPEG; Fashion-MNIST for the evaluation protocol
  libjson-glib-dev zlib1g-dev libpng-dev libjpeg-dev dataset-fashion-mnist
  # GStreamer plugin: core, base (video), check (GstHarness), tools, drawing, introspection
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good libcairo2-dev libpango1.0-dev
  gir1.2-gstreamer-1.0 python3-gi valgrind
  # the decoders and demuxers of users' recordings (sgad review, decodebin): libav (H.264, MPEG-4/XviD,
  # AC-3, ...), good (qtdemux for MP4/MOV, avidemux, matroskademux), bad (h264parse, openh264), ugly (x264enc,
  # which the review test encodes its MP4 with)
  gstreamer1.0-libav gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  # the headless browser that renders sgad review's HTML report in the suite
  chromium
  # anomalypublish: the MQTT client library; a broker and its clients for the tests
  libmosquitto-dev mosquitto mosquitto-clients openssl
  # the independent PyTorch reference and benchmarks
  python3 python3-numpy python3-torch
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
