#!/usr/bin/python3
r"""Compare SoftmaxGpu against scikit-learn's multinomial logistic regression.

Run with Debian's Python (python3-sklearn is installed there):

    /usr/bin/python3 bench/sklearn_baseline.py --dataset iris digits wine --out /tmp/bench \
        --defaults --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"

    /usr/bin/python3 bench/sklearn_baseline.py --dataset all --out /tmp/bench --lbfgs \
        --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"

    /usr/bin/python3 bench/sklearn_baseline.py --dataset iris digits mnist \
        --out /tmp/bench --skip-ours

Datasets: mnist, or any datasets/<name>.csv (iris, digits, wine, glass,
vehicle, satimage, letter, ...; see datasets/README.md); `all` means every
datasets/*.csv (not mnist).

For each dataset:
  * CSV datasets: deterministic stratified split of datasets/<name>.csv with
    train_test_split(test_size=0.25, stratify=y, random_state=0); written to
    OUT/<name>-train.csv and OUT/<name>-test.csv (same header, rows verbatim).
    The label is the last column.
  * mnist: the IDX files in datasets/mnist (run datasets/get-mnist.sh first);
    train = 60000 training images, test = 10000 t10k images; pixels / 255.
    No CSVs are written for mnist.
  * sklearn: StandardScaler fitted on train, then
    LogisticRegression(solver='lbfgs', C=1.0, max_iter=1000) (multinomial).
    Reports test accuracy, test log-loss, fit time (fit only) and the final
    training objective  J = mean CE(train) + ||W||^2 / (2*C*N)  (sklearn's
    objective divided by C*N; the intercept is not penalised).
  * ours (unless --skip-ours): runs the CLI's `train` and `evaluate --json`
    commands and times `train` wall-clock (process start to exit). Our final
    objective is the last `objective <float>` that `train` prints on stdout
    (none if it prints none). The mode picks the `train` options:
      --defaults  `train --data TRAIN --model M`: no optimizer options at all,
                  the CLI's defaults (which should reach the J above).
      --lbfgs     `train --data TRAIN --optimizer lbfgs --weight-decay 1/(C*N)
                  --model M`: our L-BFGS on the same objective.
      (neither)   the older comparison: `train --data TRAIN --val TEST
                  --model M` (no --val for mnist); J is reported if printed.
    Both J values, |ours - sklearn| / sklearn, the accuracy difference in
    points and whether each is within tolerance (J: OBJECTIVE_TOL relative,
    accuracy: ACCURACY_TOL_POINTS) are in the table and the JSON lines.

stdout: a markdown table (header unless --no-header, then one row per
dataset), followed by one JSON object per dataset, one per line.
Progress and the CLI's own output go to stderr.
Exit status: 1 if any of our CLI runs failed; else, with --check, 2 if any
dataset misses a tolerance (or our J is missing); else 0.

Timing note: Debian's numpy/scipy use whatever libblas.so.3 the alternatives
system selects. With only the reference BLAS (libblas3) the MNIST fit is
about 3x slower than with OpenBLAS (apt-get install libopenblas0-pthread).
The BLAS in use is recorded in the JSON output ("blas").
"""

import argparse
import csv
import json
import math
import os
import re
import shlex
import struct
import subprocess
import sys
import time

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(REPO, "datasets")
C = 1.0
MAX_ITER = 1000
TEST_SIZE = 0.25
RANDOM_STATE = 0
BLAS = "unknown"
OBJECTIVE_TOL = 1e-4          # |J_ours - J_sklearn| / J_sklearn
ACCURACY_TOL_POINTS = 0.3     # |acc_ours - acc_sklearn| in percentage points
OBJECTIVE_RE = re.compile(r"objective ([0-9.eE+-]+)")

