#!/usr/bin/env bash
# PoCL (OpenCL) beside ILGPU's CPU accelerator, same machine, same run: bench figures, default-training
# accuracy on iris, digits (and MNIST with WITH_MNIST=1), and L-BFGS on digits.
# Run inside the OpenCL environment, where both devices are present:
#   dotnet build -c Release && bash .ci/with-opencl bash bench/opencl-vs-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cli=(dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll)
out=${OUT_DIR:-/tmp/opencl-vs-cpu}
mkdir -p "$out"
"${cli[@]}" devices

for device in cpu opencl; do
  echo "== bench on $device"
  "${cli[@]}" bench --device "$device" ${BENCH_ARGS:---steps 3 --epochs 2 --batch-size 64 8192x64x10 4096x784x10 2048x256x100}
done

datasets=(iris digits)
[ "${WITH_MNIST:-0}" = 1 ] && datasets+=(mnist)
for data in "${datasets[@]}"; do
  path=datasets/$data.csv
  [ "$data" = mnist ] && path=datasets/mnist
  for device in cpu opencl; do
    echo "== default train on $data, $device"
    start=$(date +%s%N)
    "${cli[@]}" train --data "$path" --model "$out/$data-$device.model" --val-fraction 0.25 --device "$device" \
      > "$out/$data-$device.log" 2>&1
    echo "$data $device: $(grep -E '^epoch' "$out/$data-$device.log" | tail -1) ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
  done
done

for device in cpu opencl; do
  echo "== L-BFGS on digits, $device (lambda = 1/N)"
  "${cli[@]}" train --data datasets/digits.csv --model "$out/lbfgs-$device.model" --optimizer lbfgs \
    --weight-decay 0.00055648302726766831 --device "$device" 2>&1 | tail -2
done
