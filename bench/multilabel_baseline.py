#!/usr/bin/python3
r"""Multi-label: SoftmaxGpu's `train --multi-label` against scikit-learn's
OneVsRestClassifier(LogisticRegression(C=1)), the same per-tag objective.

    /usr/bin/python3 bench/multilabel_baseline.py --out /tmp/ml \
        --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"

Datasets:
  * emotions: datasets/emotions.csv (MULAN; 593 rows, 72 features, 6 tags in
    its last six 0/1 columns).
  * synthetic: sklearn.datasets.make_multilabel_classification(n_samples=3000,
    n_features=40, n_classes=8, n_labels=3, random_state=7), written as a CSV
    with tag columns t0..t7.
Each is split by train_test_split(test_size=0.25, random_state=0) into
OUT/<name>-train.csv and OUT/<name>-test.csv.

Both models see the same standardized features (the training rows' mean and
population std, as SoftmaxGpu stores them in the model). scikit-learn fits one
LogisticRegression(C=1, solver='lbfgs', tol=1e-10, max_iter=10000) per tag;
we run `train --multi-label --label t1,...,tK` with default options (L-BFGS to
the optimum, lambda = 1/N). The objective, for both, in float64 from the
parameters (ours read from the model file):
    J = (1/N) sum_rows sum_tags BCE(z, y) + ||W||^2 / (2 N)
which is the sum over tags of scikit-learn's per-tag objective divided by C*N.
Reported: both J and their relative difference (tolerance 1e-4), micro-F1 on
the test rows for both (threshold 0.5; tolerance 0.5 points), fit times.
Exit status 2 if a tolerance is missed (with --check), 1 if our CLI failed.
"""

import argparse
import json
import shlex
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier

ROOT = Path(__file__).resolve().parent.parent
OBJECTIVE_TOL = 1e-4
F1_TOL_POINTS = 0.5


def load_emotions():
    path = ROOT / "datasets" / "emotions.csv"
    header = path.open().readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return header[:-6], header[-6:], data[:, :-6], data[:, -6:]


def load_synthetic():
    x, y = make_multilabel_classification(n_samples=3000, n_features=40, n_classes=8, n_labels=3, random_state=7)
    return [f"f{j}" for j in range(x.shape[1])], [f"t{c}" for c in range(y.shape[1])], x.astype(float), y.astype(float)


def write_csv(path, features, tags, x, y):
    with open(path, "w") as f:
        f.write(",".join(features + tags) + "\n")
        for row, labels in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + ",".join(str(int(v)) for v in labels) + "\n")


def read_model(path):
    """The model file (README.md, "Model file"): version 2, little-endian."""
    data = Path(path).read_bytes()
    at = 8

    def take(fmt):
        nonlocal at
        values = struct.unpack_from("<" + fmt, data, at)
        at += struct.calcsize("<" + fmt)
        return values

    def string():
        nonlocal at
        (length,) = take("i")
        text = data[at:at + length].decode()
        at += length
        return text

    version, k, d = take("iii")
    assert version == 2, version
    kind = string()
    string()  # label name
    classes = [string() for _ in range(k)]
    [string() for _ in range(d)]
    mean = np.array(take(f"{d}d"))
    std = np.array(take(f"{d}d"))
    w = np.array(take(f"{k * d}f"), dtype=np.float64).reshape(k, d)
    b = np.array(take(f"{k}f"), dtype=np.float64)
    return kind, classes, mean, std, w, b


def objective(x, y, w, b):
    """J = (1/N) Σ_rows Σ_tags BCE(z, y) + ‖W‖²/(2N) in float64, for x dense or CSR."""
    z = np.asarray(x @ w.T) + b
    bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return bce.sum() / x.shape[0] + (w * w).sum() / (2 * x.shape[0])


