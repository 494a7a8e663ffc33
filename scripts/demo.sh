#!/usr/bin/env bash
# Runs the whole suite once on configs/default.json: ingestd's synthetic source sends a finite stream,
# inferd (CPU here, one per GPU on a GPU machine) finds peaks with a demo-size PeakNet, writerd writes
# CXI files; `peakctl run` prints the stats and the ledger and exits 0 only when the ledger balances.
#   scripts/demo.sh BUILD_DIR [EVENTS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build_dir="${1:?usage: demo.sh BUILD_DIR [EVENTS]}"
events="${2:-200}"
peakctl="$build_dir/ctl/peakctl"
[ -x "$peakctl" ] || { echo "demo: $peakctl not built (scripts/peaknet build)" >&2; exit 1; }

out="$(mktemp -d "${TMPDIR:-/tmp}/peaknet-demo.XXXXXX")"
run_dir="$out/run"
echo "demo: NOTE the model has RANDOM weights (inferd.model.random_init): the peaks are not physics,"
echo "demo: the run shows the pipeline, its counters and the ledger. Output: $out/cxi"
set -x
"$peakctl" run --config "$root/configs/default.json" --events "$events" \
  --set writerd.output_dir="$out/cxi" --set run.run_dir="$run_dir" \
  --set run.name="demo$$" --set ingestd.synthetic.shape='[1,256,256]'
set +x
echo "demo: CXI files:"
ls -l "$out/cxi" 2>/dev/null || true
