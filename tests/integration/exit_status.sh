#!/bin/bash
# SPDX-License-Identifier: MIT
# The exit-status contract of `bridle sandbox run`: the command's own code,
# 128+N on signal N, 124 timeout (and the whole tree dies), 125 no sandbox,
# 126 not executable, 127 not found, 2 usage errors.
. "$(dirname "$0")/lib.sh"

# --- the command's own status
sb -- true
assert_rc 0 "true"
sb -- sh -c 'exit 3'
assert_rc 3 "own exit code 3"
sb -- sh -c 'exit 255'
assert_rc 255 "own exit code 255"

# --- signals: 128+N
sb -- sh -c 'kill -TERM $$'
assert_rc 143 "SIGTERM gives 128+15"
sb -- sh -c 'kill -KILL $$'
assert_rc 137 "SIGKILL gives 128+9"
sb -- sh -c 'kill -SEGV $$'
assert_rc 139 "SIGSEGV gives 128+11"

# --- 126 / 127
sb -- /etc/passwd
assert_rc 126 "a file that is not executable"
assert_contains "$ERR" "/etc/passwd" "126 names the command"
sb -- /usr
assert_rc 126 "a directory as command"
sb -- no-such-command-bridle-test
assert_rc 127 "a command not in PATH"
assert_contains "$ERR" "no-such-command-bridle-test" "127 names the command"
sb -- /no/such/path
assert_rc 127 "an absolute path that does not exist"

# --- 125: the sandbox cannot be made
sb --workspace "$T/does-not-exist" -- true
assert_rc 125 "--workspace that does not exist"
assert_contains "$ERR" "does-not-exist" "125 message names the workspace"
sb --ro "$T/nope-ro" -- true
assert_rc 125 "--ro with a missing source"
assert_contains "$ERR" "nope-ro" "125 message names the bind source"
sb --rw "$T/nope-rw:/x" -- true
assert_rc 125 "--rw with a missing source"
printf 'version: 1\nentries: 7\n' >"$T/bad.yaml"
sb --manifest "$T/bad.yaml" -- true
assert_rc 125 "a manifest error"
sb --manifest "$T/no-such-manifest.yaml" -- true
assert_rc 125 "a missing manifest"
sb --workspace "$T/does-not-exist" -- sh -c "touch $T/never"
[ ! -e "$T/never" ] || fail "the command ran although the sandbox could not be made"
ok "nothing runs on 125"

# --- usage errors: 2
sb --no-such-option -- true
assert_rc 2 "unknown option"
sb
assert_rc 2 "no command"
sb --json
assert_rc 2 "options but no command"
sb --net wifi -- true
assert_rc 2 "bad --net"
sb --timeout soon -- true
assert_rc 2 "bad --timeout"
sb --memory lots -- true
assert_rc 2 "bad --memory"
sb --pids -3 -- true
assert_rc 2 "bad --pids"
sb --cpu 1.5x -- true
assert_rc 2 "bad --cpu"
sb --env NOEQUALS -- true
assert_rc 2 "--env without ="
sb --env 1BAD=x -- true
assert_rc 2 "--env with a bad name"
sb --isolation vm -- true
assert_rc 2 "bad --isolation"
sb --cwd ../up -- true
assert_rc 2 "--cwd with .."
run "$BRIDLE" sandbox frobnicate
assert_rc 2 "unknown sandbox subcommand"
sb --help
assert_rc 0 "--help"
assert_contains "$OUT" "--max-output" "--help lists the options"

# --- 124: timeout kills the whole tree
marker="7$RANDOM$$"
set +e
"$BRIDLE" sandbox run --timeout 2 -- sh -c "trap '' TERM HUP INT; sleep $marker & sleep $marker; echo not-reached" \
        >"$T/to.out" 2>"$T/to.err" </dev/null &
bg=$!
set -e
at_exit "kill $bg 2>/dev/null"
two_sleeps() { [ "$(pgrep -fc "^sleep $marker$")" -ge 2 ]; }
if ! wait_until 20 two_sleeps; then
        wait $bg || true
        fail "the background sleep never showed up on the host (pgrep -f '^sleep MARKER$')"
fi
ok "both sandboxed sleeps are visible on the host while they run"
set +e
wait $bg
RC=$?
set -e
OUT=$(cat "$T/to.out")
ERR=$(cat "$T/to.err")
assert_rc 124 "timeout"
assert_not_contains "$OUT" "not-reached" "the command did not finish"
assert_contains "$ERR" "timed out" "timeout is reported on stderr"
marker_gone() { ! pgrep -f "^sleep $marker$" >/dev/null; }
if ! wait_until 10 marker_gone; then
        pgrep -af "^sleep $marker$" >&2 || true
        fail "a process of the timed-out sandbox outlived it"
fi
ok "no process of the timed-out tree survives"

say "all $_checks checks passed"
