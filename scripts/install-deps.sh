#!/usr/bin/env bash
# Installs every Debian 12 package the CPU build, the tests and the demo need. Idempotent:
# `apt-get update` runs only when a package is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread libboost-dev libssl-dev
  libzmq3-dev cppzmq-dev libsystemd-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev
  libhdf5-dev hdf5-tools hdf5-filter-plugin liblz4-dev libzstd-dev libzfp-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  tmux procps util-linux
  systemd-container  # systemd-nspawn: the system tests boot a real systemd (tests/system/systemd)
  prometheus         # promtool: the metrics tests check /metrics with `promtool check metrics`
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
