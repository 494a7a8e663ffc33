#!/usr/bin/env bash
# End-to-end on a GPU node (issue 20): peaknet-pusher -> ingestd -> inferd (CUDA) -> writerd over loopback
# tcp at 16x1x1920^2 float32, started with `peakctl start --no-systemd` on configs/gpu-node.json (random
# 33M weights), then the model alone (bench_model_forward: same batch, bf16, fused kernels, CUDA graph)
# in the same run. Prints the steady end-to-end events/s (slope of events written between 25 % and 75 %
# of the stream), model-only frames/s, their ratio, hits written and the ledger.
# Run it first thing on a freshly booted node (right after the build) and again warm.
#   [E2E_SET="key=value ..."] bench/e2e/gpu_e2e.sh BUILD_DIR LABEL [MESSAGES_PER_RANK=40] [MIN_NUM_PEAK=0]
# MIN_NUM_PEAK 0 makes every event a hit: the random 33M weights find no peaks in the pusher's frames, so
# with 4 (the 2026-12-06 H200 run) nothing was written; 0 exercises writerd for every event.
# Exit 0 only when every pushed event is accounted for (received = written + filtered, none in flight).
set -uo pipefail
build="$(realpath "$1")"; label="$2"; count="${3:-40}"; min_peak="${4:-0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${OUT:-/tmp}/e2e-$label"; mkdir -p "$out"
run_dir="/tmp/e2e-run-$label"; cxi="/tmp/e2e-cxi-$label"
rm -rf "$run_dir" "$cxi"
peakctl="$build/ctl/peakctl"
pusher="$(find "$build" -name peaknet-pusher -type f -perm -u+x | head -1)"
ulimit -l unlimited 2>/dev/null || echo "gpu_e2e: cannot raise the memlock limit (Q1 stays pageable)"
C=(--config "$root/configs/gpu-node.json" --set inferd.model.weights= --set inferd.model.random_init=true
   --set "writerd.output_dir=$cxi" --set writerd.fsync=none --set "run.run_dir=$run_dir"
   --set "peaks.min_num_peak=$min_peak")
for kv in ${E2E_SET:-}; do C+=(--set "$kv"); done  # extra overrides, e.g. E2E_SET="writerd.write_frames=false"
stats_json() { "$peakctl" stats --once --json "${C[@]}" 2>/dev/null; }
now() { date +%s.%N; }

t0=$(now)
if ! "$peakctl" start "${C[@]}" --no-systemd >"$out/start.log" 2>&1; then
  echo "gpu_e2e[$label]: peakctl start failed"; tail -30 "$out/start.log"; exit 1
fi
t_ready=$(now)
events=$((3 * count * 16))
echo "gpu_e2e[$label]: all READY $(python3 -c "print(round($t_ready - $t0, 1))") s after peakctl start; pushing $events events"
# "time written" samples for the steady-state slope; every sample's whole stats (Q1/Q2 fill, GPU busy, stage
# rates) goes to stats-samples.jsonl, to tell afterwards which stage held the rate (Q1 full: inferd or
# later; Q1 empty: the pusher or ingestd).
# One python per sample (the sampler shares the node with what it measures).
( while :; do
    stats_json | python3 -c '
import json, sys, time
t_ask = float(sys.argv[1])
try:
    s = json.load(sys.stdin)
except ValueError:
    s = None
t = (t_ask + time.time()) / 2  # the middle of the stats call (it takes ~0.1-0.3 s)
if s is None:
    print(t, -1)
else:
    with open(sys.argv[2], "a") as f:
        f.write(json.dumps({"t": t, "stats": s}) + "\n")
    print(t, s["ledger"]["written"] + s["ledger"]["filtered"])
' "$(now)" "$out/stats-samples.jsonl"
    sleep 0.5
  done ) >"$out/written.txt" 2>/dev/null &
