#!/usr/bin/env bash
# run_vs_eager.sh BUILD_DIR [bench_model_forward options...]
# One run: the C++ engine (bench_model_forward, with the given options) and, when python3 has torch,
# the PyTorch eager baseline of the same architecture (scripts/peaknet_eager_baseline.py, same options;
# C++-only ones are ignored there), then the ratio C++ / eager. Without torch the baseline is skipped.
# EAGER_EXTRA="--compile" adds options for the Python side only (e.g. a torch.compile baseline).
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [bench_model_forward options...]" >&2
  exit 2
fi
build_dir=$1
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench="$build_dir/bench/model_forward/bench_model_forward"
[[ -x $bench ]] || { echo "run_vs_eager: $bench not found (build target bench_model_forward)" >&2; exit 2; }

cpp_log=$(mktemp)
eager_log=$(mktemp)
trap 'rm -f "$cpp_log" "$eager_log"' EXIT

"$bench" "$@" | tee "$cpp_log"
# "  12.34 ms/batch, 56.78 frames/s (median ...)"
cpp_fps=$(awk '/ ms\/batch, / {for (i = 1; i <= NF; ++i) if ($(i + 1) == "frames/s") {print $i; exit}}' "$cpp_log")

if ! python3 -c "import torch" 2>/dev/null; then
  echo "eager baseline: skipped (python3 cannot import torch)"
  exit 0
fi
# shellcheck disable=SC2086  # EAGER_EXTRA is a list of options
python3 "$root/scripts/peaknet_eager_baseline.py" "$@" ${EAGER_EXTRA:-} | tee "$eager_log"
eager_fps=$(sed -n 's/.*frames\/s=\([0-9.]*\).*/\1/p' "$eager_log" | head -n1)
if [[ -n $cpp_fps && -n $eager_fps ]]; then
  awk -v c="$cpp_fps" -v e="$eager_fps" 'BEGIN {printf "ratio C++ engine / PyTorch %s: %.2f (%s vs %s frames/s)\n", "'"${EAGER_EXTRA:+${EAGER_EXTRA} }"'baseline", c / e, c, e}'
else
  echo "run_vs_eager: could not read frames/s (C++: '${cpp_fps}', eager: '${eager_fps}')" >&2
  exit 1
fi
