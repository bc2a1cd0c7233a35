#!/usr/bin/env bash
# The GPU checks and timings, in one run on a lent GPU machine that has none of our
# libraries: scripts/device-pack.sh packs them into .devpkg here, the device tool
# carries it, and this runs there from the repository root:
#   bash scripts/device-check.sh [PARTS]
# PARTS (in the order given): env, soak, test_NAME (an engine test program), tests (all of them),
# bench, review, conv, conv-tiled, model, model-tiled (the -tiled ones with the convolutions'
# forwards in shared-memory tiles: SGAD_TILED_CONVS=1, not yet the default anywhere);
# the default is the order that fits the lease, most wanted first.
# Each part has a time limit so that one slow part cannot take the others' time;
# results go to $OUT (the device tool's folder) or ./device-out.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD pkg=$PWD/.devpkg
out=${OUT:-$root/device-out}
mkdir -p "$out"
parts=${1:-env test_conv conv conv-tiled model model-tiled bench review soak test_core test_graph test_model_score tests}
soak_frames=${SOAK_FRAMES:-100000} soak_limit=${SOAK_LIMIT:-250}
deadline=$((SECONDS + ${TOTAL_LIMIT:-540})) # the whole run; each part gets at most what is left

# the packed programs and libraries first; GStreamer sees only the packed plugins
export PATH="$pkg/bin:$PATH"
export LD_LIBRARY_PATH="$pkg/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[[ -d /usr/local/nvidia/lib64 ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/usr/local/nvidia/lib64"
export GST_PLUGIN_SYSTEM_PATH_1_0="$pkg/gst" GST_PLUGIN_PATH="$pkg/build/gst-plugin"
export GST_PLUGIN_SCANNER_1_0="$pkg/bin/gst-plugin-scanner" GST_REGISTRY_1_0="${TMPDIR:-/tmp}/sgad-device-registry.bin"
export VK_LAYER_PATH="$pkg/layer" BUILD_DIR=.devpkg/build FONTCONFIG_FILE="$pkg/fonts/fonts.conf"
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json; do
    if [[ -f $icd ]]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; fi
done
# PyTorch (the benchmarks' twin) runs on the machine's own Python and libraries
cat >"$pkg/bin/torch-python" <<EOF
#!/bin/sh
unset LD_LIBRARY_PATH
exec $(command -v python3) "\$@"
EOF
chmod +x "$pkg/bin/torch-python"
export SGAD_PYTHON="$pkg/bin/torch-python"
sgad=$pkg/build/tools/sgad

part() { # part NAME LIMIT COMMAND...: run with a limit, log to $out/log.txt, say how it ended
    local name=$1 limit=$2 start=$SECONDS rc
    shift 2
    ((limit > deadline - SECONDS - 5)) && limit=$((deadline - SECONDS - 5))
    if ((limit < 10)); then
        echo "=== $name: not run (the run's time is up)" | tee -a "$out/log.txt"
        return 1
    fi
    echo "=== $name (limit ${limit}s)" | tee -a "$out/log.txt"
    timeout -s TERM -k 10 "$limit" "$@" >>"$out/log.txt" 2>&1
    rc=$?
    echo "=== $name: exit $rc in $((SECONDS - start)) s" | tee -a "$out/log.txt"
    return $rc
}

for p in $parts; do
    case $p in
    env)
        VK_LOADER_DEBUG=error,driver part env 60 bash -c 'nvidia-smi --query-gpu=name,driver_version,memory.used,clocks.sm --format=csv; uname -m; '"$sgad"' devices' \
            || { echo "the packed programs do not run here: see log.txt"; tail -20 "$out/log.txt"; exit 1; }
        ;;
    test_*) # an engine test program: ops against their C references, validation layer on
        SGAD_VALIDATION=1 part "$p" 60 "$pkg/build/tests/$p"
        ;;
    tests) # the engine test programs not run yet
        for exe in "$pkg"/build/tests/test_*; do # the ones device-pack.sh packed
            t=${exe##*/}
            grep -q "^=== $t: exit" "$out/log.txt" || SGAD_VALIDATION=1 part "$t" 60 "$exe"
        done
        ;;
    soak)
        part soak "$soak_limit" env FRAMES="$soak_frames" SCORE_BATCH="${SOAK_BATCH:-16}" \
            OUT="$out/soak.csv" SGAD_BUILD=.devpkg/build bash tests/soak.sh
        ;;
    bench) # the element on recordings, score-batch 1 against batched
        part bench-element-batch 60 bash scripts/bench-element-batch.sh ${REVIEW_SIZE64---size64} --frames "${BENCH_FRAMES:-400}" --batches "1 16 64"
        ;;
    review)
        part bench-review 70 bash scripts/bench-review.sh ${REVIEW_SIZE64---size64} --frames "${BENCH_FRAMES:-400}"
        ;;
    conv) # the generator's convolutions against the measured peak, beside cuDNN
        part bench-engine 60 "$pkg/build/tools/sgad-bench-engine" --sizes 32 --batches 64 --torch --quick
        ;;
    conv-tiled) # the same with the forwards in shared-memory tiles (its "fwd" column is what changes)
        SGAD_TILED_CONVS=1 part bench-engine-tiled 45 "$pkg/build/tools/sgad-bench-engine" --sizes 32 --batches 64 --quick
        ;;
    model) # the model's training and inference, beside PyTorch on the same GPU
        part bench-model 70 "$sgad" bench --sizes 32 --batches 1,64
        ;;
    model-tiled) # the same with the forwards in shared-memory tiles
        SGAD_TILED_CONVS=1 part bench-model-tiled 70 "$sgad" bench --sizes 32 --batches 1,64
        ;;
    *) echo "unknown part $p" >&2; exit 2 ;;
    esac
done
grep -E '^=== .*: exit' "$out/log.txt"
