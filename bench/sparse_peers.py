#!/usr/bin/python3
"""Peer figures for sparse (LIBSVM) softmax regression: scikit-learn's
multinomial L-BFGS LogisticRegression and liblinear's -s 0.

  /usr/bin/python3 bench/sparse_peers.py --train F --test F --C c
      [--max-iter 1000] [--rows N] [--peers sklearn,liblinear] [--json out.json]
      [--workdir DIR]

The LIBSVM files have a text label token ('label index:value ...', 1-based
indices); labels may be any token without spaces or ':' (e.g. Debian section
names).  Classes are the sorted distinct labels of the training rows.  The
feature count D is the largest index in the training file; test columns past
D are dropped (they would meet zero weights).  --rows N keeps the first N
training rows (D is then the largest index in those rows).

Each peer runs in its own child process; its peak RSS comes from os.wait4 on
that child (ru_maxrss: the whole child, its data loading included).

  sklearn   : LogisticRegression(C, solver='lbfgs', multi_class='multinomial',
              max_iter, tol = sklearn's default 1e-4 unless --tol), on the raw
              float64 CSR (load_svmlight_file's dtype), intercept fitted and not
              penalized.  Reports load and fit wall seconds, n_iter_, test (and
              train) accuracy, the RSS after loading and at the end of fit, and
              the objective in SoftmaxGpu's convention, in float64 from coef_ and
              intercept_:
                J = mean_i(-log softmax(W x_i + b)_{y_i}) + ||W||_F^2 / (2 C N).
              (sklearn minimizes C * sum_i loss_i + ||W||^2 / 2 = C N J: the same
              minimizer.)
  liblinear : liblinear-train -s 0 -c C -B 1 (Debian liblinear-tools) on an
              integer-labelled copy of the files (written to --workdir), then
              liblinear-predict.  NOTE: -s 0 is L2-regularized logistic
              regression solved one-vs-rest for several classes (not
              multinomial), and the -B 1 bias weight is regularized; so its J is
              not comparable and is not reported.  Its fit seconds are the wall
              time of liblinear-train, which includes liblinear's own parsing of
              the text file; 'parse_probe_s' is the wall time of the same command
              with -e 1e9 (parsing plus at least one Newton step per class): an
              upper bound on the parsing.
"""
import argparse
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def read_libsvm(path, rows=None, n_features=None):
    """-> (X csr float64, labels list[str]).  1-based indices."""
    from sklearn.datasets import load_svmlight_file
    labels, buf = [], io.BytesIO()
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            if rows is not None and i >= rows:
                break
            lab, sep, rest = line.partition(b" ")
            lab = lab.strip()
            labels.append(lab.decode("utf-8"))
            buf.write(b"0 " + rest if sep else b"0\n")
    buf.seek(0)
    X, _ = load_svmlight_file(buf, zero_based=False, dtype=np.float64,
                              n_features=n_features)
    return X.tocsr(), labels


def max_index(X):
    return int(X.indices.max()) + 1 if X.nnz else 0


def load_pair(train, test, rows):
    t0 = time.perf_counter()
    Xtr, ltr = read_libsvm(train, rows)
    D = Xtr.shape[1]
    Xte, lte = read_libsvm(test)
    if Xte.shape[1] < D:
        Xte.resize((Xte.shape[0], D))
    elif Xte.shape[1] > D:
        Xte = Xte[:, :D].tocsr()
    classes = sorted(set(ltr))
    idx = {c: k for k, c in enumerate(classes)}
    ytr = np.array([idx[c] for c in ltr])
    yte = np.array([idx.get(c, -1) for c in lte])
    return Xtr, ytr, Xte, yte, classes, time.perf_counter() - t0


def softmax_J(X, y, W, b, C):
    """SoftmaxGpu's objective in float64, in row blocks."""
    N = X.shape[0]
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    loss = 0.0
    for a in range(0, N, 8192):
        Z = X[a:a + 8192] @ W.T + b
        m = Z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        loss += float((lse - Z[np.arange(Z.shape[0]), y[a:a + 8192]]).sum())
    return loss / N + float((W * W).sum()) / (2.0 * C * N)


def maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------ children

