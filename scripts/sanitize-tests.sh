#!/usr/bin/env bash
# Builds the libshm tests with sanitizers and runs `ctest -L shm` in each build:
#   build-asan: AddressSanitizer + UndefinedBehaviorSanitizer   build-tsan: ThreadSanitizer
# Only the shm test targets are built (torch, CUDA and benchmarks off), so it stays a few minutes on 2 cores.
# Usage: scripts/sanitize-tests.sh [--dry-run] [asan|tsan ...]   (default: both)
# PEAKNET_TEST_SCALE (default 0.2 here) shrinks the event counts of the multi-process tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
dry=0
kinds=()
for a in "$@"; do
  case "$a" in
    --dry-run) dry=1 ;;
    asan|tsan) kinds+=("$a") ;;
    -h|--help) sed -n 2,6p "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "sanitize-tests.sh: unknown argument '$a'" >&2; exit 64 ;;
  esac
done
[ ${#kinds[@]} -eq 0 ] && kinds=(asan tsan)
run() {
  echo "+ $*"
  if [ "$dry" -eq 0 ]; then "$@"; fi
}
targets=(test_shm test_shm_fault shm_ring_worker)
export PEAKNET_TEST_SCALE="${PEAKNET_TEST_SCALE:-0.2}"
# TSan: report real races only; halt on the first so ctest marks the test failed.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1 abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1 halt_on_error=1}"
for kind in "${kinds[@]}"; do
  case "$kind" in
    asan) sanitize=address ;;
    tsan) sanitize=thread ;;
  esac
  dir="$root/build-$kind"
  run cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEAKNET_SANITIZE="$sanitize" \
      -DPEAKNET_TORCH=OFF -DPEAKNET_CUDA=OFF -DPEAKNET_BUILD_BENCH=OFF
  run cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
  run ctest --test-dir "$dir" -L shm --output-on-failure --timeout 600
done
