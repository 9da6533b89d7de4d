#!/bin/sh
# Build datasets/debian-text/{train,test}.libsvm from the Debian bookworm
# (main, amd64) package index on this machine (see datasets/README.md).
# Needs: lz4 (installed with apt-get if absent), curl, /usr/bin/python3 with
# scikit-learn.  Fetches main/i18n/Translation-en.xz (the long descriptions)
# from deb.debian.org by the SHA-256 that the local InRelease lists for it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/debian-text"
lists=/var/lib/apt/lists
inrelease=$lists/deb.debian.org_debian_dists_bookworm_InRelease
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

command -v lz4 >/dev/null 2>&1 || apt-get install -y --no-install-recommends lz4
mkdir -p "$out"

# The SHA-256 of Translation-en.xz as listed in the InRelease (SHA256 section).
hash=$(awk '/^SHA256:/{s=1;next} /^[^ ]/{s=0} s && $3=="main/i18n/Translation-en.xz"{print $1}' "$inrelease")
[ -n "$hash" ] || { echo "no main/i18n/Translation-en.xz in $inrelease" >&2; exit 1; }
tr="$out/Translation-en.xz"
if [ ! -f "$tr" ] || [ "$(sha256sum "$tr" | cut -d' ' -f1)" != "$hash" ]; then
  curl -sSfL -o "$tr.part" "$mirror/dists/bookworm/main/i18n/by-hash/SHA256/$hash"
  echo "$hash  $tr.part" | sha256sum -c -
  mv "$tr.part" "$tr"
fi
exec /usr/bin/python3 "$here/make-debian-text.py" --translation "$tr" --out "$out" "$@"
