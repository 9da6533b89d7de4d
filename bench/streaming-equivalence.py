#!/usr/bin/python3
"""Streamed training against resident training, on the same split and the same device.

For each dataset: `train --optimizer lbfgs` resident, and again with `--device-memory` set to one eighth of the
training data's bytes (so it streams through the device in blocks); the two final objectives must agree within
1e-6 relative. Then `train --optimizer adam --seed 1` both ways and `evaluate --json` on the test split; the test
accuracies must agree within 0.2 points. Splits are bench/sklearn_baseline.py's (stratified 75/25,
random_state=0), written to OUT by this script. A dataset is a name in datasets/ or a path to a CSV (label last).

    /usr/bin/python3 bench/streaming-equivalence.py --out /tmp/bench-stream --dataset digits satimage letter \
        --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"

Prints a markdown table; exits 1 if any dataset misses a tolerance or a run fails.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_baseline import split_csv_dataset  # noqa: E402  (the same split as the scikit-learn comparison)


def run(cli, args):
    done = subprocess.run(shlex.split(cli) + args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{done.stderr}")
    return done.stdout


def objective(out):
    return float(re.findall(r"objective ([0-9.eE+-]+)", out)[-1])


def accuracy(cli, model, test):
    return json.loads(run(cli, ["evaluate", "--model", model, "--data", test, "--json"]))["accuracy"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--dataset", nargs="+", required=True)
    ap.add_argument("--softmaxgpu", required=True)
    ap.add_argument("--device", default="auto")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ok = True
    print("| dataset | N × D | data bytes | --device-memory | blocks | J resident | J streamed | rel. diff | "
          "Adam test acc. resident / streamed | diff (points) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in a.dataset:
        train, test = split_csv_dataset(name, a.out)[4:6]
        with open(train) as f:
            header = f.readline()
            rows = sum(1 for _ in f)
        dim = header.count(",")
        data_bytes = 4 * rows * (dim + 1)
        cap = str(max(1, data_bytes // 8))
        common = ["train", "--data", train, "--device", a.device, "--quiet"]
        m = os.path.join(a.out, os.path.splitext(os.path.basename(name))[0])
        resident = run(a.softmaxgpu, common + ["--optimizer", "lbfgs", "--model", m + "-r.model"])
        streamed = run(a.softmaxgpu, common + ["--optimizer", "lbfgs", "--model", m + "-s.model", "--device-memory", cap])
        blocks = re.search(r"\((\d+) blocks", streamed)
        if not blocks:
            sys.exit(f"{name}: --device-memory {cap} did not stream:\n{streamed}")
        jr, js = objective(resident), objective(streamed)
        rel = abs(js - jr) / abs(jr)
        run(a.softmaxgpu, common + ["--optimizer", "adam", "--seed", "1", "--model", m + "-ar.model"])
        run(a.softmaxgpu, common + ["--optimizer", "adam", "--seed", "1", "--model", m + "-as.model", "--device-memory", cap])
        ar, ast = accuracy(a.softmaxgpu, m + "-ar.model", test), accuracy(a.softmaxgpu, m + "-as.model", test)
        diff = 100 * (ast - ar)
        ok &= rel <= 1e-6 and abs(diff) <= 0.2
        print(f"| {name} | {rows} × {dim} | {data_bytes} | {cap} | {blocks.group(1)} | {jr:.8f} | {js:.8f} | {rel:.1e} | "
              f"{ar:.4f} / {ast:.4f} | {diff:+.2f} |", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