def child_sklearn(a):
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    Xtr, ytr, Xte, yte, classes, load_s = load_pair(a.train, a.test, a.rows)
    rss_load = maxrss_mib()
    kw = dict(C=a.C, solver="lbfgs", multi_class="multinomial", max_iter=a.max_iter)
    if a.tol is not None:
        kw["tol"] = a.tol
    m = LogisticRegression(**kw)
    with warnings.catch_warnings(record=True) as wl:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        m.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
    rss_fit = maxrss_mib()
    t0 = time.perf_counter()
    acc_te = float((m.predict(Xte) == yte).mean())
    pred_s = time.perf_counter() - t0
    acc_tr = float((m.predict(Xtr) == ytr).mean())
    if len(classes) == 2:      # sklearn keeps one row for two classes
        W = np.vstack([np.zeros_like(m.coef_[0]), m.coef_[0]]); b = np.array([0.0, m.intercept_[0]])
    else:
        W, b = m.coef_, m.intercept_
    J = softmax_J(Xtr, ytr, W, b, a.C)
    return dict(peer="sklearn", solver="lbfgs multinomial", tol=m.tol, max_iter=a.max_iter,
                load_s=load_s, fit_s=fit_s, predict_s=pred_s, n_iter=int(np.max(m.n_iter_)),
                converged=not any(issubclass(w.category, ConvergenceWarning) for w in wl),
                test_acc=acc_te, train_acc=acc_tr, J=J,
                rss_after_load_mib=rss_load, rss_end_of_fit_mib=rss_fit)


def int_copy(src, dst, idx, rows=None):
    """A copy of a LIBSVM file with labels replaced by 1-based class numbers
    (unseen labels -> len(idx) + 1)."""
    other = str(len(idx) + 1).encode()
    with open(src, "rb") as f, open(dst, "wb") as g:
        for i, line in enumerate(f):
            if rows is not None and i >= rows:
                break
            lab, sep, rest = line.partition(b" ")
            k = idx.get(lab.strip().decode("utf-8"))
            g.write((str(k + 1).encode() if k is not None else other) + (b" " + rest if sep else b"\n"))


def run_timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}):\n{out.decode(errors='replace')[-2000:]}")
    return out.decode(errors="replace"), wall, ru.ru_maxrss / 1024.0


def peer_liblinear(a, classes):
    wd = a.workdir
    os.makedirs(wd, exist_ok=True)
    idx = {c: k for k, c in enumerate(classes)}
    tr, te, model, pred = (os.path.join(wd, n) for n in ("train.int.libsvm", "test.int.libsvm", "model", "pred"))
    int_copy(a.train, tr, idx, a.rows)
    int_copy(a.test, te, idx)
    c = repr(a.C)
    _, probe_s, _ = run_timed(["liblinear-train", "-s", "0", "-c", c, "-B", "1", "-e", "1e9", "-q", tr, model])
    out, fit_s, rss = run_timed(["liblinear-train", "-s", "0", "-c", c, "-B", "1", tr, model])
    newton = re.findall(r"^iter\s+\d+", out, re.M)
    pout, pred_s, _ = run_timed(["liblinear-predict", te, model, pred])
    m = re.search(r"Accuracy = ([\d.]+)% \((\d+)/(\d+)\)", pout)
    return dict(peer="liblinear", solver="-s 0 (L2 LR primal, one-vs-rest) -B 1",
                fit_s=fit_s, parse_probe_s=probe_s, predict_s=pred_s,
                newton_iters_total=len(newton), test_acc=int(m.group(2)) / int(m.group(3)),
                peak_rss_mib=rss, J=None)


