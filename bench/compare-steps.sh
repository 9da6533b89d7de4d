#!/usr/bin/env bash
# The engines' step and epoch times of two builds of the CLI, from `softmaxgpu bench --json` (medians inside each
# run, start-up excluded), the builds alternating REPS times on each device; prints a table of the medians over the
# runs and new/old. Usage: bash bench/compare-steps.sh OLD_CLI_DLL NEW_CLI_DLL [REPS]
set -euo pipefail
old=$1; new=$2; reps=${3:-3}
out=$(mktemp)
declare -A shapes=([host]="60000x784x10 200000x256x10 20000x1024x100" [cpu]="8192x64x10 4096x784x10 2048x256x100")
for _ in $(seq "$reps"); do
  for build in old new; do
    dll=$old; [ $build = new ] && dll=$new
    for device in host cpu; do
      # shellcheck disable=SC2086
      dotnet "$dll" bench --device $device --json --kernels auto --steps 10 --epochs 2 --batch-size 256 ${shapes[$device]} 2>/dev/null \
        | sed "s/^/$build $device /" >> "$out"
    done
  done
done
python3 - "$out" <<'PY'
import collections, json, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, device, text = line.split(' ', 2)
    r = json.loads(text)
    shape = f"{r['N']}x{r['D']}x{r['K']}"
    for what in ("step_ms", "epoch_ms"):
        if r[what] is not None:
            d[(device, shape, what, build)].append(r[what])
print("| device | shape | time | old median | new median | new/old |")
print("| --- | --- | --- | --- | --- | --- |")
for (device, shape, what, build) in sorted(k for k in d if k[3] == "old"):
    o, n = statistics.median(d[(device, shape, what, "old")]), statistics.median(d[(device, shape, what, "new")])
    print(f"| {device} | {shape} | {what} | {o:.2f} | {n:.2f} | {n / o:.3f} |")
PY
