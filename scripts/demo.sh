#!/usr/bin/env bash
# Runs the whole suite once on configs/default.json (extended as the daemons land).
set -euo pipefail
build_dir="$1"; shift || true
echo "demo: nothing to run yet (daemons land in later steps)"
