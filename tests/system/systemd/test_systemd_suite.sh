#!/usr/bin/env bash
# System test: the suite as an operator deploys it, inside a real systemd (tests/system/systemd/sysd.sh).
#   test_systemd_suite.sh BUILD_DIR        (root; exit 77 = skipped: no container possible here)
# Steps = docs/OPERATIONS.md "With systemd": scripts/peaknet install, peakctl start (all READY), push
# events with peaknet-pusher over tcp, peakctl stats --once, an operator in group peaknet runs
# peakctl status/stats, metrics (/health/ready 200, promtool when installed), kill -9 of inferd ->
# systemd restarts it and no event is lost or duplicated, peakctl stop -> ledger balances and every unit
# is inactive; then a reboot of the container (rings gone) -> the next run's events are all written.
set -uo pipefail
BUILD=$(realpath "${1:?usage: $0 BUILD_DIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
export SYSD_DIR=${SYSD_DIR:-/tmp/peaknet-systest-$$} SYSD_CHECKOUT=$SRC
SYSD="$HERE/sysd.sh"
X() { "$SYSD" exec "$@"; }                    # as root in the container
failures=()
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures+=("$what"); fi; }
cleanup() { "$SYSD" down >/dev/null 2>&1; rm -rf "$SYSD_DIR"; }
trap cleanup EXIT

"$SYSD" up; rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { echo "FAIL: the container did not boot"; exit 1; }
[ -x "$BUILD/daemons/ingestd/tools/pusher/peaknet-pusher" ] || { echo "FAIL: build peaknet-pusher first"; exit 1; }
PUSHER=$BUILD/daemons/ingestd/tools/pusher/peaknet-pusher

