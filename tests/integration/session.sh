#!/bin/bash
# SPDX-License-Identifier: MIT
# Sessions through the CLI: exec-command and write-stdin (pipes and a pty),
# and `sandbox shell` driven through script(1): a prompt, typed commands, the
# window size, the shell's exit status, and the local terminal restored
# (also when bridle is killed by SIGTERM). Every wait is bounded by timeout(1).
. "$(dirname "$0")/lib.sh"

BRIDLE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/bridle-session.XXXXXX")
export BRIDLE_HOME
ID=
session_cleanup() {
        [ -z "$ID" ] || "$BRIDLE" sandbox destroy "$ID" >/dev/null 2>&1 || true
        rm -rf "$BRIDLE_HOME"
}
at_exit session_cleanup

sbx() { run timeout 60 "$BRIDLE" sandbox "$@"; }

sbx create
assert_rc 0 "create"
ID=$OUT

# --- exec-command + write-stdin with pipes
sbx exec-command "$ID" --yield 200 -- cat
assert_rc 0 "exec-command cat (still running)"
assert_match "$ERR" '^\[session [0-9]+ running\]$' "exec-command says the session's id"
S=$(sed -E 's/^\[session ([0-9]+) running\]$/\1/' <<<"$ERR")
sbx write-stdin "$ID" "$S" --yield 500 'hello\n'
assert_rc 0 "write-stdin"
assert_eq "$OUT" "hello" "cat echoes what was written"
sbx write-stdin "$ID" "$S" --kill
assert_rc 0 "write-stdin --kill"
sbx write-stdin "$ID" "$S" 'x'
assert_rc 1 "a killed session is gone"

# --- a command line in a pty, JSON, exit status
sbx exec-command "$ID" --tty --json --yield 30000 -- 'test -t 0 && echo tty-$((2+3)); exit 4'
assert_rc 4 "exec-command exit status"
assert_contains "$OUT" '"output":"tty-5\r\n"' "the command saw a terminal"
assert_contains "$OUT" '"exited":true' "exited"

# --- shell: refuses without a terminal
sbx shell "$ID"
assert_rc 2 "shell without a terminal"
assert_contains "$ERR" "not a terminal" "shell says why"

# --- shell through script(1)
command -v script >/dev/null || skip "script(1) is not installed"
W="$T/w"
mkdir -p "$W"
printf 'echo INSIDE-$((40+2)); stty size; exit 7\n' >"$W/in"
set +e
timeout 60 script -qec "stty rows 40 cols 120; stty -g >'$W/before'; \
        '$BRIDLE' sandbox shell '$ID' -- /bin/bash --norc --noprofile -i; echo \$? >'$W/rc'; \
        stty -g >'$W/after'" /dev/null \
        < <({ sleep 1; cat "$W/in"; sleep 5; } 2>/dev/null) >"$W/out" 2>&1
set -e
OUT=$(tr -d '\r' <"$W/out")
RC=$(cat "$W/rc" 2>/dev/null || echo none)
assert_rc 7 "shell: the shell's exit status"
assert_contains "$OUT" "INSIDE-42" "shell: typed commands run"
assert_contains "$OUT" "40 120" "shell: the window size is the local one"
assert_eq "$(cat "$W/after")" "$(cat "$W/before")" "shell: the terminal is restored"

# --- shell killed by SIGTERM: the terminal is restored too
set +e
timeout 60 script -qec "stty -g >'$W/before2'; \
        '$BRIDLE' sandbox shell '$ID' -- sleep 1000 </dev/tty & p=\$!; sleep 2; kill -TERM \$p; wait \$p; \
        echo \$? >'$W/rc2'; stty -g >'$W/after2'" /dev/null </dev/null >"$W/out2" 2>&1
set -e
RC=$(cat "$W/rc2" 2>/dev/null || echo none)
assert_rc 143 "shell: SIGTERM ends it"
assert_eq "$(cat "$W/after2")" "$(cat "$W/before2")" "shell: the terminal is restored after SIGTERM"

for c in shell exec-command write-stdin; do
        sbx "$c" --help
        assert_rc 0 "$c --help"
        assert_contains "$OUT" "usage: bridle sandbox $c" "$c --help shows its usage"
done

say "all $_checks checks passed"
