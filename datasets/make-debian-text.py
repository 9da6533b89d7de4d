#!/usr/bin/python3
"""Build datasets/debian-text/{train,test}.libsvm: a real sparse text
classification set from the Debian bookworm (main, amd64) package index.

One row per binary package.  Text: the package's description, the short
line and the long lines (the ' .' paragraph separators dropped).  Label: its
Section (a 'contrib/' or 'non-free/' prefix stripped); sections with fewer
than --min-section packages (over the whole index) are dropped.

Since Debian 6 the Packages index carries only the short description and a
Description-md5; the long descriptions live in main/i18n/Translation-en,
keyed by (Package, Description-md5).  get-debian-text.sh fetches that file
by its SHA-256 as listed in the InRelease already on the machine, so both
come from the same, signed Release.  This script checks the SHA-256 of both
decompressed files against that InRelease.

Split: packages sorted by name, every 5th (row i with i % 5 == 4) to test.
Features: scikit-learn TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2),
min_df=2, dtype=float32, norm='l2'), fitted on the training rows only; the
test rows use the same vocabulary (a test row may be empty: all its terms
unseen).  Output: LIBSVM, 'label index:value ...', 1-based indices
increasing, values '%.9g' (round-trips float32), label = the section name.

Usage: /usr/bin/python3 datasets/make-debian-text.py
         [--packages P.lz4] [--translation T.xz] [--inrelease R] [--out DIR]
"""
import argparse
import collections
import hashlib
import lzma
import os
import re
import subprocess
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

LISTS = "/var/lib/apt/lists"
HERE = os.path.dirname(os.path.abspath(__file__))


def inrelease_sha256(path):
    """{name: (sha256, size)} from the SHA256 section of an InRelease file."""
    out, date, in_sha = {}, None, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Date:"):
                date = line[5:].strip()
            if line == "SHA256:":
                in_sha = True
                continue
            if in_sha:
                if not line.startswith(" "):
                    in_sha = False
                    continue
                h, size, name = line.split()
                out[name] = (h, int(size))
    return out, date


def parse_stanzas(text, keep_continuation):
    """Debian control stanzas -> list of dicts.  For the fields named in
    keep_continuation, continuation lines are kept (as a list of lines)."""
    recs, cur, last = [], {}, None
    for line in text.split("\n"):
        if not line:
            if cur:
                recs.append(cur)
            cur, last = {}, None
            continue
        if line[0] in " \t":
            if last in keep_continuation:
                cur[last].append(line)
            continue
        k, _, v = line.partition(":")
        last = k
        cur[k] = [v.strip()] if k in keep_continuation else v.strip()
    if cur:
        recs.append(cur)
    return recs


def check(name, data, table):
    h = hashlib.sha256(data).hexdigest()
    want = table.get(name)
    status = "matches InRelease" if want and want[0] == h else "DOES NOT MATCH InRelease %s" % (want,)
    print(f"  {name}: {len(data)} bytes, sha256 {h} ({status})")
    return want is not None and want[0] == h


def long_text(lines):
    """Description-en lines -> one text: short line + long lines, ' .' dropped."""
    short, rest = lines[0], lines[1:]
    body = [l[1:] if l.startswith(" ") else l for l in rest]
    body = [l for l in body if l.strip() != "."]
    return "\n".join([short] + body)


def write_libsvm(path, X, labels):
    X = X.tocsr()
    X.sort_indices()
    ind, ptr = X.indices + 1, X.indptr
    vals = X.data.astype(np.float32).tolist()
    toks = ["%d:%.9g" % (j, v) for j, v in zip(ind.tolist(), vals)]
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for i, lab in enumerate(labels):
            row = toks[ptr[i]:ptr[i + 1]]
            f.write(lab + (" " + " ".join(row) if row else "") + "\n")
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", default=f"{LISTS}/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4")
    ap.add_argument("--inrelease", default=f"{LISTS}/deb.debian.org_debian_dists_bookworm_InRelease")
    ap.add_argument("--translation", default=os.path.join(HERE, "debian-text", "Translation-en.xz"))
    ap.add_argument("--out", default=os.path.join(HERE, "debian-text"))
    ap.add_argument("--min-section", type=int, default=20)
    ap.add_argument("--allow-mismatch", action="store_true",
                    help="go on when a file's SHA-256 is not the InRelease's")
    a = ap.parse_args()
    t0 = time.time()

    table, date = inrelease_sha256(a.inrelease)
    print(f"InRelease {a.inrelease}: Date {date}")
    pk = subprocess.run(["lz4", "-dc", a.packages], check=True, stdout=subprocess.PIPE).stdout
    with open(a.translation, "rb") as f:
        tr = lzma.decompress(f.read())
    ok = check("main/binary-amd64/Packages", pk, table)
    ok &= check("main/i18n/Translation-en", tr, table)
    if not ok and not a.allow_mismatch:
        sys.exit("a source file does not match the InRelease; rerun get-debian-text.sh "
                 "or pass --allow-mismatch")

    pkgs = parse_stanzas(pk.decode("utf-8"), ())
    trans = parse_stanzas(tr.decode("utf-8"), ("Description-en",))
    long_by_key = {(t["Package"], t["Description-md5"]): t["Description-en"] for t in trans}
    print(f"Packages stanzas: {len(pkgs)}; Translation-en stanzas: {len(trans)}")

    # One row per package name: the last stanza in file order (the index holds
    # two versions of 3 linux-* packages; the later one is the newer).
    by_name = {}
    for p in pkgs:
        by_name[p["Package"]] = p
    print(f"distinct package names: {len(by_name)}")

    rows, no_long = [], 0
    for name in sorted(by_name):
        p = by_name[name]
        sec = re.sub(r"^(contrib|non-free|non-free-firmware)/", "", p["Section"])
        lines = long_by_key.get((name, p.get("Description-md5")))
        if lines is None:
            no_long += 1
            lines = [p["Description"]]
        rows.append((name, sec, long_text(lines)))
    print(f"packages without a long description in Translation-en: {no_long}")

    count = collections.Counter(s for _, s, _ in rows)
    dropped = sorted((s, n) for s, n in count.items() if n < a.min_section)
    print(f"sections: {len(count)}; dropped (< {a.min_section} packages): {dropped}")
    rows = [r for r in rows if count[r[1]] >= a.min_section]

    train = [r for i, r in enumerate(rows) if i % 5 != 4]
    test = [r for i, r in enumerate(rows) if i % 5 == 4]
    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2,
                          dtype=np.float32, norm="l2")
    Xtr = vec.fit_transform([r[2] for r in train])
    Xte = vec.transform([r[2] for r in test])
    D = Xtr.shape[1]

    os.makedirs(a.out, exist_ok=True)
    btr = write_libsvm(os.path.join(a.out, "train.libsvm"), Xtr, [r[1] for r in train])
    bte = write_libsvm(os.path.join(a.out, "test.libsvm"), Xte, [r[1] for r in test])
    classes = sorted({r[1] for r in rows})
    print(f"features (vocabulary, fitted on train): {D}")
    print(f"classes: {len(classes)}  ({' '.join(classes)})")
    for nm, X, rs, b in (("train", Xtr, train, btr), ("test", Xte, test, bte)):
        empty = int((np.diff(X.indptr) == 0).sum())
        print(f"{nm}: rows {X.shape[0]}, nnz {X.nnz}, nnz/row {X.nnz / X.shape[0]:.2f}, "
              f"max index used {X.indices.max() + 1}, empty rows {empty}, "
              f"classes present {len({r[1] for r in rs})}, bytes {b}")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
