#!/usr/bin/python3
r"""Multi-label on sparse rows: `train --multi-label` on LIBSVM tag lists kept sparse against scikit-learn's
OneVsRestClassifier(LogisticRegression(C=1)) on the same CSR matrix, J and micro-F1 beside fit time.

    /usr/bin/python3 bench/sparse_multilabel_vs_sklearn.py --out /tmp/sml \
        --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"

Sets (each written as LIBSVM multi-label files, "3,7 12:0.5 ...", OUT/<name>-train.libsvm and -test.libsvm):
  * synthetic: seeded sparse rows, 10000 training and 2500 test rows of D = 100000 features, 30 non-zeros a row drawn
    Zipf-like (column j with weight 1/(j + 10)), values uniform in (0, 1]; 16 tags from a seeded linear teacher (tag c
    on where its logit is in the top share_c of the rows, share_c from 5% to 35%), 2% of the tags flipped. Trained with
    `--scale none`: the objective is scikit-learn's on the raw CSR matrix.
  * emotions: datasets/emotions.csv (593 rows, 72 features, 6 tags) split as bench/multilabel_baseline.py splits it
    (train_test_split(test_size=0.25, random_state=0)), trained with `--sparse on` and the default `--scale std`
    (centred implicitly); scikit-learn fits the standardized (dense, centred) rows, as the model's statistics give.
Both minimize, in float64 from the parameters (ours read from the model file):
    J = (1/N) sum_rows sum_tags BCE(z, y) + ||W||^2 / (2 N)
scikit-learn's per-tag fits use lbfgs with tol=1e-10, max_iter=10000 (to the optimum); its time is the fit alone, ours
the whole `train` command (start-up and reading the text included).
"""

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from multilabel_baseline import fit_sklearn, load_emotions, objective, read_model  # noqa: E402


def synthetic(rows=12500, d=100_000, k=16, per_row=30, seed=7):
    rng = np.random.default_rng(seed)
    weights = 1.0 / (np.arange(d) + 10.0)
    weights /= weights.sum()
    drawn = rng.choice(d, size=(rows, per_row), p=weights)
    indptr, indices, values = [0], [], []
    for r in range(rows):
        columns = np.unique(drawn[r])
        indices.append(columns)
        values.append(rng.uniform(0.001, 1.0, size=len(columns)).round(3))
        indptr.append(indptr[-1] + len(columns))
    x = sp.csr_matrix((np.concatenate(values), np.concatenate(indices), np.array(indptr)), shape=(rows, d))
    teacher = rng.normal(size=(k, d)) * (rng.random((k, d)) < 0.05)
    z = np.asarray(x @ teacher.T)
    share = np.linspace(0.05, 0.35, k)
    y = (z >= np.array([np.quantile(z[:, c], 1 - share[c]) for c in range(k)])).astype(float)
    flip = rng.random(y.shape) < 0.02
    y[flip] = 1 - y[flip]
    cut = rows * 4 // 5
    return x[:cut], y[:cut], x[cut:], y[cut:]


def emotions():
    _, _, x, y = load_emotions()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    return sp.csr_matrix(x_train), y_train, sp.csr_matrix(x_test), y_test


def write_libsvm(path, x, y):
    with open(path, "w") as f:
        for r in range(x.shape[0]):
            tags = ",".join(str(c) for c in np.flatnonzero(y[r]))
            start, end = x.indptr[r], x.indptr[r + 1]
            entries = " ".join(f"{j + 1}:{v!r}" for j, v in zip(x.indices[start:end], x.data[start:end]))
            f.write(f"{tags} {entries}".rstrip() + "\n" if tags else f" {entries}\n")


