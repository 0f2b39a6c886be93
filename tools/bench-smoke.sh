#!/usr/bin/env bash
# Every script in benchmarks/ once, in a small configuration, from this checkout's .venv (`make bench-smoke
# DATA=...`): a maintainer's check that each still runs (exit 0) after a change, not a measurement: the figures
# come from the full commands in docs/benchmarks.md. Takes ~10 minutes on 2 cores. Needs the CIFAR-10 JPEG
# copy (DATA: train/ and test/ class folders), `make js` and Chromium for web_latency.py.
# gpu_check.py runs only where nvidia-smi finds a GPU (elsewhere it stops by design, naming onnxruntime-gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: tools/bench-smoke.sh CIFAR10_JPEG_FOLDER [WORK_DIR]}
WORK=${2:-$(mktemp -d -t lightship-bench-smoke-XXXX)}
PY=.venv/bin/python
LIGHTSHIP=.venv/bin/lightship
mkdir -p "$WORK"
failed=()

run() {  # run NAME COMMAND...: the command's output goes to WORK/NAME.log, one summary line here
  local name=$1 started=$SECONDS
  shift
  if "$@" >"$WORK/$name.log" 2>&1; then
    echo "ok     $name ($((SECONDS - started)) s)"
  else
    echo "FAILED $name ($((SECONDS - started)) s): $WORK/$name.log"
    tail -5 "$WORK/$name.log" | sed 's/^/         /'
    failed+=("$name")
  fi
}

echo "bench-smoke: logs in $WORK"
run machine $PY benchmarks/machine.py
run resize_onnx $PY benchmarks/resize_onnx.py --rounds 3
run make_mixed_folder $PY benchmarks/make_mixed_folder.py "$DATA" "$WORK/mixed" --per-class 12
run airbench_data $PY benchmarks/airbench_data.py "$DATA" "$WORK/airbench"
run data_pipeline $PY benchmarks/data_pipeline.py "$DATA" --cache-dir "$WORK/cache"
run stream_vs_memory $PY benchmarks/stream_vs_memory.py --data-root "$DATA" --limit 2000
run export_runtimes $PY benchmarks/export_runtimes.py --iterations 20
run train_cifar10 $PY benchmarks/train_cifar10.py --data-root "$DATA" --part overhead --epochs 1 --out "$WORK/train"
run image_size_cost $PY benchmarks/image_size_cost.py --models mobilenet_v3_small --sizes 64
run serve_load $PY benchmarks/serve_load.py --requests 200 --concurrency 8
run web_latency $PY benchmarks/web_latency.py --runs 3 --rounds 1 --threads 1
# A small trained run on the mixed-size folder (test split included) and its bundle, for the scripts that read one.
run small_run $LIGHTSHIP train --config imagefolder --data.root "$WORK/mixed" --data.image_size 32 \
  --model.name airbench --model.pretrained false --trainer.max_epochs 2 --out "$WORK/run"
run small_bundle $LIGHTSHIP export "$WORK/run" --out "$WORK/bundle" --formats onnx,onnx-fp16,tflite,executorch
run preprocess_options $PY benchmarks/preprocess_options.py "$WORK/run" --images 20
run edge_parity $PY benchmarks/edge_parity.py "$WORK/bundle" "$WORK/mixed" --per-class 2
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  run gpu_check $PY benchmarks/gpu_check.py "$WORK/bundle"
else
  echo "-      gpu_check (no GPU here)"
fi

if ((${#failed[@]})); then
  echo "bench-smoke: ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "bench-smoke: every benchmark script ran"
