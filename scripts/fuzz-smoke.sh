#!/usr/bin/env bash
# Builds the ingest decoder fuzz targets with clang (libFuzzer + ASan + UBSan) in build-fuzz and
# runs `ctest -L fuzz`: each fuzzer (npz, hdf5, cbor) for PEAKNET_FUZZ_SECONDS (default 10) seconds,
# seeded with the golden wire vectors. Only the fuzz targets are built (torch, CUDA, benchmarks off).
# scripts/peaknet test runs it with 5 s each: ~5 CPU-min of build (2.5 min on 2 cores) + 15 s of fuzzing.
# Usage: scripts/fuzz-smoke.sh [--dry-run] [--seconds N] [--build-dir DIR]
# Long run (docs/decoders.md): build-fuzz/tests/fuzz/ingest_decode/fuzz_decode_hdf5 -max_total_time=3600 CORPUS ../shared/golden/wire
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
dry=0
seconds="${PEAKNET_FUZZ_SECONDS:-10}"
dir="$root/build-fuzz"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --seconds) seconds="$2"; shift ;;
    --build-dir) dir="$(realpath -m "$2")"; shift ;;
    -h|--help) sed -n 2,6p "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "fuzz-smoke.sh: unknown argument '$1'" >&2; exit 64 ;;
  esac
  shift
done
run() {
  echo "+ $*"
  if [ "$dry" -eq 0 ]; then "$@"; fi
}
command -v clang++ >/dev/null || { echo "fuzz-smoke.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1 halt_on_error=1}"
run env CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPEAKNET_BUILD_FUZZERS=ON -DPEAKNET_SANITIZE=address -DPEAKNET_TORCH=OFF -DPEAKNET_CUDA=OFF \
    -DPEAKNET_BUILD_BENCH=OFF -DPEAKNET_FUZZ_SECONDS="$seconds"
run cmake --build "$dir" -j "$(nproc)" --target fuzz_decode_npz fuzz_decode_hdf5 fuzz_decode_cbor
run ctest --test-dir "$dir" -L fuzz --output-on-failure
