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
#
# Environment:
#   FUZZ_EXECUTIONS=N        stop a target once it has run N inputs (SECONDS stays the upper
#                            bound); e.g. 10000000 for the 10 M executions per target.
#   FUZZ_TRACE_COMPARES=0    build without libFuzzer's comparison tracing (about 3 times the
#                            executions per second; less help with magic values, which the
#                            dictionaries and a grown corpus already give). Its own target
#                            directory, so the two builds do not rebuild each other.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(convert prepare to_fhir c14n verify bundle_signature bundle_json)
export FUZZ_SLOW_MS="${FUZZ_SLOW_MS:-100}"
executions="${FUZZ_EXECUTIONS:-0}"
flags=(-s none -a)
target_dir="${CARGO_TARGET_DIR:-$here/target}"
if [ "${FUZZ_TRACE_COMPARES:-1}" = 0 ]; then
  flags+=(--no-trace-compares)
  target_dir="$target_dir-no-trace-compares"
fi
CARGO_TARGET_DIR="$target_dir" cargo +nightly fuzz build "${flags[@]}" || exit 1
# Executions in a log so far: per libFuzzer run, its final statistics, or the last progress
# line of a run that was killed.
executed() {
  awk '/^INFO: Seed:/ {n += last; last = 0}
    /^#[0-9]+\t/ {last = substr($1, 2)} /stat::number_of_executed_units/ {last = $2}
    END {print n + last}' "$1"
}

mkdir -p logs
for t in "${targets[@]}"; do
  case "$t" in
    convert|prepare|bundle_json|bundle_signature) max_len=65536 ;;
    c14n) max_len=131072 ;;
    *) max_len=327680 ;;
  esac
  bin="$target_dir/x86_64-unknown-linux-gnu/release/$t"
  mkdir -p "artifacts/$t"
  echo "== $t: ${seconds}s, -max_len=$max_len, build flags ${flags[*]}, executions ${executions}" \
    | tee "logs/$t.log"
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
    runs=()
    if [ "$executions" -gt 0 ]; then
      done_so_far=$(executed "logs/$t.log")
      [ "$done_so_far" -ge "$executions" ] && break
      runs=(-runs=$((executions - done_so_far)))
    fi
    timeout -s KILL $((left + 60)) nice -n 5 "$bin" "corpus/$t" -artifact_prefix="artifacts/$t/" \
      -dict="corpus/$t.dict" -max_len=$max_len -timeout=10 -rss_limit_mb=1024 \
      -max_total_time=$left "${runs[@]}" -print_final_stats=1 >>"logs/$t.log" 2>&1
  done
  echo "$t: $(executed "logs/$t.log") executions in $((SECONDS - end + seconds)) s;" \
    "exec/s per run: $(awk '/stat::average_exec_per_sec/ {printf " %s", $2}' "logs/$t.log")"
  grep -E "^(==[0-9]+== ERROR|SUMMARY|slow input)" "logs/$t.log" | sort | uniq -c
done
