#!/usr/bin/env bash
# Run HERE (Debian 12 developer machine): downloads the Debian packages the GPU machine lacks
# (ZeroMQ + its libs, libsystemd headers, cpp-httplib, Google Benchmark, zfp, pkg-config, Boost headers) into .gpu-deps/
# (git-ignored), and stages ../shared/golden in .gpu-golden/ (ignored). Carry both folders with the device run; scripts/gpu-build.sh unpacks it there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.gpu-deps"
packages=(
  libzmq5 libzmq3-dev cppzmq-dev libsodium23 libsodium-dev libpgm-5.3-0 libpgm-dev libnorm1 libnorm-dev
  libsystemd-dev
  libcpp-httplib-dev libcpp-httplib0.11
  libbenchmark-dev libbenchmark1debian
  libzfp-dev libzfp1
  pkgconf pkgconf-bin libpkgconf3
  libboost1.74-dev  # header-only Boost.Interprocess for libshm (+ BoostConfig); the GPU image lists none
)
mkdir -p "$dest"
cd "$dest"
missing=()
for p in "${packages[@]}"; do
  ls "${p}"_*.deb >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get download "${missing[@]}"
fi
# ../shared does not travel to the device machine: stage the golden data in an ignored folder that does.
golden_src="${PEAKNET_GOLDEN_DIR:-$root/../shared/golden}"
if [ -d "$golden_src" ]; then
  mkdir -p "$root/.gpu-golden" && cp -ru "$golden_src" "$root/.gpu-golden/"
fi
echo "gpu-fetch-debs: $(ls "$dest"/*.deb | wc -l) packages in $dest ($(du -sh "$dest" | cut -f1))"
