#!/usr/bin/env python3
"""A CSV with a header (label in the last column, or --label NAME) to LIBSVM/svmlight text: one line per row,
`label index:value ...` with only the nonzero features, indices 1-based (0-based with --zero-based) in column
order, each value written exactly as the CSV writes it (so both files parse to the same floats). Prints the
rows, D and the share of nonzero values on standard error.

    python3 bench/csv-to-libsvm.py datasets/digits.csv --out /tmp/digits.libsvm

The largest index written is D only where the last feature is nonzero in some row; otherwise give the trainer
--features D (the script says so).
"""
import argparse
import csv
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--label", help="label column (default: the last)")
    parser.add_argument("--zero-based", action="store_true", help="indices from 0 instead of 1")
    args = parser.parse_args()

    first = 0 if args.zero_based else 1
    rows = nonzero = largest = 0
    with open(args.csv, newline="") as source, open(args.out, "w") as out:
        reader = csv.reader(source)
        header = next(reader)
        at = header.index(args.label) if args.label else len(header) - 1
        features = [j for j in range(len(header)) if j != at]
        for row in reader:
            entries = [f"{i + first}:{row[j]}" for i, j in enumerate(features) if float(row[j]) != 0.0]
            out.write(" ".join([row[at]] + entries) + "\n")
            rows += 1
            nonzero += len(entries)
            if entries:
                largest = max(largest, int(entries[-1].split(":")[0]) - first + 1)
    d = len(features)
    print(f"{args.out}: {rows} rows, D = {d}, {nonzero} nonzero values ({nonzero / (rows * d):.1%})", file=sys.stderr)
    if largest < d:
        print(f"note: the last {d - largest} feature(s) are zero in every row: train with --features {d}", file=sys.stderr)


if __name__ == "__main__":
    main()
