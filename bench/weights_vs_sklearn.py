#!/usr/bin/python3
r"""Weighted and soft-target training beside scikit-learn and a float64 reference.

    /usr/bin/python3 bench/weights_vs_sklearn.py --out /tmp/weights \
        --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Debug/net10.0/SoftmaxGpu.Cli.dll" [--device D] [--check]

Cases, each on the whole training file written to OUT (no test split: the objective is a training-set figure):
  * balanced-glass: datasets/glass.csv (214 rows, 6 classes of 9 to 76 rows), `train --class-weight balanced`
    beside LogisticRegression(C=1, class_weight='balanced').
  * balanced-satimage: a seeded imbalanced subsample of datasets/satimage.csv (class i keeps a share 1/2^i of its
    rows, i = 0..5 in class order), the same two runs.
  * weight-column-glass: glass with a seeded weight column w ~ Uniform(0, 3) (rows with w = 0 every 10th),
    `train --weight-column w` beside LogisticRegression(C=1).fit(X, y, sample_weight=w).
  * targets-onehot-glass: glass's labels as one-hot probability columns, `train --target-columns ...` beside
    LogisticRegression(C=1) (the same objective).
  * targets-soft-glass: soft targets (0.7·onehot + 0.3·a seeded Dirichlet row), `train --target-columns ...`
    beside the float64 optimum of the same objective found by SciPy's L-BFGS (gtol 1e-10) from zeros.
scikit-learn: StandardScaler on the training rows, lbfgs, tol=1e-10, max_iter=100000. Both models' objective
    J = Σ_i w_i·CE_i / Σ_i w_i + ‖W‖² / (2·C·Σ_i w_i)
(scikit-learn's C·Σ w_i·CE_i + ½‖W‖² divided by C·Σw) is computed here in float64: ours from the W, b, mean and
std in the model file it writes, on the raw features; scikit-learn's on its scaler's features. --check exits 2
unless every |J_ours − J_ref| / J_ref ≤ 1e-4.
"""

import argparse
import os
import shlex
import struct
import subprocess
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C = 1.0
TOL = 1e-4


def read_csv(path):
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    header = lines[0].split(",")
    rows = [ln.split(",") for ln in lines[1:]]
    X = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([r[-1] for r in rows])
    return header, X, y


def classes_of(y):
    """Our class order: numeric if every label is an integer, else ordinal."""
    distinct = sorted(set(y))
    try:
        return sorted(distinct, key=int)
    except ValueError:
        return distinct


def write_csv(path, header, columns):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in zip(*columns):
            f.write(",".join(v if isinstance(v, str) else repr(float(v)) for v in row) + "\n")


def read_model(path):
    """(classes, mean, std, W [K, D], b [K]) from our model file (README: Model file)."""
    data = open(path, "rb").read()
    at = 12
    k, d = struct.unpack_from("<ii", data, at)
    at += 8

    def string():
        nonlocal at
        (n,) = struct.unpack_from("<i", data, at)
        at += 4 + n
        return data[at - n:at].decode()

    string()  # label column
    classes = [string() for _ in range(k)]
    [string() for _ in range(d)]
    mean = np.frombuffer(data, "<f8", d, at); at += 8 * d
    std = np.frombuffer(data, "<f8", d, at); at += 8 * d
    W = np.frombuffer(data, "<f4", k * d, at).reshape(k, d).astype(np.float64); at += 4 * k * d
    b = np.frombuffer(data, "<f4", k, at).astype(np.float64)
    return classes, mean, std, W, b


def objective(Xs, Y, w, W, b):
    """Σ w·CE / Σw + ‖W‖²/(2·C·Σw) in float64; Y: [N, K] targets (one-hot or probabilities)."""
    Z = Xs @ W.T + b
    ce = -(Y * (Z - logsumexp(Z, axis=1, keepdims=True))).sum(axis=1)
    return (w * ce).sum() / w.sum() + (W ** 2).sum() / (2 * C * w.sum())


def ours(args, name, data, options):
    model = os.path.join(args.out, name + ".model")
    cmd = shlex.split(args.softmaxgpu) + ["train", "--data", data, "--model", model, "--quiet", "--device", args.device] + options
    print("$ " + " ".join(cmd), file=sys.stderr)
    done = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(1)
    return read_model(model)


def our_objective(model, X, Y, w, order):
    """J of our model on raw X; Y's columns in `order`, permuted to the model's class order."""
    classes, mean, std, W, b = model
    perm = [order.index(c) for c in classes]
    return objective((X - mean) / std, Y[:, perm], w, W, b)