TABLE_HEADER = (
    "| dataset | N×D×K train | test rows | sklearn J | ours J | rel. diff J "
    "| sklearn acc | ours acc | diff (points) | within tol (J, acc) "
    "| sklearn log-loss | ours log-loss | sklearn fit s | ours train s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


# Multi-label sets (several 0/1 tag columns, not one label column): bench/multilabel_baseline.py compares them.
MULTI_LABEL = {"emotions"}


def csv_datasets():
    """Names of datasets/<name>.csv with one label column (the last), sorted."""
    return sorted(f[:-4] for f in os.listdir(DATASETS)
                  if f.endswith(".csv") and os.path.isfile(os.path.join(DATASETS, f)) and f[:-4] not in MULTI_LABEL)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Data loading
# --------------------------------------------------------------------------

def read_csv_dataset(name):
    """Return (header_line, data_lines, X, y) for datasets/<name>.csv (or for <name> itself, a path ending .csv).

    The label is the last column. data_lines are the raw text lines (without
    newline) so that split files reproduce the source values exactly.
    """
    path = name if name.endswith(".csv") else os.path.join(DATASETS, name + ".csv")
    with open(path, "r", newline="") as f:
        text = f.read()
    lines = [ln.rstrip("\r") for ln in text.split("\n") if ln.strip() != ""]
    header, data_lines = lines[0], lines[1:]
    ncol = len(next(csv.reader([header])))
    rows = list(csv.reader(data_lines))
    for i, r in enumerate(rows):
        if len(r) != ncol:
            raise ValueError(f"{path}: line {i + 2} has {len(r)} columns, expected {ncol}")
    X = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float64)
    y = np.array([r[-1].strip() for r in rows])
    return header, data_lines, X, y


def read_idx(path):
    """Read an (uncompressed or .gz) IDX file into a numpy array."""
    opener = open
    if path.endswith(".gz"):
        import gzip
        opener = gzip.open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    arr = np.frombuffer(data, dtype=np.uint8, count=count, offset=offset)
    return arr.reshape(dims)


def find_idx(directory, stem):
    for cand in (stem, stem + ".gz"):
        p = os.path.join(directory, cand)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(
        f"{os.path.join(directory, stem)} not found; run datasets/get-mnist.sh first")


def load_mnist():
    d = os.path.join(DATASETS, "mnist")
    Xtr = read_idx(find_idx(d, "train-images-idx3-ubyte"))
    ytr = read_idx(find_idx(d, "train-labels-idx1-ubyte"))
    Xte = read_idx(find_idx(d, "t10k-images-idx3-ubyte"))
    yte = read_idx(find_idx(d, "t10k-labels-idx1-ubyte"))
    Xtr = Xtr.reshape(Xtr.shape[0], -1).astype(np.float64) / 255.0
    Xte = Xte.reshape(Xte.shape[0], -1).astype(np.float64) / 255.0
    if len(Xtr) != len(ytr) or len(Xte) != len(yte):
        raise ValueError("MNIST image/label counts differ")
    return Xtr, ytr.astype(np.int64), Xte, yte.astype(np.int64)


def split_csv_dataset(name, out_dir):
    header, lines, X, y = read_csv_dataset(name)
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=TEST_SIZE, stratify=y,
                              random_state=RANDOM_STATE)
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(name))[0]
    train_path = os.path.join(out_dir, f"{stem}-train.csv")
    test_path = os.path.join(out_dir, f"{stem}-test.csv")
    for path, part in ((train_path, tr), (test_path, te)):
        with open(path, "w", newline="\n") as f:
            f.write(header + "\n")
            for i in part:
                f.write(lines[i] + "\n")
    log(f"[{name}] wrote {train_path} ({len(tr)} rows), {test_path} ({len(te)} rows)")
    return X[tr], y[tr], X[te], y[te], train_path, test_path


# --------------------------------------------------------------------------
# sklearn
# --------------------------------------------------------------------------

