#!/bin/bash
# SPDX-License-Identifier: MIT
# When the caller's stdout goes away (`bridle sandbox run -- yes | head -1`),
# the run ends, like any command in a pipeline, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

marker="yes-marker-$$-$RANDOM"
set +e
timeout 20 "$BRIDLE" sandbox run -- yes "$marker" 2>"$T/err" | head -n1 >"$T/out"
st=("${PIPESTATUS[@]}")
set -e
assert_eq "$(cat "$T/out")" "$marker" "the first line arrived"
[ "${st[0]}" != 124 ] || fail "the run went on after its stdout was closed (killed by timeout(1) after 20 s)"
ok "the run ended when its stdout closed (exit ${st[0]})"
gone() { ! pgrep -f "^yes $marker\$" >/dev/null; }
wait_until 10 gone || fail "yes outlived the run"
ok "nothing left behind"
say "all $_checks checks passed"
