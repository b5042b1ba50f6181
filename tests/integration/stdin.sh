#!/bin/bash
# SPDX-License-Identifier: MIT
# Piped stdin reaches the command; a terminal on stdin is never handed over.
. "$(dirname "$0")/lib.sh"

printf 'line one\nline two\n' >"$T/in"
run_in "$T/in" "$BRIDLE" sandbox run -- sh -c 'read a; read b; echo "[$a][$b]"'
assert_eq "$OUT" "[line one][line two]" "piped stdin reaches the command"

head -c 300000 /dev/urandom >"$T/big"
want=$(sha256sum <"$T/big" | cut -d' ' -f1)
run_in "$T/big" "$BRIDLE" sandbox run -- sh -c 'sha256sum | cut -d" " -f1'
assert_eq "$OUT" "$want" "300 kB of binary stdin arrive intact"

run_in /dev/null "$BRIDLE" sandbox run -- sh -c 'cat; echo end'
assert_eq "$OUT" "end" "stdin at EOF"

# a command that ignores stdin does not hang on an open pipe
exec {pfd}< <(exec sleep 60 2>/dev/null)
sleeper=$!
at_exit "kill $sleeper 2>/dev/null"
set +e
timeout 20 "$BRIDLE" sandbox run -- echo finished <&"$pfd" >"$T/o" 2>&1
RC=$?
set -e
exec {pfd}<&-
kill "$sleeper" 2>/dev/null || true
OUT=$(cat "$T/o")
assert_rc 0 "a command that ignores a never-ending stdin finishes"

# stdin is a pipe or /dev/null inside, never the caller's fd
run_in "$T/in" "$BRIDLE" sandbox run -- sh -c 'readlink /proc/self/fd/0'
assert_match "$OUT" "^pipe:" "stdin inside is a relay pipe"

# a terminal stdin is not passed
command -v script >/dev/null || skip "script(1) is not installed: cannot give the CLI a terminal"
set +e
timeout 30 script -qec "$BRIDLE sandbox run -- sh -c 'test -t 0 && echo IS-TTY; test -t 1 && echo OUT-TTY; readlink /proc/self/fd/0; echo ok-end'" /dev/null \
        >"$T/tty" 2>&1 </dev/null
RC=$?
set -e
OUT=$(tr -d '\r' <"$T/tty")
ERR=
assert_rc 0 "run under a terminal"
assert_contains "$OUT" "ok-end" "the command ran under script"
assert_not_contains "$OUT" "IS-TTY" "stdin inside is not a terminal"
assert_not_contains "$OUT" "OUT-TTY" "stdout inside is not the caller's terminal"
assert_not_contains "$OUT" "/dev/pts" "no pty reaches the sandbox"
assert_contains "$OUT" "/dev/null" "a terminal stdin becomes /dev/null"

say "all $_checks checks passed"
