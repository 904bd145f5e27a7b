#!/usr/bin/env bash
# Runs a fuzz campaign: each target in turn (one core), for SECONDS each.
#
#   fuzz/campaign.sh [SECONDS] [TARGET...]     (defaults: 600 s; every target)
#
# Seed first (fuzz/seed.sh). Per target it replays the committed regressions, then fuzzes
# fuzz/corpus/<target> with its dictionary. A finding is a panic (crash), an execution over
# 1 s (-timeout), over 1 GB resident (-rss_limit_mb), or one over 100 ms three times running
# (FUZZ_SLOW_MS, checked in fuzz/src/lib.rs). Findings land in fuzz/artifacts/<target>/;
# logs and the final statistics in fuzz/logs/<target>.log.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(convert prepare to_fhir c14n verify bundle_signature bundle_json)
export FUZZ_SLOW_MS="${FUZZ_SLOW_MS:-100}"
flags=(-s none -a)
cargo +nightly fuzz build "${flags[@]}" || exit 1
mkdir -p logs
for t in "${targets[@]}"; do
  case "$t" in
    convert|prepare|bundle_json|bundle_signature) max_len=65536 ;;
    c14n) max_len=131072 ;;
    *) max_len=327680 ;;
  esac
  echo "== $t: ${seconds}s, -max_len=$max_len" | tee "logs/$t.log"
  if [ -d "regressions/$t" ]; then
    cargo +nightly fuzz run "${flags[@]}" "$t" regressions/$t/* -- -runs=1 2>&1 \
      | grep -E "Executed|panicked|ERROR" >>"logs/$t.log"
  fi
  nice -n 5 cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" -- \
    -dict="corpus/$t.dict" -max_len=$max_len -timeout=1 -rss_limit_mb=1024 \
    -max_total_time="$seconds" -print_final_stats=1 >>"logs/$t.log" 2>&1
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|ERROR|SUMMARY" "logs/$t.log" | tail -6
done
