#!/usr/bin/env bash
# The same `train` commands with two builds of the CLI, alternating, REPS times each; prints
# "BUILD COMMAND SECONDS" lines (wall time, start-up included) and then min/median per command.
# Usage: bash bench/compare-builds.sh OLD_CLI_DLL NEW_CLI_DLL [REPS]
# Needs /tmp/bench/digits-{train,test}.csv (bench/sklearn_baseline.py writes them) and datasets/mnist.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
old=$1; new=$2; reps=${3:-5}
out=$(mktemp)
run() {
  local s; s=$(date +%s.%N)
  dotnet "$2" "${@:4}" --model /tmp/compare-builds.model > /dev/null 2>&1 || echo "FAILED: $*" >&2
  echo "$1 $3 $(echo "$(date +%s.%N) - $s" | bc)" | tee -a "$out"
}
for _ in $(seq "$reps"); do
  for build in old new; do
    dll=$old; [ $build = new ] && dll=$new
    run $build "$dll" iris-default train
    run $build "$dll" digits-default train --data /tmp/bench/digits-train.csv --val /tmp/bench/digits-test.csv
    run $build "$dll" mnist-1-epoch train --data datasets/mnist --epochs 1
    run $build "$dll" digits-fullbatch-200 train --data /tmp/bench/digits-train.csv --batch-size 0 --epochs 200
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