def run_sklearn(name, Xtr, ytr, Xte, yte):
    scaler = StandardScaler().fit(Xtr)
    Ztr = scaler.transform(Xtr)
    Zte = scaler.transform(Xte)
    clf = LogisticRegression(solver="lbfgs", C=C, max_iter=MAX_ITER)
    log(f"[{name}] sklearn {sklearn.__version__}: fitting LogisticRegression on "
        f"{Ztr.shape[0]}x{Ztr.shape[1]} ...")
    t0 = time.perf_counter()
    clf.fit(Ztr, ytr)
    fit_s = time.perf_counter() - t0

    proba_te = clf.predict_proba(Zte)
    acc = accuracy_score(yte, clf.classes_[np.argmax(proba_te, axis=1)])
    ll = log_loss(yte, proba_te, labels=clf.classes_)

    # Training objective / (C*N): mean cross-entropy + ||W||^2 / (2 C N).
    logp_tr = clf.predict_log_proba(Ztr)
    cls_index = {c: i for i, c in enumerate(clf.classes_)}
    yi = np.array([cls_index[v] for v in ytr])
    mean_ce = -float(np.mean(logp_tr[np.arange(len(yi)), yi]))
    n = Ztr.shape[0]
    reg = float(np.sum(clf.coef_ ** 2)) / (2.0 * C * n)
    objective = mean_ce + reg
    n_iter = int(np.max(clf.n_iter_))
    log(f"[{name}] sklearn: acc={acc:.4f} log_loss={ll:.4f} fit={fit_s:.3f}s "
        f"n_iter={n_iter} objective={objective:.6f} (train CE {mean_ce:.6f} + reg {reg:.6f})")
    if n_iter >= MAX_ITER:
        log(f"[{name}] warning: lbfgs hit max_iter={MAX_ITER}")
    return {
        "accuracy": float(acc),
        "log_loss": float(ll),
        "fit_s": fit_s,
        "objective": objective,
        "train_mean_ce": mean_ce,
        "n_iter": n_iter,
        "converged": n_iter < MAX_ITER,
    }


# --------------------------------------------------------------------------
# ours
# --------------------------------------------------------------------------

