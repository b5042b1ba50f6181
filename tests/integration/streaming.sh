#!/bin/bash
# SPDX-License-Identifier: MIT
# Without --json, output streams as it comes: the first line reaches the
# caller while the command is still running (it waits for a file that this
# script creates only after it has read that line).
. "$(dirname "$0")/lib.sh"

ws="$T/ws"
mkdir "$ws"
exec {fd}< <(exec "$BRIDLE" sandbox run --workspace "$ws" -- sh -c '
        echo first
        i=0
        while [ ! -e go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
        echo second
        echo to-stderr >&2' 2>"$T/err")
line=
IFS= read -r -t 20 line <&"$fd" || true
assert_eq "$line" "first" "the first line arrived before the command ended"
[ ! -e "$ws/go" ] || fail "go exists too early"
touch "$ws/go"
IFS= read -r -t 40 line <&"$fd" || true
assert_eq "$line" "second" "the second line followed"
exec {fd}<&-
wait_until 20 grep -q to-stderr "$T/err" || fail "stderr was not relayed: $(cat "$T/err")"
ok "stderr relayed to the caller's stderr"

# stdout and stderr stay separate streams
run "$BRIDLE" sandbox run -- sh -c 'echo O; echo E >&2'
assert_eq "$OUT" "O" "stdout on stdout"
assert_eq "$ERR" "E" "stderr on stderr"

# a large stream arrives whole and in order
run "$BRIDLE" sandbox run -- sh -c 'seq 1 200000'
assert_rc 0 "seq"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 200000 ] || fail "lost lines: $(printf '%s\n' "$OUT" | wc -l)"
[ "$(printf '%s\n' "$OUT" | tail -n1)" = 200000 ] || fail "wrong last line"
ok "200000 lines streamed whole"

say "all $_checks checks passed"
