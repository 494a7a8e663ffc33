#!/usr/bin/env bash
# Run THERE (the lent GPU machine), from the repo root, FIRST THING on a fresh machine, with .gpu-deps and
# .gpu-golden carried: one bounded call that checks what only a GPU node can check.
#   scripts/gpu-acceptance.sh [build-dir]   (env: PEAKNET_ACCEPT_BUDGET_S, default 540; GPU_TESTS_FIRST, a ctest -R
#   regex of the GPU tests to run right after the cold and warm end to end, before the rest)
# 1. builds the daemons, the pusher, bench_model_forward, bench_writer and the GPU tests (scripts/gpu-build.sh);
# 2. issue 20: bench/e2e/gpu_e2e.sh "cold" (the first run after the build on a freshly started node) and "warm",
#    frames of hits off as in the issue (E2E_SET="writerd.write_frames=false"), then "warm-frames" (the default:
#    frames of hits written), each against model-only in the same run;
# 2b. inferd alone (bench_inferd, streaming vs model-only) after the warm end to end;
# 3. writerd on the node: bench_writer, 1920^2 float32 frames into /dev/shm, deflate levels 0 and 1, 1/8/16 threads;
# 4. ctest -L gpu: GPU_TESTS_FIRST after step 2's cold and warm runs, the others at the end.
# Steps that would start past the budget are skipped and say so. Logs under $OUT (or ./out-gpu-acceptance).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-/tmp/build-gpu}"
out="${OUT:-$root/out-gpu-acceptance}"; mkdir -p "$out"
budget_s="${PEAKNET_ACCEPT_BUDGET_S:-540}"
first="${GPU_TESTS_FIRST:-MasksGpu|InferdGpu}"
start=$(date +%s)
left() { echo $((budget_s - ($(date +%s) - start))); }
say() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$out/summary.txt"; }
# step NAME NEEDS_S CMD...: runs CMD unless fewer than NEEDS_S seconds are left, capped at what is left.
step() {
  local name=$1 needs=$2; shift 2
  if (($(left) < needs)); then say "SKIPPED $name ($(left) s left, needs $needs)"; return 0; fi
  timeout --kill-after=10 "$(left)" "$@" >"$out/$name.log" 2>&1
  say "$name: rc $?"
}

uptime | tee "$out/machine.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$out/machine.txt"
git -C "$root" log --oneline -1 | tee -a "$out/machine.txt"

targets="peakctl ingestd inferd writerd peaknet-pusher bench_model_forward bench_writer bench_inferd"
# Every test labelled gpu (peaknet_add_test ... LABELS gpu) and the targets those tests depend on.
gpu_targets=$(python3 - "$root" <<'PY'
import pathlib, re, sys
names, deps = set(), {}
for f in pathlib.Path(sys.argv[1]).glob("tests/**/CMakeLists.txt"):
    t = f.read_text()
    for m in re.finditer(r"peaknet_add_test\(\s*NAME\s+(\S+)(.*?)\)", t, re.S):
        if re.search(r"LABELS[^)]*\bgpu\b", m.group(2)): names.add(m.group(1))
    for m in re.finditer(r"add_dependencies\((\S+)\s+([^)]*)\)", t):
        deps.setdefault(m.group(1), set()).update(m.group(2).split())
print(" ".join(sorted(names.union(*(deps.get(n, set()) for n in names)))))
PY
)
echo "GPU test targets: $gpu_targets" | tee -a "$out/machine.txt"
step build 60 env PEAKNET_GPU_TARGETS="$targets $gpu_targets" "$root/scripts/gpu-build.sh" "$build"
grep -E "error|FAILED" "$out/build.log" | head -n 20

step e2e-cold 60 env E2E_SET="writerd.write_frames=false" E2E_PUSH_TIMEOUT=100 \
  "$root/bench/e2e/gpu_e2e.sh" "$build" cold 40 0
step e2e-warm 60 env E2E_SET="writerd.write_frames=false" E2E_PUSH_TIMEOUT=100 \
  "$root/bench/e2e/gpu_e2e.sh" "$build" warm 40 0
# inferd alone (producer -> Q1 -> InferdService -> Q2 -> consumer, no tcp, no ingestd, no writerd) against
# model-only in one process: with the e2e ratios it tells whether inferd or what feeds it holds the rate.
step inferd-streaming 45 "$build/bench/inferd/bench_inferd" --device cuda --model 33m --precision bf16 --cuda-graphs \
  --channels-last --fused --shapes 16x1x1920x1920 --iters 20
step gpu-tests-first 30 ctest --test-dir "$build" -L gpu -R "$first" --output-on-failure --timeout 120
# A test that crashed (ctest: "SEGFAULT"/"Child aborted"): once more under cuda-gdb (the only debugger
# there) for a backtrace of every thread; the daemons' logs stay in /tmp/pkt-* when a test process dies.
crashed=$(grep -oE '[0-9]+ - [A-Za-z0-9_.]+ \((SEGFAULT|Child aborted)\)' "$out/gpu-tests-first.log" | head -n 1 |
          awk '{print $3}')
if [ -n "$crashed" ] && command -v cuda-gdb >/dev/null; then
  exe=$(ctest --test-dir "$build" -R "^$crashed\$" --show-only=json-v1 |
        python3 -c 'import json,sys; t=json.load(sys.stdin)["tests"]; print(t[0]["command"][0] if t else "")')
  [ -n "$exe" ] && step backtrace 90 timeout 80 cuda-gdb -batch -ex "set pagination off" -ex run -ex bt \
    -ex "thread apply all bt 8" --args "$exe" --gtest_filter="$crashed"
  tail -n 40 /tmp/pkt-*/*.log >"$out/crashed-test-daemon-logs.txt" 2>&1
fi
step e2e-warm-frames 60 env E2E_PUSH_TIMEOUT=100 "$root/bench/e2e/gpu_e2e.sh" "$build" warm-frames 40 0
step writer 40 "$build/bench/writer/bench_writer" --size 1920 --events 64 --events-per-file 32 --levels 0,1 \
  --threads 1,8,16 --dir /dev/shm/bench-writer
rm -rf /dev/shm/bench-writer
step gpu-tests-rest 30 ctest --test-dir "$build" -L gpu -E "$first" --output-on-failure --timeout 120

{
  echo "== summary"
  grep -h "^e2e\[" "$out"/e2e-*/summary.txt 2>/dev/null || cat "$out"/e2e-*.log 2>/dev/null | grep -h "^e2e\["
  grep -h 'streaming/model-only' "$out/inferd-streaming.log" 2>/dev/null  # bench_inferd
  grep -E '^\|' "$out/writer.log" 2>/dev/null | head -n 20  # bench_writer's table rows
  grep -h -E "tests passed|tests failed|\(Failed\)|Not Run|Timeout" "$out"/gpu-tests-*.log 2>/dev/null | head -n 40
  echo "total $(($(date +%s) - start)) s of a $budget_s s budget"
} | tee -a "$out/summary.txt"
# The device returns at most 8 files: every log and e2e folder in one archive beside summary.txt.
tar czf /tmp/gpu-acceptance-logs.tgz -C "$out" --exclude=summary.txt --exclude=machine.txt . &&
  find "$out" -mindepth 1 -not -name summary.txt -not -name machine.txt -delete &&
  mv /tmp/gpu-acceptance-logs.tgz "$out/logs.tgz"
