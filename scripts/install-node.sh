#!/usr/bin/env bash
# Installs the suite as systemd services on this node (run as root; called by `scripts/peaknet install`).
#   install-node.sh install   [--build-dir DIR] [--prefix /usr/local]
#   install-node.sh uninstall [--purge]   (--purge also removes /etc/peaknet, /var/lib/peaknet and the user)
# install: binaries + units + /etc/peaknet (cmake --install), the `peaknet` system user and group, the
# state dir /var/lib/peaknet (CXI output under cxi/), one peaknet-inferd@N per GPU (@cpu0 without one)
# wanted by peaknet.target, then `systemctl daemon-reload`. The runtime dir (/run/peaknet) is made by
# systemd (RuntimeDirectory=), logs go to journald. Idempotent; an existing /etc/peaknet/peaknet.json is kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cmd="${1:-}"; shift || true
build_dir="$root/build"
prefix=/usr/local
purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$(realpath -m "$2")"; shift ;;
    --prefix) prefix="$(realpath -m "$2")"; shift ;;
    --purge) purge=1 ;;
    *) echo "install-node.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "peaknet $cmd: run as root (sudo)" >&2; exit 1; }

etc=/etc/peaknet
state=/var/lib/peaknet
manifest=$etc/install-manifest.txt   # what `uninstall` removes
unit_dir=/etc/systemd/system
wants=$unit_dir/peaknet.target.wants

gpu_instances() {  # the inferd instances this node runs: 0..N-1 per /dev/nvidiaN, else cpu0
  local n; n=$(find /dev -maxdepth 1 -regex '/dev/nvidia[0-9]+' 2>/dev/null | wc -l)
  if [ "$n" -gt 0 ]; then seq 0 $((n - 1)); else echo cpu0; fi
}

install_node() {
  [ -f "$build_dir/CMakeCache.txt" ] || { echo "peaknet install: no build in $build_dir (scripts/peaknet build)" >&2; exit 1; }
  cmake --install "$build_dir" --prefix "$prefix"
  # Units: into /etc/systemd/system (searched whatever the prefix), ExecStart pointing at $prefix/bin.
  local installed=()
  for u in "$prefix"/lib/systemd/system/peaknet*.service "$prefix"/lib/systemd/system/peaknet*.target; do
    [ -f "$u" ] || continue
    sed -E "s#^ExecStart=[^ ]*/bin/#ExecStart=$prefix/bin/#" "$u" > "$unit_dir/$(basename "$u")"
    [ "$(dirname "$u")" = "$unit_dir" ] || rm -f "$u"
    installed+=("$unit_dir/$(basename "$u")")
  done
  { cat "$build_dir/install_manifest.txt"; echo; printf '%s\n' "${installed[@]}"; } | grep -v '^$' \
    | grep -v "^$etc/.*\.json$" | grep -v "/lib/systemd/system/" > "$manifest"

  getent group peaknet >/dev/null || groupadd --system peaknet
  if ! id peaknet >/dev/null 2>&1; then
    useradd --system --gid peaknet --home-dir "$state" --no-create-home --shell /usr/sbin/nologin \
      --comment "peaknet daemon suite" peaknet
  fi
  getent group video >/dev/null && usermod -aG video peaknet   # GPU device nodes
  install -d -o peaknet -g peaknet -m 0750 "$state" "$state/cxi"
  chgrp peaknet "$etc"/*.json && chmod 0640 "$etc"/*.json

  systemctl daemon-reload
  rm -f "$wants"/peaknet-inferd@*.service
  for i in $(gpu_instances); do systemctl add-wants peaknet.target "peaknet-inferd@$i.service" >/dev/null; done
  systemctl daemon-reload

  echo "installed: $prefix/bin/{peakctl,ingestd,inferd,writerd}, units in $unit_dir, config $etc/peaknet.json"
  echo "  inferd instances: $(gpu_instances | tr '\n' ' ')(peaknet.target wants them)"
  echo "  ingestd PULL: tcp://*:12321; CXI output: $state/cxi; logs: journalctl -u 'peaknet-*'"
  if grep -q '"random_init": *true' "$etc/peaknet.json"; then
    cat >&2 <<WARN

  ************************************************************************************************
  *  WARNING: $etc/peaknet.json uses the DEMO MODEL (inferd.model.random_init: random weights).  *
  *  Its peaks are meaningless. Put the real weights at inferd.model.weights and remove           *
  *  random_init before taking data.                                                              *
  ************************************************************************************************
WARN
  fi
  echo "next: peakctl start; systemctl enable peaknet.target (at boot); usermod -aG peaknet <operator>"
}

uninstall_node() {
  systemctl stop peaknet.target 'peaknet-*' 2>/dev/null || true
  systemctl disable peaknet.target 2>/dev/null || true
  rm -rf "$wants"
  if [ -f "$manifest" ]; then
    while read -r f; do [ -n "$f" ] && rm -f "$f"; done < "$manifest"
    rm -f "$manifest"
  fi
  rm -f "$unit_dir"/peaknet*.service "$unit_dir"/peaknet*.target
  systemctl daemon-reload
  systemctl reset-failed 'peaknet-*' 2>/dev/null || true
  if [ "$purge" = 1 ]; then
    rm -rf "$etc" "$state" /run/peaknet
    id peaknet >/dev/null 2>&1 && userdel peaknet
    getent group peaknet >/dev/null && groupdel peaknet
    echo "uninstalled and purged (config, $state, user peaknet)"
  else
    echo "uninstalled; kept $etc (configs), $state (CXI output) and the peaknet user (--purge removes them)"
  fi
}

case "$cmd" in
  install) install_node ;;
  uninstall) uninstall_node ;;
  *) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
