#!/usr/bin/python3
"""The host engine's full-batch step beside NumPy/OpenBLAS's, in one run on this machine.

For each shape N×D×K: NumPy's step on float32 data (Z = X·Wᵀ + b, the stable softmax, the mean
cross-entropy, G = (Q − Y)/N, dW = Gᵀ·X, db = Σ G, an SGD-with-momentum update: what `bench` times), the
median of --steps after two warm-up steps; then `softmaxgpu bench SHAPE --device host --kernels auto --json`
with the same --steps; then NumPy again (the machine is shared: both NumPy figures are printed, the ratio uses
their mean). Prints a markdown table.

    /usr/bin/python3 bench/host-vs-numpy.py --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"
"""

import argparse
import json
import shlex
import subprocess
import time

import numpy as np

SHAPES = ["60000x784x10", "1000000x256x10", "200000x1024x100"]


def numpy_step_ms(n, d, k, steps, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=np.float32)
    teacher = rng.standard_normal((k, d), dtype=np.float32) / np.float32(np.sqrt(d))
    y = np.argmax(x @ teacher.T, axis=1)
    w = np.zeros((k, d), np.float32)
    b = np.zeros(k, np.float32)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    rows = np.arange(n)

    def step():
        z = x @ w.T + b
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, y]))
        g = e / s
        g[rows, y] -= 1
        g /= n
        dw = g.T @ x
        db = g.sum(axis=0)
        vw[:] = 0.9 * vw + dw
        vb[:] = 0.9 * vb + db
        w[:] -= 0.1 * vw
        b[:] -= 0.1 * vb
        return loss

    for _ in range(2):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def ours(cli, shape, steps):
    out = subprocess.run(shlex.split(cli) + ["bench", shape, "--device", "host", "--kernels", "auto", "--json",
                                             "--steps", str(steps), "--epochs", "0"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softmaxgpu", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("shapes", nargs="*", default=SHAPES)
    a = ap.parse_args()
    print(f"NumPy {np.__version__}")
    print("| shape | NumPy step ms (before / after) | host step ms | host / NumPy | host floor ms | host × floor |")
    print("| --- | --- | --- | --- | --- | --- |")
    for shape in a.shapes:
        n, d, k = map(int, shape.split("x"))
        before = numpy_step_ms(n, d, k, a.steps)
        r = ours(a.softmaxgpu, shape, a.steps)
        after = numpy_step_ms(n, d, k, a.steps)
        peer = (before + after) / 2
        print(f"| {shape} | {before:.1f} / {after:.1f} | {r['step_ms']:.1f} | {r['step_ms'] / peer:.2f} | "
              f"{r['floor_ms']:.1f} | {r['step_ms'] / r['floor_ms']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
