#!/usr/bin/env bash
# Data-parallel Adam against one process (issue 10): 2 ranks × local batch B against 1 rank × batch 2B, on the
# letter set (datasets/letter.csv: its first 16000 rows train, as a .sgd file; the last 4000 test), host engine,
# same seed, learning rate and epochs. Prints each run's test accuracy and the difference in points.
#   bash bench/mpi-adam.sh [B] [epochs]        (MPICH: bash .ci/install-mpi; the CLI built: dotnet build)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-32}
EPOCHS=${2:-10}
cli=(dotnet src/SoftmaxGpu.Cli/bin/Debug/net10.0/SoftmaxGpu.Cli.dll)
mpirun=$(command -v mpiexec.mpich || command -v mpirun)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -16001 datasets/letter.csv >"$work/train.csv"
{ head -1 datasets/letter.csv; tail -n +16002 datasets/letter.csv; } >"$work/test.csv"
"${cli[@]}" convert --data "$work/train.csv" --out "$work/train.sgd" >/dev/null
common=(train --data "$work/train.sgd" --optimizer adam --epochs "$EPOCHS" --lr 0.01 --seed 1 --device host --quiet)
accuracy() { "${cli[@]}" evaluate --model "$1" --data "$work/test.csv" --device host --json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])'; }

start=$(date +%s.%N)
"${cli[@]}" "${common[@]}" --batch-size $((2 * B)) --model "$work/one.model" 2>/dev/null | grep -E '^(adam|model):'
one_s=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
"$mpirun" -n 2 "${cli[@]}" "${common[@]}" --batch-size "$B" --model "$work/two.model" 2>/dev/null | grep -E '^(adam|model):'
two_s=$(echo "$(date +%s.%N) - $start" | bc)
one=$(accuracy "$work/one.model")
two=$(accuracy "$work/two.model")
python3 - "$one" "$two" "$B" "$one_s" "$two_s" <<'PY'
import sys
one, two, b, one_s, two_s = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"1 rank x batch {2*b}: test accuracy {100*one:.2f}% ({one_s:.1f} s wall)")
print(f"2 ranks x batch {b}: test accuracy {100*two:.2f}% ({two_s:.1f} s wall)")
print(f"difference: {100*(two-one):+.2f} points")
PY