def last_json_object(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def run_cmd(argv):
    log("$ " + " ".join(shlex.quote(a) for a in argv))
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    elapsed = time.perf_counter() - t0
    if proc.stdout:
        sys.stderr.write(proc.stdout if proc.stdout.endswith("\n") else proc.stdout + "\n")
    if proc.stderr:
        sys.stderr.write(proc.stderr if proc.stderr.endswith("\n") else proc.stderr + "\n")
    sys.stderr.flush()
    return proc, elapsed


def parse_objective(train_stdout):
    """The last `objective <float>` in train's stdout, or None."""
    value = None
    for m in OBJECTIVE_RE.finditer(train_stdout):
        try:
            value = float(m.group(1).rstrip(".,;"))
        except ValueError:
            continue
    return value


def train_argv(prefix, mode, name, train_data, test_data, model, n_train):
    argv = prefix + ["train", "--data", train_data]
    if mode == "lbfgs":
        argv += ["--optimizer", "lbfgs", "--weight-decay", repr(1.0 / (C * n_train))]
    elif mode == "legacy" and name != "mnist":
        argv += ["--val", test_data]
    # mode == "defaults": no options beyond --data and --model
    return argv + ["--model", model]


def run_ours(name, prefix, out_dir, train_data, test_data, expected_rows, n_train, mode):
    """mode: 'defaults' (no optimizer options), 'lbfgs' (lambda = 1/(C*N)) or 'legacy' (--val TEST)."""
    model = os.path.join(out_dir, f"{name}.model")
    os.makedirs(out_dir, exist_ok=True)
    argv = train_argv(prefix, mode, name, train_data, test_data, model, n_train)
    try:
        proc, train_s = run_cmd(argv)
    except OSError as e:
        log(f"[{name}] ours: cannot run train command: {e}")
        return None
    if proc.returncode != 0:
        log(f"[{name}] ours: train exited with status {proc.returncode}")
        return None
    objective = parse_objective(proc.stdout)
    if objective is None:
        log(f"[{name}] ours: train printed no 'objective <float>'")

    eval_argv = prefix + ["evaluate", "--model", model, "--data", test_data, "--json"]
    try:
        proc, _ = run_cmd(eval_argv)
    except OSError as e:
        log(f"[{name}] ours: cannot run evaluate command: {e}")
        return None
    if proc.returncode != 0:
        log(f"[{name}] ours: evaluate exited with status {proc.returncode}")
        return None
    res = last_json_object(proc.stdout)
    if res is None or "accuracy" not in res:
        log(f"[{name}] ours: no JSON object with 'accuracy' in evaluate output")
        return None
    if "rows" in res and expected_rows is not None and int(res["rows"]) != expected_rows:
        log(f"[{name}] warning: evaluate reported rows={res['rows']}, expected {expected_rows}")
    return {
        "accuracy": float(res["accuracy"]),
        "log_loss": float(res["log_loss"]) if res.get("log_loss") is not None else None,
        "macro_f1": float(res["macro_f1"]) if res.get("macro_f1") is not None else None,
        "rows": res.get("rows"),
        "train_s": train_s,
        "objective": objective,
        "train_argv": argv[len(prefix):],
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return ", ".join(f"{i.get('internal_api')} {i.get('version') or ''} "
                         f"threads={i.get('num_threads')}".replace("  ", " ")
                         for i in threadpool_info() if i.get("user_api") == "blas") or "unknown"
    except Exception:  # threadpoolctl missing or failing: not essential
        return "unknown"


def fmt(v, spec):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return format(v, spec)


def yes_no(v):
    return "n/a" if v is None else ("yes" if v else "NO")


def run_dataset(name, args, prefix):
    if name == "mnist":
        Xtr, ytr, Xte, yte = load_mnist()
        train_data = test_data = os.path.join(DATASETS, "mnist")
        log(f"[mnist] train {Xtr.shape}, test {Xte.shape}")
    else:
        Xtr, ytr, Xte, yte, train_data, test_data = split_csv_dataset(name, args.out)

    sk = run_sklearn(name, Xtr, ytr, Xte, yte)

    ours = None
    ours_failed = False
    if not args.skip_ours:
        ours = run_ours(name, prefix, args.out, train_data, test_data, len(yte), len(ytr), args.mode)
        ours_failed = ours is None

    ours_acc = ours["accuracy"] if ours else None
    diff = (ours_acc - sk["accuracy"]) * 100.0 if ours_acc is not None else None
    ours_j = ours["objective"] if ours else None
    rel = abs(ours_j - sk["objective"]) / sk["objective"] if ours_j is not None else None
    j_ok = rel <= OBJECTIVE_TOL if rel is not None else None
    acc_ok = abs(diff) <= ACCURACY_TOL_POINTS + 1e-9 if diff is not None else None
    row = {
        "dataset": name,
        "rows_train": int(len(ytr)),
        "rows_test": int(len(yte)),
        "features": int(Xtr.shape[1]),
        "classes": int(len(np.unique(ytr))),
        "mode": args.mode,
        "ours_train_args": ours["train_argv"] if ours else None,
        "sklearn_objective": sk["objective"],
        "ours_objective": ours_j,
        "objective_rel_diff": rel,
        "objective_signed_rel_diff": ((ours_j - sk["objective"]) / sk["objective"]
                                      if ours_j is not None else None),
        "objective_within_tol": j_ok,
        "sklearn_acc": sk["accuracy"],
        "ours_acc": ours_acc,
        "diff_points": diff,
        "accuracy_within_tol": acc_ok,
        "sklearn_log_loss": sk["log_loss"],
        "ours_log_loss": ours["log_loss"] if ours else None,
        "sklearn_fit_s": sk["fit_s"],
        "ours_train_s": ours["train_s"] if ours else None,
        "objective_tol": OBJECTIVE_TOL,
        "accuracy_tol_points": ACCURACY_TOL_POINTS,
        "sklearn_train_mean_ce": sk["train_mean_ce"],
        "sklearn_n_iter": sk["n_iter"],
        "sklearn_converged": sk["converged"],
        "ours_macro_f1": ours["macro_f1"] if ours else None,
        "ours_status": "skipped" if args.skip_ours else ("failed" if ours_failed else "ok"),
        "sklearn_version": sklearn.__version__,
        "blas": BLAS,
        "C": C,
    }
    md = (f"| {name} | {row['rows_train']}×{row['features']}×{row['classes']} | {row['rows_test']} "
          f"| {fmt(sk['objective'], '.8f')} | {fmt(ours_j, '.8f')} | {fmt(rel, '.1e')} "
          f"| {fmt(row['sklearn_acc'], '.4f')} | {fmt(row['ours_acc'], '.4f')} "
          f"| {fmt(diff, '+.2f')} | {yes_no(j_ok)}, {yes_no(acc_ok)} "
          f"| {fmt(row['sklearn_log_loss'], '.4f')} | {fmt(row['ours_log_loss'], '.4f')} "
          f"| {fmt(row['sklearn_fit_s'], '.3f')} | {fmt(row['ours_train_s'], '.3f')} |")
    return md, row, ours_failed


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    names = csv_datasets()
    ap.add_argument("--dataset", nargs="+", required=True,
                    choices=names + ["mnist", "all"], metavar="NAME",
                    help=f"one or more of {', '.join(names)}, mnist; "
                         "all = every single-label datasets/*.csv (not mnist; "
                         "emotions is multi-label: bench/multilabel_baseline.py)")
    ap.add_argument("--out", required=True,
                    help="directory for split CSVs and our model files")
    ap.add_argument("--softmaxgpu", default=None,
                    help='command prefix for our CLI, e.g. "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"')
    ap.add_argument("--skip-ours", action="store_true",
                    help="only run sklearn (still writes the split CSVs)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--defaults", dest="mode", action="store_const", const="defaults",
                      help="train ours with no optimizer options (`train --data TRAIN --model M`)")
    mode.add_argument("--lbfgs", dest="mode", action="store_const", const="lbfgs",
                      help="train ours with --optimizer lbfgs on sklearn's objective (--weight-decay 1/(C*N))")
    ap.add_argument("--check", action="store_true",
                    help=f"exit 2 if any dataset's J differs by more than {OBJECTIVE_TOL:g} relative, "
                         f"its accuracy by more than {ACCURACY_TOL_POINTS:g} points, or our J is missing")
    ap.add_argument("--no-header", action="store_true",
                    help="do not print the markdown table header")
    args = ap.parse_args()
    if args.mode is None:
        args.mode = "legacy"
    datasets = []
    for d in args.dataset:
        for n in (names if d == "all" else [d]):
            if n not in datasets:
                datasets.append(n)

    prefix = None
    if not args.skip_ours:
        if not args.softmaxgpu:
            ap.error("--softmaxgpu is required unless --skip-ours is given")
        prefix = shlex.split(args.softmaxgpu)

    global BLAS
    BLAS = blas_info()
    log(f"BLAS: {BLAS}")
    md_rows, json_rows, any_failed = [], [], False
    for name in datasets:
        md, row, failed = run_dataset(name, args, prefix)
        md_rows.append(md)
        json_rows.append(row)
        any_failed = any_failed or failed

    if not args.no_header:
        print(TABLE_HEADER)
    for md in md_rows:
        print(md)
    for row in json_rows:
        print(json.dumps(row))
    sys.stdout.flush()
    if any_failed:
        return 1
    if args.check and not args.skip_ours:
        missed = [r["dataset"] for r in json_rows
                  if not (r["objective_within_tol"] and r["accuracy_within_tol"])]
        if missed:
            log(f"outside tolerance (J {OBJECTIVE_TOL:g} relative, accuracy {ACCURACY_TOL_POINTS:g} points): "
                + ", ".join(missed))
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
