#!/usr/bin/env bash
# SoftmaxGpu's sparse L-BFGS against scikit-learn (lbfgs, multinomial) and liblinear (-s 0) on the same LIBSVM
# files, in one run: our wall time from the command line (start-up, parsing and the plan included) and peak RSS
# (/usr/bin/time), our J and iterations from the summary, test accuracy from `evaluate`; the peers' figures from
# bench/sparse_peers.py (each in its own child process). Prints one table and the ratios the sparse issue asks for.
# Usage: bash bench/sparse-vs-peers.sh TRAIN.libsvm TEST.libsvm [C] [PEERS]   (PEERS: sklearn,liblinear by default)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
train=$1; test=$2; c=${3:-1}; peers=${4:-sklearn,liblinear}
# A fresh machine has no package index yet: update it when the first try finds no package.
install() { apt-get install -y -qq "$@" > /dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$@" > /dev/null; }; }
command -v liblinear-train > /dev/null || install liblinear-tools
/usr/bin/python3 -c "import sklearn" 2> /dev/null || install python3-sklearn
dotnet build -c Release src/SoftmaxGpu.Cli > /dev/null
cli=src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

/usr/bin/time -f "%e %M" -o "$work/time" "$cli" train --data "$train" --scale none --C "$c" --model "$work/m.model" --quiet \
  > "$work/train.log" 2>&1 || { cat "$work/train.log"; exit 1; }
"$cli" evaluate --model "$work/m.model" --data "$test" --json 2> /dev/null > "$work/eval.json"
/usr/bin/python3 bench/sparse_peers.py --train "$train" --test "$test" --C "$c" --peers "$peers" --workdir "$work" \
  --json "$work/peers.json" > "$work/peers.log"

/usr/bin/python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
log = open(f"{work}/train.log").read()
wall, rss_kb = open(f"{work}/time").read().split()
ours = {
    "peer": "softmaxgpu (sparse, host engine)",
    "fit_s": float(wall),
    "iterations": int(re.search(r"lbfgs: (\d+) iterations", log).group(1)),
    "J": float(re.search(r"objective ([0-9.]+)", log.split("model:")[-1]).group(1)),
    "test_acc": json.load(open(f"{work}/eval.json"))["accuracy"],
    "peak_rss_mib": int(rss_kb) / 1024,
}
print(log.strip())
peers = json.load(open(f"{work}/peers.json"))
print(f"data: {peers['dataset']['train']}: {peers['dataset']['train_rows']} rows, {peers['dataset']['features']} features, "
      f"{peers['dataset']['classes']} classes, {peers['dataset']['nnz_per_row']:.1f} non-zeros a row; C = {peers['dataset']['C']}")
print("| run | wall s (ours: whole command) | iterations | J | test accuracy | peak RSS MiB |")
print("|---|---|---|---|---|---|")
rows = [ours] + peers["results"]
for r in rows:
    it = r.get("iterations", r.get("n_iter", r.get("newton_iters_total", "")))
    j = f"{r['J']:.8f}" if r.get("J") is not None else "n/a (one-vs-rest)"
    print(f"| {r['peer']} | {r['fit_s']:.1f} | {it} | {j} | {r['test_acc']:.4f} | {r['peak_rss_mib']:.0f} |")
for r in peers["results"]:
    print(f"ours / {r['peer']}: time {ours['fit_s'] / r['fit_s']:.3f}; accuracy {100 * (ours['test_acc'] - r['test_acc']):+.2f} points"
          + (f"; J relative difference {(ours['J'] - r['J']) / r['J']:+.2e}" if r.get("J") is not None else ""))
PY
