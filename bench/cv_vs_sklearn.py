#!/usr/bin/python3
r"""Choosing C: `train --C 1e-4:1e4:10 --cv 5` beside scikit-learn's LogisticRegressionCV(Cs=10, cv=5), same data, one run.

    /usr/bin/python3 bench/cv_vs_sklearn.py --out /tmp/bench-cv --dataset wine vehicle satimage letter \
        --softmaxgpu "dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll"

Needs Debian's python3-sklearn (installed if absent, as root). For each datasets/<name>.csv: a stratified 75/25
split (train_test_split(random_state=0), as bench/sklearn_baseline.py), written to OUT; scikit-learn:
StandardScaler on the training rows, then LogisticRegressionCV(Cs=10, cv=5, solver='lbfgs', max_iter=1000) timed
(fit only) and scored on the test rows; ours: `train --C 1e-4:1e4:10 --cv 5` timed (process start to exit, start-up
included), then `evaluate --json` on the test rows. Prints a markdown table: test accuracy of both and the
difference in points, the chosen C of both, both times and ours/theirs. The folds differ (scikit-learn's
StratifiedKFold without shuffling, ours seeded and shuffled), so the chosen C may too.

`--dataset mnist` takes the IDX files in datasets/mnist (60,000 training rows, the 10,000 test rows; pixels / 255
for scikit-learn, as bench/sklearn_baseline.py). Its two searches take hours between them here: `--only sklearn` or
`--only ours` runs one side (the table then leaves the other's cells empty).
"""
import argparse, os, shlex, subprocess, sys, time, json

def ensure_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        # A fresh machine has no package index yet: update it when the first try finds no package.
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "python3-sklearn"]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(install, check=True, env=env)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--softmaxgpu", required=True, help="the command that runs the CLI")
    ap.add_argument("--only", choices=["sklearn", "ours"], help="run one side only (MNIST's searches are long)")
    args = ap.parse_args()
    ensure_sklearn()
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    os.makedirs(args.out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    print("| set | rows | sklearn acc | ours acc | points | sklearn C | ours C | sklearn fit s | ours s (start-up incl.) | ours/sklearn |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.dataset:
        if name == "mnist":
            sys.path.insert(0, here)
            from sklearn_baseline import load_mnist
            Xtr, ytr, Xte, yte = load_mnist()
            paths = {"train": os.path.join(here, "..", "datasets", "mnist")}
            paths["test"] = paths["train"]
            rows = len(ytr) + len(yte)
        else:
            path = os.path.join(here, "..", "datasets", f"{name}.csv")
            with open(path) as f:
                lines = [l.rstrip("\n") for l in f if l.strip()]
            header, data = lines[0], lines[1:]
            X = np.array([[float(v) for v in r.split(",")[:-1]] for r in data])
            y = np.array([r.split(",")[-1] for r in data])
            tr, te = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=0)
            paths = {}
            for part, idx in (("train", tr), ("test", te)):
                paths[part] = os.path.join(args.out, f"{name}-{part}.csv")
                with open(paths[part], "w") as f:
                    f.write(header + "\n" + "".join(data[i] + "\n" for i in idx))
            Xtr, ytr, Xte, yte, rows = X[tr], y[tr], X[te], y[te], len(y)
        theirs_s = theirs_acc = theirs_c = None
        if args.only != "ours":
            scaler = StandardScaler().fit(Xtr)
            clf = LogisticRegressionCV(Cs=10, cv=5, solver="lbfgs", max_iter=1000)
            t0 = time.perf_counter()
            clf.fit(scaler.transform(Xtr), ytr)
            theirs_s = time.perf_counter() - t0
            theirs_acc = float(np.mean(clf.predict(scaler.transform(Xte)) == yte))
            theirs_c = float(clf.C_[0])
        ours_s = ours_acc = chosen = None
        if args.only != "sklearn":
            cli = shlex.split(args.softmaxgpu)
            model = os.path.join(args.out, f"{name}.model")
            t0 = time.perf_counter()
            run = subprocess.run(cli + ["train", "--data", paths["train"], "--C", "1e-4:1e4:10", "--cv", "5", "--quiet",
                                        "--model", model], capture_output=True, text=True)
            ours_s = time.perf_counter() - t0
            if run.returncode != 0:
                sys.exit(f"{name}: train failed: {run.stderr}")
            chosen = next(l.split()[3] for l in run.stdout.splitlines() if l.startswith("chosen: C ="))
            ev = subprocess.run(cli + ["evaluate", "--model", model, "--data", paths["test"], "--json"],
                                capture_output=True, text=True, check=True)
            ours_acc = json.loads(ev.stdout)["accuracy"]
        cell = lambda v, f: "" if v is None else format(v, f)
        both = theirs_s is not None and ours_s is not None
        print(f"| {name} | {rows} | {cell(theirs_acc, '.4f')} | {cell(ours_acc, '.4f')} | "
              f"{format(100 * (ours_acc - theirs_acc), '+.2f') if both else ''} | {cell(theirs_c, '.4g')} | {chosen or ''} | "
              f"{cell(theirs_s, '.2f')} | {cell(ours_s, '.2f')} | {format(ours_s / theirs_s, '.2f') if both else ''} |", flush=True)

if __name__ == "__main__":
    main()
