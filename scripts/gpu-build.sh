#!/usr/bin/env bash
# Run THERE (the lent GPU machine: Ubuntu 24.04, CUDA 13.0, torch 2.11+cu130, no network), from the repo root,
# with .gpu-deps carried:  scripts/gpu-build.sh [build-dir]   (env PEAKNET_GPU_TARGETS limits the targets)
# Unpacks the carried .debs into a prefix, configures against torch's own LibTorch and builds everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-gpu}"
prefix="${PEAKNET_GPU_PREFIX:-/tmp/peaknet-prefix}"
lib="$prefix/usr/lib/x86_64-linux-gnu"

mkdir -p "$prefix"
for f in "$root"/.gpu-deps/*.deb; do dpkg -x "$f" "$prefix"; done
# The dev package's libsystemd.so points at a runtime lib that is not in the prefix: use the machine's own.
for so in /lib/x86_64-linux-gnu/libsystemd.so.0 /usr/lib/x86_64-linux-gnu/libsystemd.so.0; do
  if [ -e "$so" ]; then ln -sf "$so" "$lib/libsystemd.so"; break; fi
done
export PATH="$prefix/usr/bin:$PATH"
export PKG_CONFIG_PATH="$lib/pkgconfig:$prefix/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}"
export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
# pkgconf from the prefix needs its own libpkgconf and knows nothing of the prefix's system dirs.
command -v pkg-config >/dev/null || ln -sf "$prefix/usr/bin/pkgconf" "$prefix/usr/bin/pkg-config"

mkdir -p "$prefix/fmt-first" && ln -sfn /usr/include/fmt "$prefix/fmt-first/fmt"
torch_prefix="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
nvcc_bin="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr;$lib/cmake;$prefix/usr/share/cmake" \
  -DCMAKE_CUDA_COMPILER="$nvcc_bin" \
  -DCMAKE_CUDA_ARCHITECTURES=90a \
  -DPEAKNET_CUDA=ON \
  -DPEAKNET_FIRST_INCLUDE_DIR="$prefix/fmt-first" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags -Wl,-rpath,$lib" \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--disable-new-dtags -Wl,-rpath,$lib" \
  -DPEAKNET_GOLDEN_DIR="${PEAKNET_GOLDEN_DIR:-$root/.gpu-golden/golden}"
# PEAKNET_GPU_TARGETS="a b" builds only those targets (quick benchmark runs); default: everything.
cmake --build "$build" -j "$(nproc)" ${PEAKNET_GPU_TARGETS:+--target $PEAKNET_GPU_TARGETS} -- -k 0
echo "gpu-build: built in $build"
