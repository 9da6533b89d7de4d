#!/usr/bin/env python3
"""A seeded synthetic CSV for timing `softmaxgpu convert`: N rows of D features (6 significant digits, as
printed data usually is) and a label among K classes. Not committed data: write it under /tmp.

    python3 bench/make-csv.py --rows 700000 --dim 32 --classes 10 --out /tmp/convert-bench.csv

Labels are uniform noise by default (parsing does not care); with --teacher they come from a seeded softmax
model, label = argmax_c (w_c·x + Gumbel noise), so a classifier has something to learn (a sample of that
model's own distribution: its best accuracy is well below 1).
"""
import argparse
import math
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=700_000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--teacher", action="store_true", help="labels drawn from a seeded linear softmax model")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    teacher = random.Random(args.seed + 1)  # its own stream: without --teacher the file is as it always was
    w = [[teacher.gauss(0.0, 1.0) for _ in range(args.dim)] for _ in range(args.classes)]

    def label(x):
        if not args.teacher:
            return rng.randrange(args.classes)
        scores = [sum(a * b for a, b in zip(wc, x)) - math.log(-math.log(1.0 - rng.random())) for wc in w]
        return max(range(args.classes), key=scores.__getitem__)

    with open(args.out, "w", newline="\n") as f:
        f.write(",".join([f"f{j}" for j in range(args.dim)] + ["label"]) + "\n")
        lines = []
        for r in range(args.rows):
            values = [f"{rng.gauss(0.0, 1.0):.6g}" for _ in range(args.dim)]
            lines.append(",".join(values) + f",c{label([float(v) for v in values])}\n")
            if len(lines) == 10_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


if __name__ == "__main__":
    main()
