#!/usr/bin/env bash
# Score a live camera and publish every frame's result, and anomaly-start/-end
# events, to an MQTT broker as JSON (anomalyexport's lines, one per message).
#
#   ./camera-to-mqtt.sh model.safetensors [/dev/video0]
#
# Environment: HOST (broker, default localhost), PORT (1883), TOPIC (default
# sgad/<hostname>/anomaly), QOS (1), CLIENT_ID (default sgad-<hostname>),
# MQTT_USER / MQTT_PASSWORD (optional), CA_FILE (PEM of the broker's CA: TLS).
# Without a camera at the given device, inspectionsrc is-live=true (a generated
# conveyor line at 30 frames/s) stands in. Watch the results with
#   mosquitto_sub -h "$HOST" -t "$TOPIC" -q 1 -v
# A live source gets asynchronous scoring (skipganomaly scoring=auto): the video
# runs at the camera's rate and each frame carries the newest result.
set -euo pipefail
. "$(dirname "$0")/common.sh"

model="${1:?usage: $0 model.safetensors [/dev/videoN]}"
device="${2:-/dev/video0}"
host="${HOST:-localhost}"
port="${PORT:-1883}"
topic="${TOPIC:-sgad/$(hostname)/anomaly}"
qos="${QOS:-1}"
client_id="${CLIENT_ID:-sgad-$(hostname)}"

need_elements skipganomaly anomalypublish videoconvert fakesink

if [ -e "$device" ]; then
    source=(v4l2src device="$device" ! videoconvert)
else
    echo "note: no camera at $device; using inspectionsrc is-live=true instead" >&2
    source=(inspectionsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1)
fi
auth=()
[ -n "${MQTT_USER:-}" ] && auth+=(username="$MQTT_USER" password="${MQTT_PASSWORD:-}")
[ -n "${CA_FILE:-}" ] && auth+=(tls-ca-file="$CA_FILE")

launch "${source[@]}" \
    ! skipganomaly model="$model" \
    ! anomalypublish host="$host" port="$port" topic="$topic" qos="$qos" client-id="$client_id" "${auth[@]}" \
    ! fakesink