def sklearn_fit(X, y, **fit):
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, tol=1e-10, max_iter=100000, class_weight=fit.pop("class_weight", None))
    lr.fit(scaler.transform(X), y, **fit)
    return scaler, lr


def onehot(y, order):
    return (y[:, None] == np.array(order)[None, :]).astype(np.float64)


def case_weighted(args, name, header, X, y, balanced, sample_weight=None):
    order = classes_of(y)
    Y = onehot(y, order)
    path = os.path.join(args.out, name + ".csv")
    if sample_weight is None:
        write_csv(path, header, [*X.T, y])
        options = ["--class-weight", "balanced"] if balanced else []
    else:
        write_csv(path, header[:-1] + ["w", header[-1]], [*X.T, sample_weight, y])
        options = ["--weight-column", "w"]
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    if balanced:
        counts = Y.sum(axis=0)
        w = w * (len(y) / (len(order) * counts))[Y.argmax(axis=1)]
    scaler, lr = sklearn_fit(X, y, class_weight="balanced" if balanced else None,
                             **({} if sample_weight is None else {"sample_weight": sample_weight}))
    sk_order = list(lr.classes_)
    reference = objective(scaler.transform(X), onehot(y, sk_order), w, lr.coef_, lr.intercept_)
    got = our_objective(ours(args, name, path, options), X, Y, w, order)
    return name, "scikit-learn", reference, got


def case_targets(args, name, header, X, y, soft):
    order = classes_of(y)
    Y = onehot(y, order)
    if soft:
        rng = np.random.default_rng(7)
        Y = 0.7 * Y + 0.3 * rng.dirichlet(np.ones(len(order)), size=len(y))
    names = ["p_" + c for c in order]
    path = os.path.join(args.out, name + ".csv")
    write_csv(path, header[:-1] + names, [*X.T, *Y.T])
    got_model = ours(args, name, path, ["--target-columns", ",".join(names)])
    classes, *rest = got_model
    got = our_objective(([c[2:] for c in classes], *rest), X, Y, np.ones(len(y)), order)
    scaler = StandardScaler().fit(X)
    Xs = scaler.transform(X)
    if not soft:
        lr = LogisticRegression(C=C, tol=1e-10, max_iter=100000).fit(Xs, y)
        return name, "scikit-learn", objective(Xs, onehot(y, list(lr.classes_)), np.ones(len(y)), lr.coef_, lr.intercept_), got
    n, d = Xs.shape
    k = len(order)

    def f(theta):
        W, b = theta[:k * d].reshape(k, d), theta[k * d:]
        Z = Xs @ W.T + b
        Q = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
        G = (Q * Y.sum(axis=1, keepdims=True) - Y) / n
        return objective(Xs, Y, np.ones(n), W, b), np.concatenate([(G.T @ Xs + W / (C * n)).ravel(), G.sum(axis=0)])

    best = minimize(f, np.zeros(k * d + k), jac=True, method="L-BFGS-B",
                    options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 100000})
    return name, "float64 L-BFGS", best.fun, got


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--softmaxgpu", required=True)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--device", default="auto", help="our --device (auto, host, cpu, opencl, cuda)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    header, X, y = read_csv(os.path.join(REPO, "datasets", "glass.csv"))
    sh, sX, sy = read_csv(os.path.join(REPO, "datasets", "satimage.csv"))
    rng = np.random.default_rng(0)
    keep = np.zeros(len(sy), bool)
    for i, c in enumerate(classes_of(sy)):
        rows = np.flatnonzero(sy == c)
        keep[rng.choice(rows, max(1, len(rows) >> i), replace=False)] = True
    weights = np.random.default_rng(1).uniform(0, 3, len(y))
    weights[::10] = 0

    results = [
        case_weighted(args, "balanced-glass", header, X, y, balanced=True),
        case_weighted(args, "balanced-satimage", sh, sX[keep], sy[keep], balanced=True),
        case_weighted(args, "weight-column-glass", header, X, y, balanced=False, sample_weight=weights),
        case_targets(args, "targets-onehot-glass", header, X, y, soft=False),
        case_targets(args, "targets-soft-glass", header, X, y, soft=True),
    ]
    print("| case | reference | reference J | ours J | relative difference |")
    print("| --- | --- | --- | --- | --- |")
    worst = 0.0
    for name, what, reference, got in results:
        rel = abs(got - reference) / abs(reference)
        worst = max(worst, rel)
        print(f"| {name} | {what} | {reference:.8f} | {got:.8f} | {rel:.1e} |")
    if args.check and worst > TOL:
        sys.exit(2)


if __name__ == "__main__":
    main()
