#!/usr/bin/env bash
# Regenerates the per-rule goldens: writes the inputs (make_cases.py), then asks the reference
# implementation (the oracle in ../shared/tools/eps-reference, pinned context) for its answer
# to each. The project's tests read only the files written here; they never run the oracle.
#
#   NAME.json                  the input
#   NAME.oracle.xml            the reference's convert output, or
#   NAME.oracle-refusal.json   its refusal (HTTP 4xx OperationOutcome), or
#   NAME.oracle-crash.json     its crash (HTTP 500): we refuse these with our own error
#   NAME.oracle-prepare.json   its $prepare Parameters, for prescription-orders it converts
#
# Usage, from the project root: golden/rules/regen.sh   (EPS_SHARED_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")"
shared="${EPS_SHARED_DIR:-../../../shared}"
oracle="$shared/tools/eps-reference/oracle.js"
[ -f "$oracle" ] || { echo "regen: no oracle at $oracle" >&2; exit 2; }

python3 make_cases.py
rm -f ./*.oracle.xml ./*.oracle-refusal.json ./*.oracle-crash.json ./*.oracle-prepare.json
for input in *.json; do
  case "$input" in *.*.json) continue ;; esac
  name="${input%.json}"
  status=0
  node "$oracle" convert "$input" > "$name.out" 2>/dev/null || status=$?
  case "$status" in
    0) mv "$name.out" "$name.oracle.xml" ;;
    1) mv "$name.out" "$name.oracle-refusal.json" ;;
    2) mv "$name.out" "$name.oracle-crash.json" ;;
    *) rm -f "$name.out"; echo "regen: oracle exit $status on $input" >&2; exit 1 ;;
  esac
  if [ "$status" = 0 ] && grep -q '"prescription-order"' "$input"; then
    node "$oracle" prepare "$input" > "$name.oracle-prepare.json"
  fi
  echo "$name: convert exit $status"
done
