#!/usr/bin/env bash
# Malformed and hostile sparse (LIBSVM) inputs through `softmaxgpu train --sparse on`: each must end in exit 0
# (trained) or exit 1 with exactly one `error:` line — never a stack trace, never the out-of-memory killer (137).
# Prints one line per case and exits 1 if any case breaks that rule.
# Usage: bash bench/hostile-sparse.sh
set -uo pipefail
cd "$(git rev-parse --show-toplevel)"
dotnet build -c Release src/SoftmaxGpu.Cli > /dev/null || exit 1
cli=$PWD/src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
good="a 1:1 3:2\nb 2:1\na 1:2\nb 2:3 3:1\n"
status=0

# case NAME CONTENT [TRAIN OPTIONS...]: writes NAME.libsvm (printf format) and trains on it.
case_() {
  local name=$1 content=$2; shift 2
  printf "$content" > "$name.libsvm"
  run "$name" "$name.libsvm" "$@"
}

# run NAME FILE [OPTIONS...]: trains on FILE and judges the outcome.
run() {
  local name=$1 file=$2; shift 2
  timeout 600 "$cli" train --data "$file" --sparse on --model "$name.model" --quiet "$@" > "$name.out" 2> "$name.err"
  local rc=$? lines; lines=$(grep -c . "$name.err")
  if [ $rc -eq 0 ]; then echo "$name: trained ($(grep -o 'objective [0-9.e+-]*' "$name.out" | tail -1))"
  elif [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q '^error: ' "$name.err"; then echo "$name: $(cat "$name.err")"
  else echo "$name: BROKEN (exit $rc, $lines lines on stderr): $(head -c 300 "$name.err")"; status=1; fi
}

case_ empty ""
case_ comments-only "# nothing\n\n  \n"
case_ labels-only "a\nb\n"
case_ one-class "a 1:1\na 2:1\n"
case_ missing-label "1:2 3:4\n"
case_ index-zero-one-based "a 0:1\nb 1:1\n"
case_ negative-index "a -3:1\nb 1:1\n"
case_ index-not-integer "a 1.5:1\nb 1:1\n"
case_ index-overflow "a 99999999999:1\nb 1:1\n"
case_ duplicate-index "a 2:1 2:1\nb 1:1\n"
case_ unsorted-indices "a 3:1 2:1\nb 1:1\n"
case_ nan-value "a 1:NaN\nb 1:1\n"
case_ infinite-value "a 1:inf\nb 1:1\n"
case_ value-beyond-float "a 1:1e39\nb 1:1\n"
case_ empty-value "a 1:\nb 1:1\n"
case_ two-colons "a 1:2:3\nb 1:1\n"
case_ bad-qid "a qid:x 1:1\nb 1:1\n"
case_ beyond-features "$good" --features 2
case_ features-2pow31-1 "$good" --features 2147483647
case_ index-2pow31-1 "a 2147483647:1\nb 1:1\n"
case_ values-1e30 "a 1:1e30 2:1\nb 1:-1e30 3:1\na 2:1e30\nb 3:2\n"
case_ values-1e30-unscaled "a 1:1e30 2:1\nb 1:-1e30 3:1\na 2:1e30\nb 3:2\n" --scale none
case_ crlf-and-bom "\xef\xbb\xbfa 1:1 3:2\r\nb 2:1\r\na 1:2\r\nb 2:3 3:1\r\n"
case_ no-final-newline "a 1:1\nb 2:1"
head -c 200000 /dev/urandom > binary.libsvm; run binary-garbage binary.libsvm
printf "$good" > v.libsvm; printf "a 1:1 9:1\n" > wider.libsvm
run validation-wider v.libsvm --val wider.libsvm
# One row of 10⁷ non-zeros (about 120 MB of text), among ordinary rows.
/usr/bin/python3 -c "
import sys
with open('huge-row.libsvm', 'w') as f:
    f.write('a ' + ' '.join(f'{i}:1' for i in range(1, 10_000_001)) + '\n')
    f.write('b 1:1 2:1\na 3:1\nb 4:1\n')"
run huge-row huge-row.libsvm --epochs 5
exit $status