sampler=$!
timeout "${E2E_PUSH_TIMEOUT:-240}" "$pusher" -e tcp://127.0.0.1:12321 -e tcp://127.0.0.1:12322 -e tcp://127.0.0.1:12323 --distribute \
  --format npz-stored --shape 16 1 1920 1920 -n 3 -c "$count" --reuse --linger -1 >"$out/pusher.log" 2>&1
push_rc=$?
rc=1
for _ in $(seq 1 120); do  # the ledger at rest, bounded
  stats_json >"$out/stats.json" || true
  if python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["ledger"]; sys.exit(0 if l["received"] >= int(sys.argv[2]) and l["in_flight"] == 0 else 1)' \
       "$out/stats.json" "$events" 2>/dev/null; then rc=0; break; fi
  sleep 1
done
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
"$peakctl" status "${C[@]}" >"$out/status.txt" 2>&1
"$peakctl" stats --once "${C[@]}" >"$out/stats.txt" 2>&1
cat "$out/stats.txt"
if [ "$rc" -ne 0 ]; then
  echo "gpu_e2e[$label]: NOT COMPLETE (pusher rc $push_rc): the suite did not account for all $events events"
  for p in $(pgrep -f 'ingestd|inferd|writerd'); do
    echo "== pid $p $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-80): shm mappings"
    grep -h '/dev/shm' "/proc/$p/maps" | awk '{print $6, $7}' | sort -u
  done
  ls -la /dev/shm | head -30
  tail -n 15 "$run_dir"/*.log 2>/dev/null
fi
if [ "$rc" -eq 0 ]; then
  timeout 120 "$peakctl" stop "${C[@]}" >"$out/stop.log" 2>&1; stop_rc=$?
else  # nothing will drain: stop at once, and make sure no daemon outlives this run
  timeout 30 "$peakctl" stop --now "${C[@]}" >"$out/stop.log" 2>&1; stop_rc=$?
  pkill -9 -f "$build/(ctl/peakctl|daemons/)" 2>/dev/null
  timeout 30 "$peakctl" clean "${C[@]}" >>"$out/stop.log" 2>&1
fi
hits=$(find "$cxi" -name '*.cxi' | wc -l)
"$build/bench/model_forward/bench_model_forward" --config 33m --batch 16 --height 1920 --width 1920 --precision bf16 \
  --device cuda --channels-last --fused --cuda-graph --iters 10 --repeats 3 >"$out/model_only.txt" 2>&1
python3 - "$out" "$events" "$label" "$push_rc" "$stop_rc" "$hits" <<'PY' | tee "$out/summary.txt"
import json, re, sys
out, events, label, push_rc, stop_rc, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
l = json.load(open(f"{out}/stats.json"))["ledger"]
samples = [tuple(map(float, ln.split())) for ln in open(f"{out}/written.txt") if len(ln.split()) == 2]
samples = [s for s in samples if s[1] >= 0]
def crossing(frac):  # linear interpolation between the samples around the crossing (0.5 s apart)
    target = frac * events
    for (t0, w0), (t1, w1) in zip(samples, samples[1:]):
        if w0 < target <= w1:
            return t0 + (t1 - t0) * (target - w0) / (w1 - w0)
    return None
t25, t75 = crossing(0.25), crossing(0.75)
e2e = 0.5 * events / (t75 - t25) if t25 and t75 and t75 > t25 else float("nan")
m = re.findall(r"ms/batch, ([0-9.]+) frames/s", open(f"{out}/model_only.txt").read())
model = float(m[0]) if m else float("nan")
print(f"e2e[{label}]: ledger received {l['received']} = written {l['written']} + filtered {l['filtered']}"
      f" + dropped {l['dropped']} + in flight {l['in_flight']}; CXI files {files}; pusher rc {push_rc}; stop rc {stop_rc}")
print(f"e2e[{label}]: steady {e2e:.1f} events/s end to end; model only {model:.1f} frames/s; ratio {e2e / model:.3f}")
PY
exit "$rc"
