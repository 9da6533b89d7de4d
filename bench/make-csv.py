#!/usr/bin/env python3
"""A seeded synthetic CSV for timing `softmaxgpu convert`: N rows of D features (6 significant digits, as
printed data usually is) and a label among K classes. Not committed data: write it under /tmp.

    python3 bench/make-csv.py --rows 700000 --dim 32 --classes 10 --out /tmp/convert-bench.csv
"""
import argparse
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=700_000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    with open(args.out, "w", newline="\n") as f:
        f.write(",".join([f"f{j}" for j in range(args.dim)] + ["label"]) + "\n")
        lines = []
        for r in range(args.rows):
            values = [f"{rng.gauss(0.0, 1.0):.6g}" for _ in range(args.dim)]
            lines.append(",".join(values) + f",c{rng.randrange(args.classes)}\n")
            if len(lines) == 10_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


if __name__ == "__main__":
    main()
