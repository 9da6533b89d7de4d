#!/usr/bin/env bash
# ONE device call, under 9 minutes, on the GPU machine (CUDA + pocl OpenCL + PyTorch, no .NET):
#   1. the whole test suite there: its CUDA and OpenCL classes run (CPU ones too);
#   2. `softmaxgpu bench` on the issue's three shapes, fused and separate kernels, on CUDA;
#   3. the PyTorch peer on the same shapes and batch;
#   4. L-BFGS on MNIST on CUDA with scikit-learn's C = 1 (λ = 1/(C·N));
#   5. the sparse pass on CUDA (`bench N×D×K@density`: a text-like and a click-like shape), with its floor;
#   6. choosing C on MNIST on CUDA: scikit-learn's grid (Cs=10) with 5 folds, and the refit;
#   7. the hot kernels' PTX, and their registers and spills from ptxas if the CUDA toolkit has it;
#   8. a table of ours, PyTorch's, the floor and the ratios (bench/gpu_table.py).
# Here first: bash bench/gpu-prepare.sh; then the device tool's run with carry [".gpu"] and
#   command: bash .gpu/gpu-check.sh      (timeout_s 570)
# Raw output of every stage lands in $OUT; each stage has its own time limit so one hang cannot eat the rest.
set -u
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
here=$(cd "$(dirname "$0")" && pwd)
dotnet=(bash "$here/boot.sh" dotnet)  # the carried .NET runtime, with CUDA on the library path
# Overridable for a dry run of the plumbing on a machine without a GPU, e.g.
#   DEVICE=cpu SHAPES="300x7x3" SPARSE_SHAPES="300x2000x5@0.01" CV_GRID=0.1,1 CV_FOLDS=2 LBFGS_ITERATIONS=2 \
#     OUT=/tmp/dry bash .gpu/gpu-check.sh
DEVICE=${DEVICE:-cuda}
SPARSE_SHAPES=${SPARSE_SHAPES:-"50000x300000x57@0.0003 200000x1048576x20@0.00004"}
CV_GRID=${CV_GRID:-"1e-4:1e4:10"}
CV_FOLDS=${CV_FOLDS:-5}
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

stage "sparse pass (CSR rows on the device)"
timeout 45 "${dotnet[@]}" "$here/SoftmaxGpu.Cli/SoftmaxGpu.Cli.dll" bench --device "$DEVICE" --json $SPARSE_SHAPES \
  > "$OUT/sparse.jsonl" 2> "$OUT/sparse.err"
echo "sparse bench exit $?"; cat "$OUT/sparse.jsonl" "$OUT/sparse.err"

stage "choosing C on MNIST ($CV_GRID, $CV_FOLDS folds, then the refit)"
timeout 90 "${dotnet[@]}" "$here/SoftmaxGpu.Cli/SoftmaxGpu.Cli.dll" train --device "$DEVICE" --data "$here/mnist" --quiet \
  --C "$CV_GRID" --cv "$CV_FOLDS" --epochs "$LBFGS_ITERATIONS" --model "$OUT/mnist-cv.model" > "$OUT/mnist-cv.txt" 2>&1
echo "cv exit $?"; tail -16 "$OUT/mnist-cv.txt"

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