def fit_sklearn(xs_train, y_train, xs_test, y_test):
    """OneVsRestClassifier(LogisticRegression(C=1)) to the optimum: its J, test micro-F1 and fit seconds."""
    start = time.perf_counter()
    ovr = OneVsRestClassifier(LogisticRegression(C=1.0, solver="lbfgs", tol=1e-10, max_iter=10000)).fit(xs_train, y_train)
    seconds = time.perf_counter() - start
    w = np.vstack([e.coef_ for e in ovr.estimators_])
    b = np.concatenate([e.intercept_ for e in ovr.estimators_])
    f1 = f1_score(y_test, (xs_test @ w.T + b >= 0).astype(int), average="micro", zero_division=0)
    return objective(xs_train, y_train, w, b), f1, seconds


def compare(name, features, tags, x, y, out, softmaxgpu):
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    train_csv, test_csv = out / f"{name}-train.csv", out / f"{name}-test.csv"
    write_csv(train_csv, features, tags, x_train, y_train)
    write_csv(test_csv, features, tags, x_test, y_test)

    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std <= 1e-12] = 1.0
    xs_train, xs_test = (x_train - mean) / std, (x_test - mean) / std
    j_sk, f1_sk, sk_seconds = fit_sklearn(xs_train, y_train, xs_test, y_test)

    model = out / f"{name}.model"
    command = shlex.split(softmaxgpu) + ["train", "--data", str(train_csv), "--multi-label", "--label", ",".join(tags),
                                         "--model", str(model), "--quiet"]
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    ours_seconds = time.perf_counter() - start
    sys.stderr.write(run.stdout + run.stderr)
    if run.returncode != 0:
        return None
    kind, classes, m_mean, m_std, w, b = read_model(model)
    assert classes == tags, (classes, tags)
    # Our θ applies to features standardized with the model's statistics (float32 data): the same as above to ~1e-7.
    j_ours = objective((x_train - m_mean) / m_std, y_train, w, b)
    f1_ours = f1_score(y_test, ((x_test - m_mean) / m_std @ w.T + b >= 0).astype(int), average="micro", zero_division=0)
    return {
        "dataset": name, "rows": len(x_train), "features": len(features), "tags": len(tags), "kind": kind,
        "J_sklearn": j_sk, "J_ours": j_ours, "J_rel_diff": abs(j_ours - j_sk) / abs(j_sk),
        "micro_f1_sklearn": f1_sk, "micro_f1_ours": f1_ours, "f1_diff_points": 100 * (f1_ours - f1_sk),
        "fit_s_sklearn": sk_seconds, "train_s_ours": ours_seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--softmaxgpu", required=True, help="command that runs the CLI")
    parser.add_argument("--check", action="store_true", help="exit 2 if a tolerance is missed")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    results = []
    for name, load in [("emotions", load_emotions), ("synthetic", load_synthetic)]:
        result = compare(name, *load(), args.out, args.softmaxgpu)
        if result is None:
            print(f"{name}: our train failed", file=sys.stderr)
            return 1
        results.append(result)

    print("| dataset | train rows × features × tags | J scikit-learn | J ours | rel. diff | micro-F1 test sklearn | ours | diff (points) | fit s sklearn | train s ours |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['dataset']} | {r['rows']}×{r['features']}×{r['tags']} | {r['J_sklearn']:.8f} | {r['J_ours']:.8f} | "
              f"{r['J_rel_diff']:.1e} | {r['micro_f1_sklearn']:.4f} | {r['micro_f1_ours']:.4f} | {r['f1_diff_points']:+.2f} | "
              f"{r['fit_s_sklearn']:.2f} | {r['train_s_ours']:.2f} |")
    for r in results:
        print(json.dumps(r))
    missed = [r["dataset"] for r in results
              if r["J_rel_diff"] > OBJECTIVE_TOL or abs(r["f1_diff_points"]) > F1_TOL_POINTS]
    if args.check and missed:
        print(f"missed a tolerance: {', '.join(missed)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
