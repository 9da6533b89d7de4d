#!/usr/bin/python3
"""Build datasets/zipf/{train,test}.libsvm: a synthetic, seeded, Zipf-like
sparse classification set with a million features.

Rows: each row draws L ~ 1 + Poisson(mean_nnz - 1) tokens; a token's feature
is a rank r in 1..D drawn with P(r) proportional to r^-s (a Zipf law, s = 1
by default, truncated at D), mapped to a feature id by a fixed random
permutation of 1..D (so the frequent features are spread over the id range).
Repeated tokens in a row are merged; a feature's value is (1 + ln count) *
idf(r) with idf(r) = 1 + ln(1 / P(rank r appears in a row of mean length)),
then the row is scaled to unit L2 norm and stored as float32.  So a few
features appear in most rows and most features are rare (many appear in no
row at all).

Labels: a planted sparse linear model.  A fraction --informative of the
features each carry one weight a_j ~ Exp(1) toward one class c_j (uniform),
every other weight is 0; the score of class c for row x is
s_c = sum_j x_j a_j [c_j = c], and the label is drawn from softmax(beta * s),
with beta set (by bisection on the training rows) so that the Bayes accuracy
E[max_c softmax(beta s)_c] is --bayes (0.80 by default).  So even the planted
model is right on only about that share of the rows.

Output: LIBSVM, 'label index:value ...', 1-based indices increasing, values
'%.9g' (round-trips float32), labels '0' .. 'K-1'.  Train and test are the
first n_train and the next n_test rows of one stream.

Usage: /usr/bin/python3 datasets/make-zipf.py [--out DIR] [--seed 1] ...
"""
import argparse
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_rows(rng, n, D, perm, cdf, idf, mean_nnz):
    """n rows -> (indptr, indices (0-based ids, sorted in each row), values f32)."""
    L = 1 + rng.poisson(mean_nnz - 1, size=n)
    tot = int(L.sum())
    rank = np.searchsorted(cdf, rng.random(tot), side="right")     # 0-based rank
    rank = np.minimum(rank, D - 1)
    row = np.repeat(np.arange(n, dtype=np.int64), L)
    fid = perm[rank].astype(np.int64)                               # 0-based id
    key = row * D + fid
    ukey, cnt = np.unique(key, return_counts=True)                  # sorted: row, then id
    urow = ukey // D
    ufid = (ukey % D).astype(np.int32)
    inv_perm_rank = RANK_OF[ufid]
    val = (1.0 + np.log(cnt)) * idf[inv_perm_rank]
    norm = np.sqrt(np.bincount(urow, weights=val * val, minlength=n))
    val = (val / norm[urow]).astype(np.float32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(urow, minlength=n), out=indptr[1:])
    return indptr, ufid, val, urow


def write_libsvm(path, indptr, ind, val, labels, chunk=20000):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        n = len(labels)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            lo, hi = indptr[a], indptr[b]
            toks = ["%d:%.9g" % (j, v) for j, v in
                    zip((ind[lo:hi] + 1).tolist(), val[lo:hi].tolist())]
            lines = []
            for i in range(a, b):
                lines.append(labels[i] + " " + " ".join(toks[indptr[i] - lo:indptr[i + 1] - lo]))
            f.write("\n".join(lines) + "\n")
    return os.path.getsize(path)


def bayes_acc(S, beta):
    Z = beta * S
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return float((P.max(axis=1) / P.sum(axis=1)).mean())


RANK_OF = None


def main():
    global RANK_OF
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "zipf"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--features", type=int, default=1 << 20, help="feature id space (2^20 = 1048576)")
    ap.add_argument("--train", type=int, default=200_000)
    ap.add_argument("--test", type=int, default=50_000)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--mean-nnz", type=float, default=50.0, help="mean tokens a row (before merging repeats)")
    ap.add_argument("--zipf-s", type=float, default=1.0)
    ap.add_argument("--informative", type=float, default=0.3)
    ap.add_argument("--bayes", type=float, default=0.80)
    a = ap.parse_args()
    t0 = time.time()
    rng = np.random.default_rng(a.seed)
    D, K, n = a.features, a.classes, a.train + a.test

    r = np.arange(1, D + 1, dtype=np.float64)
    p = r ** -a.zipf_s
    p /= p.sum()
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    q = -np.expm1(a.mean_nnz * np.log1p(-p))          # P(rank appears in a row)
    idf = 1.0 + np.log(1.0 / q)
    perm = rng.permutation(D).astype(np.int32)        # rank -> feature id
    RANK_OF = np.empty(D, dtype=np.int32)
    RANK_OF[perm] = np.arange(D, dtype=np.int32)

    informative = rng.random(D) < a.informative        # by feature id
    cls = rng.integers(0, K, size=D)
    w = np.where(informative, rng.exponential(1.0, size=D), 0.0)

    indptr, ind, val, urow = make_rows(rng, n, D, perm, cdf, idf, a.mean_nnz)
    S = np.bincount(urow * K + cls[ind], weights=val * w[ind], minlength=n * K).reshape(n, K)
    del urow

    lo, hi = 0.0, 1000.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if bayes_acc(S[:a.train], mid) < a.bayes:
            lo = mid
        else:
            hi = mid
    beta = 0.5 * (lo + hi)
    Z = beta * S
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    u = rng.random(n)
    y = (P.cumsum(axis=1) < u[:, None]).sum(axis=1)
    y = np.minimum(y, K - 1)
    argmax_acc = (S.argmax(axis=1) == y)
    labels = [str(c) for c in y.tolist()]

    os.makedirs(a.out, exist_ok=True)
    nt = a.train
    tr_ptr = indptr[:nt + 1]
    te_ptr = indptr[nt:] - indptr[nt]
    btr = write_libsvm(os.path.join(a.out, "train.libsvm"), tr_ptr, ind[:indptr[nt]], val[:indptr[nt]], labels[:nt])
    bte = write_libsvm(os.path.join(a.out, "test.libsvm"), te_ptr, ind[indptr[nt]:], val[indptr[nt]:], labels[nt:])

    print(f"seed {a.seed}, D {D}, K {K}, zipf s {a.zipf_s}, mean tokens/row {a.mean_nnz}, "
          f"informative {a.informative}, beta {beta:.6g} (Bayes accuracy on train {a.bayes})")
    for nm, sl, b in (("train", slice(0, nt), btr), ("test", slice(nt, n), bte)):
        p0, p1 = indptr[sl.start], indptr[sl.stop]
        ids = ind[p0:p1]
        df = np.bincount(ids, minlength=D)
        counts = np.bincount(y[sl], minlength=K)
        print(f"{nm}: rows {sl.stop - sl.start}, nnz {p1 - p0}, nnz/row {(p1 - p0) / (sl.stop - sl.start):.2f}, "
              f"max index {ids.max() + 1}, distinct features {int((df > 0).sum())}, "
              f"seen once {int((df == 1).sum())}, top feature in {df.max() / (sl.stop - sl.start):.1%} of rows, "
              f"planted-argmax accuracy {argmax_acc[sl].mean():.4f}, "
              f"class counts min {counts.min()} max {counts.max()}, bytes {b}")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
