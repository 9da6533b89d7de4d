#!/usr/bin/env bash
# Here, before the one device call of bench/gpu-check.sh: build the CLI and the tests into .gpu/ (with the
# .NET runtime, boot.sh and the PyTorch peer, by ../shared/gpu/prepare.sh) and put gzipped MNIST in
# .gpu/mnist (11 MB: the carried .gpu folder must stay under 64 MiB). Needs datasets/get-mnist.sh run once.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
../shared/gpu/prepare.sh src/SoftmaxGpu.Cli/SoftmaxGpu.Cli.csproj tests/SoftmaxGpu.Tests/SoftmaxGpu.Tests.csproj
mkdir -p .gpu/mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -9 -c "datasets/mnist/$f" > ".gpu/mnist/$f.gz"
done
cp bench/gpu-check.sh bench/gpu_table.py .gpu/
du -sh .gpu
