#!/usr/bin/env bash
# Runs a fuzz campaign: each target in turn (one core), for SECONDS each.
#
#   fuzz/campaign.sh [SECONDS] [TARGET...]     (defaults: 600 s; every target)
#
# Seed first (fuzz/seed.sh). Per target it replays the committed regressions, then fuzzes
# fuzz/corpus/<target> with its dictionary. A finding is a panic (crash), an execution over
# 100 ms three times running (FUZZ_SLOW_MS, checked in fuzz/src/lib.rs), one over 1 GB
# resident (-rss_limit_mb), or a hang (-timeout=10). The timeout is a backstop, not the
# slowness check: without a sanitizer, libFuzzer's timeout handler can deadlock in malloc
# (its alarm interrupts an allocation), so each run is also killed 60 s after its time is
# up. Findings land in fuzz/artifacts/<target>/; logs and the final statistics in
# fuzz/logs/<target>.log.
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
  bin="${CARGO_TARGET_DIR:-$here/target}/x86_64-unknown-linux-gnu/release/$t"
  mkdir -p "artifacts/$t"
  echo "== $t: ${seconds}s, -max_len=$max_len" | tee "logs/$t.log"
  # The committed regressions, for crashes only: some known cost reproducers are refused
  # after more than 100 ms in this instrumented build (tests/fuzz_replay.rs checks that
  # each is answered as it should be).
  if [ -d "regressions/$t" ]; then
    env -u FUZZ_SLOW_MS "$bin" -runs=1 regressions/$t/* 2>&1 \
      | grep -E "Executed|panicked|ERROR" >>"logs/$t.log"
  fi
  # A finding stops libFuzzer: start it again (the corpus keeps what it learnt) until the
  # target's time is spent.
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $((end - 5)) ]; do
    left=$((end - SECONDS))
    timeout -s KILL $((left + 60)) nice -n 5 "$bin" "corpus/$t" -artifact_prefix="artifacts/$t/" \
      -dict="corpus/$t.dict" -max_len=$max_len -timeout=10 -rss_limit_mb=1024 \
      -max_total_time=$left -print_final_stats=1 >>"logs/$t.log" 2>&1
  done
  # Executions per run: the final statistics, or the last progress line of a run that was
  # killed.
  awk -v t="$t" '/^INFO: Seed:/ {n += last; last = 0; runs++}
    /^#[0-9]+\t/ {last = substr($1, 2)} /stat::number_of_executed_units/ {last = $2}
    /stat::average_exec_per_sec/ {r = r " " $2}
    END {n += last; print t ": " n " executions in " runs " runs; exec/s per run:" r}' "logs/$t.log"
  grep -E "^(==[0-9]+== ERROR|SUMMARY|slow input)" "logs/$t.log" | sort | uniq -c
done