# Counters of the running suite (peakctl stats --once --json) as "received written filtered dropped in_flight".
ledger() { X peakctl stats --once --json 2>/dev/null | python3 -c '
import json,sys; l=json.load(sys.stdin)["ledger"]
print(*(int(l.get(k,0)) for k in ("received","written","filtered","dropped","in_flight")))'; }
# Pushes N events (messages of 10 frames 1x128x128) to ingestd's tcp endpoint; waits until all are out of
# the pipeline (written + filtered + dropped = received = expected total).
push_and_wait() {
  local n=$1 total=$2 rank_base=$3
  X "$PUSHER" -e tcp://127.0.0.1:12321 --shape 10 1 128 128 -c $((n / 10)) --linger -1 --rank-base "$rank_base" \
    >/dev/null || return 1
  local idle=0 last=-1
  for _ in $(seq 1 240); do   # until all are out, or 8 polls without progress once all were received
    read -r rec wr fi dr fl <<<"$(ledger)"
    [ "${rec:-0}" = "$total" ] && [ $((wr + fi + dr)) = "$total" ] && return 0
    if [ "${rec:-0}" = "$total" ] && [ $((wr + fi + dr)) = "$last" ]; then idle=$((idle + 1)); else idle=0; fi
    last=$((wr + fi + dr)); [ $idle -ge 8 ] && break
    sleep 0.5
  done
  echo "  ledger after waiting: received=$rec written=$wr filtered=$fi dropped=$dr in_flight=$fl (want $total)"
  return 1
}
units_inactive() {  # every unit of the suite is inactive (not failed, not running)
  local bad; bad=$(X systemctl list-units --all --plain --no-legend 'peaknet*' | awk '$3 != "inactive" {print $1" "$3}')
  [ -z "$bad" ] || { echo "  not inactive: $bad"; return 1; }
}
final_ok() {  # peakctl stop's JSON: stopped, in_flight 0, received = written + filtered + dropped = $1
  python3 -c '
import json,sys; j=json.load(open(sys.argv[1])); l=j["ledger"]; want=int(sys.argv[2])
ok = j["stopped"] and l["in_flight"]==0 and l["received"]==want and l["written"]+l["filtered"]+l["dropped"]==want
print("  stop:", json.dumps(l)) if not ok else None; sys.exit(0 if ok else 1)' "$1" "$2"
}

# 1. install exactly as OPERATIONS.md says
check "scripts/peaknet install" X "$SRC/scripts/peaknet" install --build-dir "$BUILD"
X useradd -m -G peaknet operator1
# Every event a hit (the demo model's random weights find few peaks): the written CXI rows then carry
# every event id, so the reboot step below sees a new event skipped as a "duplicate" of an old row.
X sed -i 's#"min_num_peak": 10#"min_num_peak": 0#' /etc/peaknet/peaknet.json
# 1b. a unit that cannot start: writerd's output dir is read-only under ProtectSystem=strict -> start
#     fails at once, naming the unit and its journal (not READY, not a timeout)
X cp /etc/peaknet/peaknet.json /root/peaknet.json.orig
X sed -i 's#"output_dir": "/var/lib/peaknet/cxi"#"output_dir": "/opt/peaknet-cxi"#' /etc/peaknet/peaknet.json
X peakctl start > "$SYSD_DIR/start-fail.log" 2>&1; rc=$?
check "start with an unwritable output dir fails" test $rc = 1
check "... naming writerd's unit" grep -q "^  peaknet-writerd.service: " "$SYSD_DIR/start-fail.log"
check "... and, from its journal, the directory" grep -q "/opt/peaknet-cxi: cannot write a file there" "$SYSD_DIR/start-fail.log"
grep -q "cannot write a file there" "$SYSD_DIR/start-fail.log" || cat "$SYSD_DIR/start-fail.log"
X systemctl stop peaknet.target 'peaknet-*' >/dev/null 2>&1
X cp /root/peaknet.json.orig /etc/peaknet/peaknet.json
# 2. start: every unit READY
t0=$(date +%s.%N)
check "peakctl start" X peakctl start
t_start=$(echo "$(date +%s.%N) - $t0" | bc)
echo "time: peakctl start -> all READY: ${t_start} s"
check "peaknet-inferd@cpu0 active" X systemctl is-active peaknet-inferd@cpu0.service
# 3. push >= 500 events over tcp
check "500 events pushed and out of the pipeline" push_and_wait 500 500 0
check "peakctl stats --once" X peakctl stats --once
# 4. an operator (group peaknet, not root)
check "operator runs peakctl status" X runuser -u operator1 -- peakctl status
check "operator runs peakctl stats --once" X runuser -u operator1 -- peakctl stats --once
# 5. metrics: the service of the target sees every daemon
check "metrics /health/ready 200" X python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:9464/health/ready", timeout=5)'
X python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:9464/metrics", timeout=5).read().decode())' \
  > "$SYSD_DIR/metrics.txt"
check "metrics has peaknet_daemon_ready for 3 daemons" \
  test "$(grep -c '^peaknet_daemon_ready{.*} 1' "$SYSD_DIR/metrics.txt")" = 3
if command -v promtool >/dev/null; then
  check "promtool check metrics" sh -c "promtool check metrics < '$SYSD_DIR/metrics.txt'"
else
  echo "skip: promtool check metrics (promtool not installed: apt-get install prometheus)"
fi
# 6. kill -9 of inferd: systemd restarts it; nothing lost or duplicated
pid=$(X systemctl show -p MainPID --value peaknet-inferd@cpu0.service)
X kill -9 "$pid"
for _ in $(seq 1 120); do
  new=$(X systemctl show -p MainPID --value peaknet-inferd@cpu0.service)
  [ "$new" != 0 ] && [ "$new" != "$pid" ] && X systemctl is-active -q peaknet-inferd@cpu0.service && break
  sleep 0.5
done
check "systemd restarted inferd after kill -9" test "$(X systemctl show -p NRestarts --value peaknet-inferd@cpu0.service)" = 1
check "200 more events after the restart" push_and_wait 200 700 1000
# 7. stop: drains, ledger balances, every unit inactive
t0=$(date +%s.%N)
X peakctl stop --json > "$SYSD_DIR/stop.json"; rc=$?
t_stop=$(echo "$(date +%s.%N) - $t0" | bc)
echo "time: peakctl stop -> all inactive: ${t_stop} s"
check "peakctl stop exit 0" test $rc = 0
check "ledger balances after stop (700 events)" final_ok "$SYSD_DIR/stop.json" 700
check "every unit inactive (not failed)" units_inactive
# 8. a second start/stop cycle
check "second peakctl start" X peakctl start
check "systemctl stop peaknet.target drains (units inactive)" X systemctl stop peaknet.target
check "units inactive after systemctl stop peaknet.target" units_inactive
# 9. reboot: /dev/shm and /run are fresh, /etc and /var/lib/peaknet (earlier CXI files) survive
"$SYSD" down --keep && "$SYSD" up || { echo "FAIL: reboot"; exit 1; }
check "peakctl start after reboot" X peakctl start
check "300 events after the reboot" push_and_wait 300 300 2000
X peakctl stop --json > "$SYSD_DIR/stop2.json"
check "after the reboot every event is written (none skipped as a duplicate of an earlier run)" \
  final_ok "$SYSD_DIR/stop2.json" 300
echo "  writerd after the reboot: $(X python3 -c '
import json; s=json.load(open("/run/peaknet/peaknet/writerd.final.json"))["stats"]
print("written", s.get("events_written"), "filtered", s.get("events_filtered"), "duplicates_skipped", s.get("duplicates_skipped"))')"
check "units inactive after the last stop" units_inactive

echo "time: start ${t_start} s, stop ${t_stop} s"
if [ ${#failures[@]} -gt 0 ]; then
  echo "journal of the suite:"; X journalctl -b --no-pager -n 60 -u 'peaknet-*'
  echo "FAILED: ${failures[*]}"; exit 1
fi
echo "all system checks passed"
