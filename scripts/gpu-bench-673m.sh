#!/usr/bin/env bash
# Run THERE (the lent GPU machine), from the repo root, with .gpu-deps, .gpu-golden and .upstream carried (issue 17):
#   scripts/gpu-bench-673m.sh [build-dir]
# PEAKNET_BENCH_BUILD=1 first runs scripts/gpu-build.sh for just the targets below (incremental on a warm machine);
# its time counts in the budget (PEAKNET_BENCH_BUDGET_S, default 540 s: one run call of at most 600 s).
# 1. the GPU tests of the 673M work (fused kernels at 673M shapes, 673M fused vs unfused, fp8);
# 2. model-only numbers, one run: PeakNet-673M bf16 4x1x1920^2 fused + CUDA graphs (+ its op budget), unfused,
#    fp8 vs bf16 (speed and agreement on synthetic Bragg frames); 33M 16x1x1920^2 fused + graphs and fp8;
# 3. the upstream baselines from the upstream code (.upstream/, an ignored copy: scripts/peaknet_upstream_baseline.py),
#    eager and torch.compile, for both, torch.compile capped in time;
# then a table. Full logs under $OUT (or ./out-gpu-bench-673m). Bounded to ~8 minutes: small iteration counts and
# a deadline; steps that would start past it are skipped (and say so).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-gpu}"
out="${OUT:-$root/out-gpu-bench-673m}"
budget_s="${PEAKNET_BENCH_BUDGET_S:-540}"
upstream="${PEAKNET_UPSTREAM_DIR:-$root/.upstream}"
mkdir -p "$out"
start=$(date +%s)
bench="$build/bench/model_forward/bench_model_forward"
lib="${PEAKNET_GPU_PREFIX:-/tmp/peaknet-prefix}/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
summary="$out/summary.txt"
: > "$summary"

left() { echo $((budget_s - ($(date +%s) - start))); }
# step NAME SECONDS_CAP CMD...: runs CMD with a time cap (at most what is left), log in $out/NAME.log.
step() {
  local name=$1 cap=$2
  shift 2
  local rem
  rem=$(left)
  if ((rem < 20)); then
    echo "SKIPPED $name (budget spent)" | tee -a "$summary"
    return 0
  fi
  ((cap > rem)) && cap=$rem
  echo "=== $name (cap ${cap}s, $(left)s of the budget left): $*" | tee -a "$out/commands.txt"
  local t0=$(date +%s)
  timeout --signal=INT --kill-after=10 "$cap" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  echo "--- $name: rc=$rc in $(($(date +%s) - t0))s" | tee -a "$out/commands.txt"
  ((rc == 124)) && echo "TIMEOUT $name after ${cap}s" >> "$summary"
  tail -n 25 "$out/$name.log"
  return 0
}

targets="bench_model_forward test_fused_ops test_fused_grn test_fused_model test_fp8_gemm test_model_gpu"
if [[ "${PEAKNET_BENCH_BUILD:-0}" == 1 ]]; then
  PEAKNET_GPU_TARGETS="$targets" "$root/scripts/gpu-build.sh" "$build" > "$out/build.log" 2>&1
  echo "build: rc=$? in $(($(date +%s) - start)) s (log build.log)" | tee -a "$summary"
  grep -E "error|FAILED" "$out/build.log" | head -n 20
fi
[[ -x $bench ]] || { echo "gpu-bench-673m: $bench missing (build: PEAKNET_BENCH_BUILD=1)" | tee -a "$summary"; exit 2; }

nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
git -C "$root" log --oneline -1 > "$out/commit.txt" 2>/dev/null

# 1. GPU tests: the fused kernels and the fp8 path (incl. 673M shapes), the model-level fused vs unfused checks,
# and the fp32 / bf16 golden parity of the unfused path (test_model_gpu).
step gpu-tests 150 ctest --test-dir "$build" -R "test_fused_ops|test_fused_grn|test_fp8_gemm|test_fused_model|test_model_gpu" \
  --output-on-failure --timeout 140

G="--height 1920 --width 1920 --channels-last --warmup 2"
# 2. this engine, then 3. upstream (the upstream code; random weights, bf16 autocast, cudnn.benchmark), most
# wanted first: the 673M numbers and its torch.compile denominator, then the 33M.
U="$root/scripts/peaknet_upstream_baseline.py --upstream $upstream --height 1920 --width 1920 --warmup 1 --iters 3 --repeats 2"
step 673m-fused-graph 90 "$bench" --config 673m --batch 4 $G --fused --iters 4 --repeats 2 --cuda-graph --compare fp8
step 673m-fused-profile 60 "$bench" --config 673m --batch 4 $G --fused --iters 2 --repeats 1 --profile --profile-iters 2
step 673m-unfused 60 "$bench" --config 673m --batch 4 $G --iters 2 --repeats 2 --cuda-graph
step upstream-673m-eager 60 python3 $U --config 673m --batch 4
step upstream-673m-compile 200 python3 $U --config 673m --batch 4 --compile default
step 33m-fused-graph 60 "$bench" --config 33m --batch 16 $G --fused --iters 4 --repeats 2 --cuda-graph --compare fp8
step upstream-33m-eager 45 python3 $U --config 33m --batch 16
step upstream-33m-compile 120 python3 $U --config 33m --batch 16 --compile default