def compare(name, x_train, y_train, x_test, y_test, scale, out, softmaxgpu):
    train, test = out / f"{name}-train.libsvm", out / f"{name}-test.libsvm"
    write_libsvm(train, x_train, y_train)
    write_libsvm(test, x_test, y_test)
    k = y_train.shape[1]
    # Tags that no training row has are not tags of our model (it learns the tags it sees); drop them for both.
    seen = y_train.sum(axis=0) > 0
    y_train, y_test = y_train[:, seen], y_test[:, seen]

    xs_train, xs_test = x_train, x_test
    if scale == "std":
        dense = x_train.toarray()
        mean, std = dense.mean(axis=0), dense.std(axis=0)
        std[std <= 1e-12] = 1.0
        xs_train, xs_test = (dense - mean) / std, (x_test.toarray() - mean) / std
    j_sk, f1_sk, sk_seconds = fit_sklearn(xs_train, y_train, xs_test, y_test)

    model = out / f"{name}.model"
    command = shlex.split(softmaxgpu) + ["train", "--data", str(train), "--multi-label", "--sparse", "on", "--scale", scale,
                                         "--features", str(x_train.shape[1]), "--model", str(model), "--quiet"]
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    ours_seconds = time.perf_counter() - start
    sys.stderr.write(run.stdout + run.stderr)
    if run.returncode != 0:
        return None
    _, classes, m_mean, m_std, w, b = read_model(model)
    order = [int(c) for c in classes]  # our tags are the column indices, ordered numerically
    assert order == list(np.flatnonzero(seen)), (classes, np.flatnonzero(seen))
    # The model keeps its scaling with the centre folded into the bias: z = (x / std)·Wᵀ + b on the raw rows, and W is
    # the standardized rows' W, so this J is the centred objective scikit-learn minimizes on the standardized rows.
    rows_train, rows_test = (x_train.toarray() / m_std, x_test.toarray() / m_std) if scale == "std" else (x_train, x_test)
    j_ours = objective(rows_train, y_train, w, b)
    z_test = rows_test @ w.T + b
    f1_ours = f1_score(y_test, (z_test >= 0).astype(int), average="micro", zero_division=0)
    evaluate = subprocess.run(shlex.split(softmaxgpu) + ["evaluate", "--model", str(model), "--data", str(test), "--json"],
                              capture_output=True, text=True)
    f1_cli = json.loads(evaluate.stdout)["micro_f1"] if evaluate.returncode == 0 else None
    return {
        "dataset": name, "rows": x_train.shape[0], "features": x_train.shape[1], "tags": int(seen.sum()), "nnz": int(x_train.nnz),
        "scale": scale, "J_sklearn": j_sk, "J_ours": j_ours, "J_rel_diff": abs(j_ours - j_sk) / abs(j_sk),
        "micro_f1_sklearn": f1_sk, "micro_f1_ours": f1_ours, "micro_f1_evaluate": f1_cli,
        "fit_s_sklearn": sk_seconds, "train_s_ours": ours_seconds, "tags_asked": k,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--softmaxgpu", required=True, help="command that runs the CLI")
    parser.add_argument("--sets", default="emotions,synthetic")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sets = {"emotions": (emotions, "std"), "synthetic": (synthetic, "none")}
    results = []
    for name in args.sets.split(","):
        load, scale = sets[name]
        result = compare(name, *load(), scale, args.out, args.softmaxgpu)
        if result is None:
            print(f"{name}: our train failed", file=sys.stderr)
            return 1
        results.append(result)
    print("| set | train rows × features × tags (nnz) | --scale | J scikit-learn | J ours | rel. diff | micro-F1 test sklearn / ours | fit s sklearn | train s ours |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['dataset']} | {r['rows']}×{r['features']}×{r['tags']} ({r['nnz']}) | {r['scale']} | {r['J_sklearn']:.8f} | "
              f"{r['J_ours']:.8f} | {r['J_rel_diff']:.1e} | {r['micro_f1_sklearn']:.4f} / {r['micro_f1_ours']:.4f} | "
              f"{r['fit_s_sklearn']:.2f} | {r['train_s_ours']:.2f} |")
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
