#!/usr/bin/env bash
# Adds files to a fuzz target's seed corpus, each named by its SHA-256
# (the nghttp2 fuzz/ convention), e.g. a crashing input once its bug is fixed:
#   tests/fuzz/add_seed.sh h1_parse build-fuzz/crashes/h1_parse/crash-*
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET FILE..." >&2
  exit 2
fi
dir="$(cd "$(dirname "$0")" && pwd)/corpus/$1"
shift
mkdir -p "$dir"
for f in "$@"; do
  sum=$(sha256sum "$f" | cut -d' ' -f1)
  cp "$f" "$dir/$sum"
  echo "$dir/$sum"
done
