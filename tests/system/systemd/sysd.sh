#!/usr/bin/env bash
# A real systemd 252 as PID 1 of a systemd-nspawn container, booted from this host's own / through a
# copy-on-write overlay (lower = host /, upper = tmpfs): the same libraries the build used, and nothing
# the container does reaches the host. The checkout ($SYSD_CHECKOUT) appears at the same path, writable
# through a private overlay. (Logic of the project's systemd-harness tool, kept short.) Run as root.
#   sysd.sh up              boot (idempotent); exit 77 when this machine cannot boot a container
#   sysd.sh exec CMD...     run CMD as root inside (clean environment)
#   sysd.sh down [--keep]   power off; --keep keeps the upper layer, so the next `up` is a reboot
#                           (/etc and /var survive, /run and /dev/shm are fresh)
set -uo pipefail
D=${SYSD_DIR:-/tmp/peaknet-sysd}
ROOT=$D/root
CHECKOUT=${SYSD_CHECKOUT:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}

leader() {  # host pid of the container's systemd
  local nsp; nsp=$(cat "$D/nspawn.pid" 2>/dev/null) || return 1
  kill -0 "$nsp" 2>/dev/null || return 1
  pgrep -P "$nsp" | head -1
}
skip() { echo "SKIP: $*" >&2; exit 77; }

up() {
  local L; L=$(leader) && [ -n "$L" ] && return 0
  [ "$(id -u)" = 0 ] || skip "needs root to boot a systemd container"
  command -v systemd-nspawn >/dev/null || skip "systemd-nspawn missing (apt-get install systemd-container)"
  mkdir -p "$D"
  # Upper layer on tmpfs: an upper dir on the host's own file system would overlap the lower layer.
  mountpoint -q "$D/ovl" || { mkdir -p "$D/ovl"; mount -t tmpfs -o size=4G tmpfs "$D/ovl" || skip "cannot mount tmpfs"; }
  mkdir -p "$D/ovl/upper" "$D/ovl/work" "$ROOT"
  mountpoint -q "$ROOT" || mount -t overlay overlay -o "lowerdir=/,upperdir=$D/ovl/upper,workdir=$D/ovl/work" "$ROOT" \
    || skip "cannot mount an overlay of / (kernel or container limits)"
  # Its own machine-id (else nspawn refuses to link journals); host-only services masked.
  [ -s "$D/ovl/upper/etc/machine-id" ] || systemd-id128 new > "$ROOT/etc/machine-id"
  for u in postgresql.service apt-daily-upgrade.timer apt-daily.timer dpkg-db-backup.timer e2scrub_all.timer \
           fstrim.timer man-db.timer e2scrub_reap.service systemd-timesyncd.service systemd-pstore.service \
           getty@tty1.service console-getty.service; do
    ln -sfn /dev/null "$ROOT/etc/systemd/system/$u"
  done
  # nspawn refuses to clean its propagate dir unless it is on tmpfs (here /run is on disk).
  mkdir -p /run/systemd/nspawn
  [ "$(stat -f -c %T /run/systemd/nspawn)" = tmpfs ] || mount -t tmpfs -o mode=755 tmpfs /run/systemd/nspawn
  local up="$D/ovl/checkout"; mkdir -p "$up"
  # --register=no --keep-unit: no host systemd/D-Bus to register with. Keep the host's /tmp (copy-on-write).
  # CAP_IPC_LOCK: without it nspawn's seccomp filter denies mlock() outright (EPERM whatever the
  # RLIMIT_MEMLOCK), unlike a node; libgcrypt (loaded by Debian's libtorch via libssh-gcrypt) then prints
  # "Warning: using insecure memory!" at inferd's start.
  ( SYSTEMD_NSPAWN_TMPFS_TMP=0 setsid systemd-nspawn --boot -D "$ROOT" -M peaknet-sysd --register=no --keep-unit \
      --console=read-only --private-network --capability=CAP_IPC_LOCK "--overlay=$CHECKOUT:$up:$CHECKOUT" >"$D/nspawn.log" 2>&1 </dev/null &
    echo $! >"$D/nspawn.pid" )
  local st=""
  for _ in $(seq 1 60); do
    sleep 1
    L=$(leader) || { cat "$D/nspawn.log" >&2; skip "systemd-nspawn exited (see above)"; }
    [ -n "$L" ] || continue
    st=$(nsenter -t "$L" -a systemctl is-system-running 2>/dev/null || true)
    case "$st" in running|degraded) return 0 ;; esac
  done
  echo "container did not finish booting (state $st)" >&2; return 1
}

run_in() {
  local L; L=$(leader) && [ -n "$L" ] || { echo "container not up" >&2; return 125; }
  nsenter -t "$L" -a -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    USER=root LOGNAME=root LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

down() {
  local L
  if L=$(leader) && [ -n "$L" ]; then
    nsenter -t "$L" -a systemctl poweroff --no-block >/dev/null 2>&1 || kill -RTMIN+4 "$L"
    local nsp; nsp=$(cat "$D/nspawn.pid")
    for _ in $(seq 1 60); do kill -0 "$nsp" 2>/dev/null || break; sleep 1; done
    kill -0 "$nsp" 2>/dev/null && kill -9 "$nsp"
  fi
  rm -f "$D/nspawn.pid"
  [ "${1:-}" = --keep ] && return 0
  mountpoint -q "$ROOT" && umount "$ROOT"
  mountpoint -q "$D/ovl" && umount "$D/ovl"
  return 0
}

case "${1:-}" in
  up) up ;;
  exec) shift; run_in "$@" ;;
  down) shift; down "$@" ;;
  *) sed -n '6,9p' "$0"; exit 2 ;;
esac
