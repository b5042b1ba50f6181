#!/usr/bin/env bash
# The 23 apply_patch scenarios copied from openai/codex, run against `bridle patch`
# with the patch as one argument and on stdin (owner: patch).
set -u
: "${BRIDLE:?BRIDLE is not set}" "${BRIDLE_SRCDIR:?BRIDLE_SRCDIR is not set}"
COMPAT="$BRIDLE_SRCDIR/../shared/compat/apply_patch"
if [ ! -x "$COMPAT/run_scenarios.sh" ] && [ ! -f "$COMPAT/run_scenarios.sh" ]; then
  echo "skip: no compat scenarios at $COMPAT (run_scenarios.sh missing)"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# run_scenarios.sh runs the tool with ONE argument (or none, for stdin).
printf '#!/bin/sh\nexec "%s" patch "$@"\n' "$BRIDLE" > "$tmp/apply_patch"
chmod +x "$tmp/apply_patch"
rc=0
for mode in argv stdin; do
  echo "== mode $mode"
  out=$(bash "$COMPAT/run_scenarios.sh" "$tmp/apply_patch" "$mode" 2>&1); r=$?
  echo "$out"
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [ "$r" -ne 0 ] || [ "$last" != "passed=23 failed=0" ]; then
    echo "FAIL: mode $mode: $last"
    rc=1
  fi
done
exit $rc