# Table.
fps() { sed -n 's/.* \([0-9.]*\) frames\/s (median.*/\1/p' "$out/$1.log" | head -n1; }
tfl() { sed -n 's/.*: \([0-9.]*\) TFLOP\/s achieved.*/\1/p' "$out/$1.log" | head -n1; }
peak() { sed -n 's/.*TFLOP\/s achieved, \([0-9.]*\) % of.*/\1/p' "$out/$1.log" | head -n1; }
mem() { sed -n 's/.*peak allocated \([0-9.]*\) GiB.*/\1/p' "$out/$1.log" | head -n1; }
cmp_line() { grep -h "^compare: fp8:" "$out/$1.log" | head -n1; }
agree_line() { grep -h "^compare: fp8 vs" "$out/$1.log" | head -n1; }
ufps() { sed -n 's/.*frames\/s=\([0-9.]*\).*/\1/p' "$out/$1.log" | head -n1; }
ufirst() { sed -n 's/.*first_call_s=\([0-9.]*\).*/\1/p' "$out/$1.log" | head -n1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "-" }'; }
{
  echo
  echo "== issue 17 summary ($(cat "$out/gpu.txt" | tail -n1); commit $(cat "$out/commit.txt" 2>/dev/null))"
  grep -h -E "^\[  (PASSED|FAILED) |tests passed|tests failed|FAILED" "$out/gpu-tests.log" 2>/dev/null | tail -n 8
  f673=$(fps 673m-fused-graph); u673=$(fps 673m-unfused); f33=$(fps 33m-fused-graph)
  e673=$(ufps upstream-673m-eager); c673=$(ufps upstream-673m-compile)
  e33=$(ufps upstream-33m-eager); c33=$(ufps upstream-33m-compile)
  printf "%-34s %10s %10s %10s %12s %12s\n" "model, input" "frames/s" "TFLOP/s" "% peak" "vs eager" "vs compile"
  printf "%-34s %10s %10s %10s %12s %12s\n" "673M 4x1920^2 fused+graph bf16" "${f673:--}" "$(tfl 673m-fused-graph)" \
    "$(peak 673m-fused-graph)" "$(ratio "$f673" "$e673")" "$(ratio "$f673" "$c673")"
  printf "%-34s %10s %10s %10s %12s %12s\n" "673M 4x1920^2 unfused+graph bf16" "${u673:--}" "$(tfl 673m-unfused)" \
    "$(peak 673m-unfused)" "$(ratio "$u673" "$e673")" "$(ratio "$u673" "$c673")"
  printf "%-34s %10s\n" "673M upstream eager" "${e673:--}"
  printf "%-34s %10s   (first call incl. compile %ss)\n" "673M upstream torch.compile" "${c673:--}" "$(ufirst upstream-673m-compile)"
  printf "%-34s %10s %10s %10s %12s %12s\n" "33M 16x1920^2 fused+graph bf16" "${f33:--}" "$(tfl 33m-fused-graph)" \
    "$(peak 33m-fused-graph)" "$(ratio "$f33" "$e33")" "$(ratio "$f33" "$c33")"
  printf "%-34s %10s\n" "33M upstream eager" "${e33:--}"
  printf "%-34s %10s   (first call incl. compile %ss)\n" "33M upstream torch.compile" "${c33:--}" "$(ufirst upstream-33m-compile)"
  echo "GPU memory (peak allocated, GiB): 673M fused $(mem 673m-fused-graph), 673M unfused $(mem 673m-unfused), 33M $(mem 33m-fused-graph)"
  echo "673M $(cmp_line 673m-fused-graph)"
  echo "673M $(agree_line 673m-fused-graph)"
  echo "33M $(cmp_line 33m-fused-graph)"
  echo "33M $(agree_line 33m-fused-graph)"
  echo "673M op budget (top 12):"
  sed -n '/op time budget/,/un-profiled forward/p' "$out/673m-fused-profile.log" 2>/dev/null | head -n 16
  echo "total $(($(date +%s) - start)) s of a ${budget_s} s budget"
} | tee -a "$summary"