# ------------------------------------------------------------------ parent

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--C", type=float, required=True)
    ap.add_argument("--max-iter", type=int, default=1000)
    ap.add_argument("--tol", type=float, default=None, help="sklearn tol (default: sklearn's, 1e-4)")
    ap.add_argument("--rows", type=int, default=None, help="first N training rows only")
    ap.add_argument("--peers", default="sklearn,liblinear")
    ap.add_argument("--json", default=None)
    ap.add_argument("--workdir", default=None, help="for liblinear's integer-labelled copies (default: a temp dir)")
    ap.add_argument("--sklearn-timeout", type=float, default=None,
                    help="kill the sklearn child after this many seconds (recorded as failed)")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_result", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a._child == "sklearn":
        with open(a._result, "w") as f:
            json.dump(child_sklearn(a), f)
        return

    Xtr, ytr, Xte, yte, classes, load_s = load_pair(a.train, a.test, a.rows)
    info = dict(train=a.train, test=a.test, rows=a.rows, C=a.C,
                train_rows=Xtr.shape[0], test_rows=Xte.shape[0], features=Xtr.shape[1],
                classes=len(classes), train_nnz=int(Xtr.nnz), test_nnz=int(Xte.nnz),
                nnz_per_row=Xtr.nnz / Xtr.shape[0], unseen_test_labels=int((yte < 0).sum()),
                parent_load_s=load_s, python=sys.version.split()[0],
                sklearn=__import__("sklearn").__version__, cpus=os.cpu_count())
    del Xtr, Xte
    results = []
    tmp = tempfile.mkdtemp(prefix="sparse_peers.")
    if a.workdir is None:
        a.workdir = tmp
    for peer in a.peers.split(","):
        if peer == "sklearn":
            res_path = os.path.join(tmp, "sklearn.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--_child", "sklearn", "--_result", res_path,
                   "--train", a.train, "--test", a.test, "--C", repr(a.C), "--max-iter", str(a.max_iter)]
            if a.rows is not None:
                cmd += ["--rows", str(a.rows)]
            if a.tol is not None:
                cmd += ["--tol", repr(a.tol)]
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd)
            timer = None
            if a.sklearn_timeout:
                import threading
                timer = threading.Timer(a.sklearn_timeout, p.kill)
                timer.start()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            if timer:
                timer.cancel()
            if p.returncode != 0:
                wall = time.perf_counter() - t0
                print(f"  sklearn child ended with {p.returncode} after {wall:.0f} s "
                      f"(peak RSS {ru.ru_maxrss / 1024:.0f} MiB)", file=sys.stderr)
                results.append(dict(peer="sklearn", failed=True, exit=p.returncode, child_wall_s=wall,
                                    killed_after_s=a.sklearn_timeout, peak_rss_mib=ru.ru_maxrss / 1024.0))
                continue
            with open(res_path) as f:
                r = json.load(f)
            r["peak_rss_mib"] = ru.ru_maxrss / 1024.0
            r["child_wall_s"] = time.perf_counter() - t0
            results.append(r)
        elif peer == "liblinear":
            results.append(peer_liblinear(a, classes))
        else:
            sys.exit(f"unknown peer {peer}")
        print(f"  {peer} done", file=sys.stderr, flush=True)

    out = dict(dataset=info, results=results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    d = info
    print(f"{d['train']}  (train rows {d['train_rows']}, test rows {d['test_rows']}, features {d['features']}, "
          f"classes {d['classes']}, nnz/row {d['nnz_per_row']:.2f}), C = {a.C}; "
          f"parent load {d['parent_load_s']:.2f} s")
    print(f"| peer | load s | fit s | iterations | test acc | J (ours) | peak RSS MiB |")
    print(f"|---|---|---|---|---|---|---|")
    for r in results:
        if r.get("failed"):
            print(f"| sklearn lbfgs multinomial | - | killed/failed after {r['child_wall_s']:.0f} s (exit {r['exit']}) | - | - | - | "
                  f"{r['peak_rss_mib']:.0f} |")
        elif r["peer"] == "sklearn":
            it = f"{r['n_iter']}" + ("" if r["converged"] else " (max_iter, not converged)")
            print(f"| sklearn lbfgs multinomial (tol {r['tol']:g}) | {r['load_s']:.2f} | {r['fit_s']:.2f} | {it} | "
                  f"{r['test_acc']:.4f} | {r['J']:.9g} | {r['peak_rss_mib']:.0f} (end of fit {r['rss_end_of_fit_mib']:.0f}, "
                  f"after load {r['rss_after_load_mib']:.0f}) |")
        else:
            print(f"| liblinear -s 0 -B 1 (OvR) | (in fit; -e 1e9 run {r['parse_probe_s']:.2f}) | {r['fit_s']:.2f} | "
                  f"{r['newton_iters_total']} Newton (all {d['classes']} binary problems) | {r['test_acc']:.4f} | n/a (OvR) | "
                  f"{r['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
