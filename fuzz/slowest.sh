#!/usr/bin/env bash
# The slowest inputs of a target's corpus (and its regressions), each executed once by the
# fuzz build, slowest first:
#
#   fuzz/slowest.sh TARGET [N]      (default N: 5)
#
# A campaign keeps every input that reached new coverage, so this is a view of the cost of
# the shapes it found; an execution over the campaign's -timeout would have been a finding.
set -euo pipefail
# Uses the binary `fuzz/campaign.sh` built (same flags).
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
t="$1"
n="${2:-5}"
mapfile -t files < <(find "corpus/$t" "regressions/$t" -type f 2>/dev/null)
echo "$t: ${#files[@]} inputs"
bin="${CARGO_TARGET_DIR:-$here/target}/x86_64-unknown-linux-gnu/release/$t"
printf '%s\0' "${files[@]}" | xargs -0 -n 2000 "$bin" -runs=1 2>&1 \
  | sed -n 's/^Executed \(.*\) in \([0-9]*\) ms$/\2 \1/p' | sort -rn | head -n "$n"
