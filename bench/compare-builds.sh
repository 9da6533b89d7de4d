#!/usr/bin/env bash
# The same `train` commands with two builds of the CLI, alternating, REPS times each; prints
# "BUILD COMMAND SECONDS" lines (wall time, start-up included) and then min/median per command.
# Usage: bash bench/compare-builds.sh OLD_CLI_DLL NEW_CLI_DLL [REPS]
# Needs $BENCH_DIR/digits-{train,test}.csv (default /tmp/bench; bench/sklearn_baseline.py --out writes them) and
# datasets/mnist. Every command names its optimizer and λ and runs on each of $DEVICES (default: the CPU
# accelerator and the host engine), so builds with other defaults (before and after `--optimizer auto`) do the same work.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
old=$1; new=$2; reps=${3:-5}; b=${BENCH_DIR:-/tmp/bench}; devices=${DEVICES:-cpu host}
out=$(mktemp)
run() {
  local s; s=$(date +%s.%N)
  dotnet "$2" "${@:5}" --device "$4" --model /tmp/compare-builds.model > /dev/null 2>&1 || echo "FAILED: $*" >&2
  echo "$1 $3-$4 $(echo "$(date +%s.%N) - $s" | bc)" | tee -a "$out"
}
for _ in $(seq "$reps"); do
  for build in old new; do
    dll=$old; [ $build = new ] && dll=$new
    for device in $devices; do
    run $build "$dll" iris-adam $device train --optimizer adam --batch-size 64 --weight-decay 0
    run $build "$dll" iris-lbfgs $device train --optimizer lbfgs --weight-decay 0.0066666667
    run $build "$dll" digits-adam $device train --data "$b/digits-train.csv" --val "$b/digits-test.csv" --optimizer adam --batch-size 64 --weight-decay 0
    run $build "$dll" digits-lbfgs $device train --data "$b/digits-train.csv" --optimizer lbfgs --weight-decay 0.00074239049
    run $build "$dll" mnist-1-epoch $device train --data datasets/mnist --epochs 1 --optimizer adam --batch-size 64 --weight-decay 0
    run $build "$dll" digits-fullbatch-200 $device train --data "$b/digits-train.csv" --optimizer adam --batch-size 0 --epochs 200 --weight-decay 0
    done
  done
done
python3 - "$out" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, name, t = line.split(); d[(name, build)].append(float(t))
print("| command | old min | old median | new min | new median | new/old (min) |")
for name in dict.fromkeys(n for n, _ in d):
    o, n = d[(name, "old")], d[(name, "new")]
    print(f"| {name} | {min(o):.2f} | {statistics.median(o):.2f} | {min(n):.2f} | {statistics.median(n):.2f} | {min(n)/min(o):.2f} |")
PY
