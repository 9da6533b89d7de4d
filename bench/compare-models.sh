#!/usr/bin/env bash
# Trains the same models with two builds of the CLI and compares the model files byte for byte (`cmp`):
# Adam and L-BFGS on iris and digits, resident, streamed from memory (--device-memory) and from a .sgd file,
# on the host engine and the CPU accelerator, multi-label emotions and smoothed iris resident, and with 2 MPI ranks where mpiexec is installed (.ci/install-mpi).
# Prints one line per model, "same" or "DIFFERS" with both runs' final train loss and objective, and exits 1 if any
# differs or fails.
# Usage: bash bench/compare-models.sh OLD_CLI_DLL NEW_CLI_DLL
set -uo pipefail
cd "$(git rev-parse --show-toplevel)"
old=$1; new=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
status=0
dotnet "$new" convert --data datasets/iris.csv --out "$work/iris.sgd" > /dev/null
dotnet "$new" convert --data datasets/digits.csv --out "$work/digits.sgd" > /dev/null
mpi=$(command -v mpiexec.mpich || command -v mpiexec || true)

# summary LOG: the final train loss and objective a run printed on its model line.
summary() { grep -o 'train loss [0-9.]*\(, objective [0-9.]*\)\?' "$1" | tail -1; }

# check NAME LAUNCHER ARGS...: trains with each build, then compares the two model files.
check() {
  local name=$1 launcher=$2; shift 2
  for build in old new; do
    local dll=$old; [ $build = new ] && dll=$new
    if ! $launcher dotnet "$dll" train "$@" --quiet --model "$work/$name.$build.model" > "$work/$name.$build.log" 2>&1; then
      echo "$name: FAILED with the $build build: $(grep -m1 error "$work/$name.$build.log")"; status=1; return
    fi
  done
  case $name in *streamed*|*sgd*|*ranks*)
    grep -q "data: streamed" "$work/$name.new.log" || { echo "$name: did not stream"; status=1; } ;; esac
  if cmp -s "$work/$name.old.model" "$work/$name.new.model"; then echo "$name: same"
  else echo "$name: DIFFERS (old: $(summary "$work/$name.old.log"); new: $(summary "$work/$name.new.log"))"; status=1; fi
}

for device in host cpu; do
  for data in iris digits; do
    csv=datasets/$data.csv; memory=2KiB; [ $data = digits ] && memory=64KiB
    check "$data-lbfgs-$device" "" --data "$csv" --optimizer lbfgs --device $device
    check "$data-adam-$device" "" --data "$csv" --optimizer adam --epochs 20 --device $device
    check "$data-lbfgs-streamed-$device" "" --data "$csv" --optimizer lbfgs --device-memory $memory --device $device
    check "$data-adam-streamed-$device" "" --data "$csv" --optimizer adam --epochs 20 --device-memory $memory --device $device
    check "$data-lbfgs-sgd-$device" "" --data "$work/$data.sgd" --optimizer lbfgs --device-memory $memory --device $device
    check "$data-adam-sgd-$device" "" --data "$work/$data.sgd" --optimizer adam --epochs 20 --device-memory $memory --device $device
  done
done
tags=amazed-suprised,happy-pleased,relaxing-calm,quiet-still,sad-lonely,angry-aggresive
for device in host cpu; do
  check "emotions-multi-label-lbfgs-$device" "" --data datasets/emotions.csv --multi-label --label $tags --optimizer lbfgs --device $device
  check "emotions-multi-label-adam-$device" "" --data datasets/emotions.csv --multi-label --label $tags --optimizer adam --epochs 20 --device $device
  check "iris-smoothing-lbfgs-$device" "" --data datasets/iris.csv --label-smoothing 0.1 --optimizer lbfgs --device $device
done
if [ -n "$mpi" ]; then
  for data in iris digits; do
    memory=2KiB; [ $data = digits ] && memory=64KiB
    check "$data-lbfgs-2-ranks" "$mpi -n 2" --data "$work/$data.sgd" --optimizer lbfgs --device-memory $memory --device host
    check "$data-adam-2-ranks" "$mpi -n 2" --data "$work/$data.sgd" --optimizer adam --epochs 20 --device-memory $memory --device host
  done
else
  echo "2 MPI ranks: not run (no mpiexec; bash .ci/install-mpi installs MPICH)"
fi
exit $status
