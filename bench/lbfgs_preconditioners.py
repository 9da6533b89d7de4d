#!/usr/bin/python3
r"""Would a preconditioner bring MNIST's weak-penalty fits to their optimum in fewer L-BFGS iterations?

    /usr/bin/python3 bench/lbfgs_preconditioners.py --C 21.5 --rows 12000 --iterations 1000

A float64 NumPy probe, not the trainer: softmax regression on `--rows` standardized MNIST training rows (a seeded
sample; the IDX files in datasets/mnist), J = mean cross-entropy + (λ/2)‖W‖², λ = 1/(C·N), b unpenalized — the
trainer's objective. Each variant runs L-BFGS (m = 10, Armijo backtracking from t = 1) from zeros for a fixed number
of iterations; J* is the lowest J any variant reached, and each variant's line gives the iterations it took to come
within 1e-6 and 1e-7 (relative) of J*. The variants differ only in H₀, where the two-loop recursion starts:

- scalar: (sᵀy / yᵀy)·I, the textbook H₀;
- diagonal: Gilbert and Lemaréchal's diagonal update (M1QN3), the trainer's H₀ (CurvatureHistory);
- covariance α: γ·M⁻¹, M = (Σ + (λ/α)·I) ⊗ I_K with Σ = X̃ᵀX̃/N of the rows with a column of ones (the Hessian
  with every q_c(1 − q_c) taken as α), γ = sᵀy / yᵀM⁻¹y;
- block R: γ·M⁻¹ with M the Hessian's K diagonal blocks, Σ_n w_nc·x̃_n x̃_nᵀ/N + λI, w_nc = max(q_nc(1 − q_nc), floor),
  rebuilt from the current q every R iterations (each rebuild costs K·N·D² — here more than 100 passes).

Needs Debian's python3-sklearn (NumPy and SciPy with it; installed if absent, as root); reads MNIST as
bench/sklearn_baseline.py does (pixels / 255, then standardized here).
"""
import argparse, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cv_vs_sklearn import ensure_sklearn  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--C", type=float, default=21.5)
    ap.add_argument("--rows", type=int, default=12000)
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", help="comma-separated names of the variants to run (default: all)")
    ap.add_argument("--memory", default="10", help="comma-separated m (pairs kept) for the diagonal H₀ (default 10)")
    args = ap.parse_args()
    ensure_sklearn()  # and with it NumPy and SciPy
    import numpy as np
    from scipy.linalg import cho_factor, cho_solve
    from sklearn_baseline import load_mnist

    images, labels, _, _ = load_mnist()
    take = np.random.default_rng(args.seed).permutation(len(labels))[:args.rows]
    X, y = images[take], labels[take]
    scale = X.std(0)
    scale[scale == 0] = 1
    X = (X - X.mean(0)) / scale
    N, D = X.shape
    K = 10
    Y = np.eye(K)[y]
    lam = 1.0 / (args.C * N)
    Xa = np.hstack([X, np.ones((N, 1))])
    penalized = np.r_[np.ones(D), 0.0]

    def objective(theta):
        W, b = theta[:K * D].reshape(K, D), theta[K * D:]
        Z = X @ W.T + b
        m = Z.max(1, keepdims=True)
        E = np.exp(Z - m)
        s = E.sum(1, keepdims=True)
        J = np.mean(m[:, 0] + np.log(s[:, 0]) - (Z * Y).sum(1)) + 0.5 * lam * (W * W).sum()
        Q = E / s
        G = (Q - Y) / N
        return J, np.concatenate([(G.T @ X + lam * W).ravel(), G.sum(0)]), Q

    def solver(blocks):
        """v ↦ M⁻¹v for M = blocks[c] on class c's [W_c | b_c] (one factor for every class where blocks has one)."""
        def apply(v):
            V = np.hstack([v[:K * D].reshape(K, D), v[K * D:, None]])
            R = np.stack([cho_solve(blocks[c % len(blocks)], V[c]) for c in range(K)])
            return np.concatenate([R[:, :D].ravel(), R[:, D]])
        return apply

    def covariance(alpha):
        return solver([cho_factor(Xa.T @ Xa / N + np.diag(penalized * lam / alpha) + 1e-12 * np.eye(D + 1))])

    def blockwise(Q, floor):
        w = np.maximum(Q * (1 - Q), floor)
        return solver([cho_factor((Xa * w[:, c:c + 1]).T @ Xa / N + np.diag(penalized * lam) + 1e-12 * np.eye(D + 1))
                       for c in range(K)])

    def lbfgs(h0, refresh=0, floor=0.0, m=10):
        theta = np.zeros(K * D + K)
        J, g, Q = objective(theta)
        S, Ys, diag, trace, precondition = [], [], None, [], None
        for it in range(args.iterations):
            if refresh and it % refresh == 0:
                precondition = blockwise(Q, floor)
            elif h0.startswith("covariance") and precondition is None:
                precondition = covariance(float(h0.split()[1]))
            q, alphas = g.copy(), []
            for s, yv in reversed(list(zip(S, Ys))):
                a = (s @ q) / (yv @ s)
                q -= a * yv
                alphas.append((a, s, yv))
            if not S:
                z = q / max(1.0, np.linalg.norm(q))
            elif precondition is not None:
                z = (S[-1] @ Ys[-1]) / (Ys[-1] @ precondition(Ys[-1])) * precondition(q)
            elif h0 == "diagonal":
                z = diag * q
            else:
                z = (S[-1] @ Ys[-1]) / (Ys[-1] @ Ys[-1]) * q
            for a, s, yv in reversed(alphas):
                z += s * (a - (yv @ z) / (yv @ s))
            d, t = -z, 1.0
            while True:
                J2, g2, Q2 = objective(theta + t * d)
                if J2 <= J + 1e-4 * t * (g @ d) or t < 1e-20:
                    break
                t *= 0.5
            s, yv = t * d, g2 - g
            sy = s @ yv
            if sy > 1e-16:
                S.append(s)
                Ys.append(yv)
                if h0 == "diagonal":  # Gilbert and Lemaréchal's update of the diagonal
                    diag = np.full(len(s), sy / (yv @ yv)) if diag is None else diag
                    c = (yv * diag * yv).sum() / sy
                    diag = 1 / (c / diag + yv * yv / sy - c * (s / diag) ** 2 / (s * s / diag).sum())
                if len(S) > m:
                    S.pop(0)
                    Ys.pop(0)
            theta, J, g, Q = theta + s, J2, g2, Q2
            trace.append(J)
        return trace

    variants = [("scalar", {}), ("diagonal", {}), ("covariance 0.25", {}), ("covariance 0.05", {}),
                ("covariance 0.01", {}), ("block 100", {"refresh": 100}), ("block 100, floor 1e-3", {"refresh": 100, "floor": 1e-3}),
                ("block 25", {"refresh": 25})]
    variants[1:2] = [("diagonal" if m == 10 else f"diagonal, m = {m}", {"m": m}) for m in map(int, args.memory.split(","))]
    if args.variants:
        variants = [v for v in variants if v[0].split(",")[0] in args.variants.split(",")]
    traces = {}
    for name, options in variants:
        t0 = time.perf_counter()
        traces[name] = lbfgs(name.split(",")[0] if not name.startswith("block") else "block", **options)
        print(f"# {name}: J {traces[name][-1]:.12f} after {args.iterations} iterations, {time.perf_counter() - t0:.1f} s",
              file=sys.stderr, flush=True)
    best = min(min(t) for t in traces.values())
    print(f"C = {args.C:g}, {N} rows, λ = {lam:.3g}, J* = {best:.12f} (the lowest any variant reached)")
    print("| H₀ | iterations to 1e-6 of J* | to 1e-7 | J − J* after the last, relative |")
    print("| --- | --- | --- | --- |")
    for name, trace in traces.items():
        within = lambda tol: next((i + 1 for i, J in enumerate(trace) if J <= best * (1 + tol)), "—")
        print(f"| {name} | {within(1e-6)} | {within(1e-7)} | {(trace[-1] - best) / best:.2g} |")


if __name__ == "__main__":
    main()
