#!/usr/bin/env bash
# Checks that every C source and header of the tree (tracked, or new and not
# ignored) matches .clang-format
# (clang-format --dry-run -Werror); lists the files that do not and exits 1.
# Generated code (protoc-c output) lives in the build directory, never in git.
#   tests/check_format.sh         check
#   tests/check_format.sh --fix   reformat those files in place
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null 2>&1; then
  echo "check_format: clang-format not found (bash deploy/setup-debian.sh installs it)" >&2
  exit 2
fi

exclude='\.pb-c\.[ch]$'

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # New files too: a file not added yet is checked before its commit, not by CI after it.
  list() { git ls-files --cached --others --exclude-standard -- '*.c' '*.h' |
    while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done | sort -u; }
else # an exported tree: the same files, build directories aside
  list() { find . \( -name 'build*' -prune \) -o -type f \( -name '*.c' -o -name '*.h' \) -print |
    sed 's|^\./||' | grep -v '/node_modules/' | sort; }
fi
mapfile -t files < <(list | grep -Ev "$exclude")
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "check_format: not clang-formatted (run tests/check_format.sh --fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
