#!/usr/bin/python3
r"""Would a truncated Newton method (TRON, liblinear's trust-region Newton with preconditioned CG) bring MNIST's
weak-penalty fits to their optimum in fewer passes than the trainer's L-BFGS?

    /usr/bin/python3 bench/newton_cg_probe.py --C 21.5 --rows 12000 --passes 1200 --mix 0.01

A float64 NumPy probe, not the trainer: the objective of bench/lbfgs_preconditioners.py (softmax regression on
`--rows` standardized MNIST rows, J = mean cross-entropy + (λ/2)‖W‖², λ = 1/(C·N), b unpenalized), minimized from zeros
by a trust-region Newton method: Steihaug CG on the Hessian (each Hessian-vector product one pass over the rows, as a
gradient is), preconditioned by M = (1 − mix)·I + mix·diag(H) (liblinear's mix is 0.01; 1 is the plain diagonal),
stopped at ‖r‖ ≤ eps-cg·‖g‖ or the trust region's boundary, with liblinear's radius rules. It counts passes (function
and gradient evaluations plus Hessian-vector products) and prints, at the end, how many passes it took to come within
1e-4 … 1e-8 of the lowest J it reached; compare with lbfgs_preconditioners.py's J* and iterations at the same C.

Needs Debian's python3-sklearn (NumPy with it; installed if absent, as root).
"""
import argparse, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cv_vs_sklearn import ensure_sklearn  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--C", type=float, default=21.5)
ap.add_argument("--rows", type=int, default=12000)
ap.add_argument("--passes", type=int, default=1500)
ap.add_argument("--mix", type=float, default=1.0, help="M = (1-mix) I + mix diag(H)")
ap.add_argument("--eps-cg", type=float, default=0.1)
args = ap.parse_args()
ensure_sklearn()
import numpy as np  # noqa: E402
from sklearn_baseline import load_mnist  # noqa: E402
images, labels, _, _ = load_mnist()
take = np.random.default_rng(0).permutation(len(labels))[:args.rows]
X, y = images[take], labels[take]
scale = X.std(0); scale[scale == 0] = 1
X = (X - X.mean(0)) / scale
N, D = X.shape; K = 10
Y = np.eye(K)[y]; lam = 1.0 / (args.C * N)
Xa = np.hstack([X, np.ones((N, 1))]); X2 = Xa * Xa
pen = np.zeros((K, D + 1)); pen[:, :D] = 1
passes = 0
def obj(T):
    global passes; passes += 1
    Z = Xa @ T.T; m = Z.max(1, keepdims=True); E = np.exp(Z - m); s = E.sum(1, keepdims=True)
    J = np.mean(m[:, 0] + np.log(s[:, 0]) - (Z * Y).sum(1)) + 0.5 * lam * (T * T * pen).sum()
    Q = E / s
    return J, ((Q - Y).T @ Xa) / N + lam * T * pen, Q
def hv(Q, V):
    global passes; passes += 1
    U = Xa @ V.T
    R = Q * (U - (Q * U).sum(1, keepdims=True))
    return (R.T @ Xa) / N + lam * V * pen
def hdiag(Q):
    return ((Q * (1 - Q)).T @ X2) / N + lam * pen
dot = lambda a, b: float((a * b).sum())
T = np.zeros((K, D + 1))
J, g, Q = obj(T)
trace = [(passes, J)]
delta = None
it = 0
while passes < args.passes:
    it += 1
    M = (1 - args.mix) + args.mix * hdiag(Q) + 1e-300
    Dm = np.sqrt(M)
    gh = g / Dm  # transformed gradient
    if delta is None: delta = np.sqrt(dot(gh, gh))
    # Steihaug CG on transformed problem
    s = np.zeros_like(T); r = -gh.copy(); d = r.copy(); rr = dot(r, r); gnorm = np.sqrt(rr)
    cg = 0; hit = False
    while True:
        Hd = hv(Q, d / Dm) / Dm; cg += 1
        dHd = dot(d, Hd)
        a = rr / dHd
        snew = s + a * d
        if np.sqrt(dot(snew, snew)) > delta:
            # to boundary
            sd, dd, ss = dot(s, d), dot(d, d), dot(s, s)
            tau = (-sd + np.sqrt(sd * sd + dd * (delta * delta - ss))) / dd
            s = s + tau * d; r = r - tau * Hd; hit = True
            break
        s = snew; r = r - a * Hd
        rrn = dot(r, r)
        if np.sqrt(rrn) <= args.eps_cg * gnorm: break
        d = r + (rrn / rr) * d; rr = rrn
    # r = -gh - H s  => prered = -(gh.s + 0.5 s.Hs) = 0.5*(gh.s - r.s)... compute: Hs = -gh - r
    gs = dot(gh, s)
    prered = -0.5 * (gs - dot(s, r))
    step = s / Dm
    J2, g2, Q2 = obj(T + step)
    actred = J - J2
    snorm = np.sqrt(dot(s, s))
    if it == 1: delta = min(delta, snorm)
    alpha = 4.0 if J2 - J - gs <= 0 else max(0.25, -0.5 * (gs / (J2 - J - gs)))
    if actred < 1e-4 * prered: delta = min(max(alpha, 0.25) * snorm, 0.5 * delta)
    elif actred < 0.25 * prered: delta = max(0.25 * delta, min(alpha * snorm, 0.5 * delta))
    elif actred < 0.75 * prered: delta = max(0.25 * delta, min(alpha * snorm, 4 * delta))
    else: delta = max(delta, min(alpha * snorm, 4 * delta))
    if actred > 1e-4 * prered:
        T, J, g, Q = T + step, J2, g2, Q2
    trace.append((passes, J))
    print(f"it {it}: cg {cg} hit {hit} passes {passes} J {J:.12f} act/pre {actred/prered:.3f} delta {delta:.3g} |g|inf {np.abs(g).max():.3g}", file=sys.stderr)
    if np.abs(g).max() < 1e-12: break
best = J
print("C", args.C, "J*", best, "mix", args.mix)
for tol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
    print(tol, next((p for p, j in trace if j <= best * (1 + tol)), None))
