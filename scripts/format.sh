#!/usr/bin/env bash
# clang-formats every C++/CUDA source of the checkout (tracked, and new files git does not ignore) with the repo's .clang-format.
#   scripts/format.sh           rewrite the files in place
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 (the `format` test)
# Exit 77 (ctest: skipped) when clang-format or git is missing. Pinned to Debian 12's clang-format 14: other
# versions break lines differently, so a check with another version would only report noise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cf="${CLANG_FORMAT:-clang-format}"
command -v "$cf" >/dev/null && command -v git >/dev/null || { echo "format: clang-format or git not found"; exit 77; }
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || { echo "format: $root is not a git checkout"; exit 77; }
version="$("$cf" --version | sed -n 's/.*version \([0-9]*\).*/\1/p')"
[ "$version" = 14 ] || { echo "format: clang-format $version found, the style is pinned to 14"; exit 77; }

cd "$root"
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' '*.cu' '*.cuh')
if [ "${1:-}" = --check ]; then
  # One clang-format process for all files (one per file takes a minute on 2 cores); it names each
  # unformatted line as "<file>:<line>:<col>: error: code should be clang-formatted".
  if report="$("$cf" --style=file --dry-run -Werror --ferror-limit=1 "${files[@]}" 2>&1)"; then
    echo "format: ${#files[@]} files clean"
    exit 0
  fi
  echo "format: not clang-formatted (run scripts/format.sh):"
  grep -o '^[^:]*:[0-9]*:[0-9]*: error' <<<"$report" | cut -d: -f1 | sort -u | sed 's/^/  /'
  grep 'error:' <<<"$report" | grep -v 'code should be clang-formatted' | head -n 5  # e.g. a bad style file
  exit 1
fi
"$cf" --style=file -i "${files[@]}"
echo "format: ${#files[@]} files formatted"
