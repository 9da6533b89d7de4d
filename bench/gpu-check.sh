#!/usr/bin/env bash
# ONE device call, under 5 minutes, on the GPU machine (CUDA + pocl OpenCL + PyTorch, no .NET):
#   1. the whole test suite there: its CUDA and OpenCL classes run (CPU ones too);
#   2. `softmaxgpu bench` on the issue's three shapes, fused and separate kernels, on CUDA;
#   3. the PyTorch peer on the same shapes and batch;
#   4. L-BFGS on MNIST on CUDA with scikit-learn's C = 1 (λ = 1/(C·N));
#   5. the hot kernels' PTX, and their registers and spills from ptxas if the CUDA toolkit has it;
#   6. a table of ours, PyTorch's, the floor and the ratios (bench/gpu_table.py).
# Here first: bash bench/gpu-prepare.sh; then the device tool's run with carry [".gpu"] and
#   command: bash .gpu/gpu-check.sh      (timeout_s 330)
# Raw output of every stage lands in $OUT; each stage has its own time limit so one hang cannot eat the rest.
set -u
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
here=$(cd "$(dirname "$0")" && pwd)
dotnet=(bash "$here/boot.sh" dotnet)  # the carried .NET runtime, with CUDA on the library path
# Overridable for a dry run of the plumbing on a machine without a GPU, e.g.
#   DEVICE=cpu SHAPES="300x7x3" LBFGS_ITERATIONS=2 OUT=/tmp/dry bash .gpu/gpu-check.sh
DEVICE=${DEVICE:-cuda}
SHAPES=${SHAPES:-"60000x784x10 1000000x256x10 1000000x1024x100"}
BATCH=${BATCH:-1024}
LBFGS_ITERATIONS=${LBFGS_ITERATIONS:-1000}

stage() { echo "== $1 ($(date -u +%H:%M:%S))"; }

stage "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
"${dotnet[@]}" "$here/SoftmaxGpu.Cli/SoftmaxGpu.Cli.dll" devices 2>&1 | tee "$OUT/devices.txt"

stage "tests (CUDA, OpenCL, CPU)"
timeout 150 "${dotnet[@]}" "$here/SoftmaxGpu.Tests/SoftmaxGpu.Tests.dll" > "$OUT/tests.txt" 2>&1
echo "tests exit $?"
grep -E "\[FAIL\]|Total:" "$OUT/tests.txt" | head -40

stage "bench (ours)"
timeout 100 "${dotnet[@]}" "$here/SoftmaxGpu.Cli/SoftmaxGpu.Cli.dll" bench --device "$DEVICE" --json --batch-size $BATCH $SHAPES \
  > "$OUT/ours.jsonl" 2> "$OUT/ours.err"
echo "bench exit $?"; cat "$OUT/ours.err"

stage "bench (PyTorch peer)"
: > "$OUT/torch.jsonl"
for shape in $SHAPES; do
  IFS=x read -r n d k <<< "$shape"
  timeout 40 python3 "$here/torch_softmax_bench.py" "$n" "$d" "$k" $BATCH >> "$OUT/torch.jsonl" 2>> "$OUT/torch.err"
done

stage "L-BFGS on MNIST (λ = 1/60000)"
timeout 60 "${dotnet[@]}" "$here/SoftmaxGpu.Cli/SoftmaxGpu.Cli.dll" train --device "$DEVICE" --data "$here/mnist" --optimizer lbfgs \
  --epochs "$LBFGS_ITERATIONS" --weight-decay 1.6666666666666667e-05 --model "$OUT/mnist-lbfgs.model" > "$OUT/mnist-lbfgs.txt" 2>&1
echo "train exit $?"; tail -3 "$OUT/mnist-lbfgs.txt"

stage "PTX of the hot kernels; registers and spills by ptxas, where the CUDA toolkit has it"
"${dotnet[@]}" "$here/SoftmaxGpu.Cli/SoftmaxGpu.Cli.dll" ptx --out "$OUT/ptx" 2>&1 | tee "$OUT/ptx.txt"
ptxas=$(command -v ptxas || ls /usr/local/cuda/bin/ptxas 2>/dev/null || true)
if [ -n "$ptxas" ]; then
  for f in "$OUT"/ptx/*.ptx; do
    echo "-- $(basename "$f")"; timeout 20 "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "registers|spill" | tee -a "$OUT/ptxas.txt"
  done
else
  echo "no ptxas on this machine: registers and spills not reported"
fi

stage "table"
python3 "$here/gpu_table.py" "$OUT/ours.jsonl" "$OUT/torch.jsonl" | tee "$OUT/table.md"
stage "done"
