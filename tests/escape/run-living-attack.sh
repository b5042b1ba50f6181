#!/bin/bash
# SPDX-License-Identifier: MIT
# run-living-attack.sh NAME ATTACK_EXE
#
# Runs one attack of the escape suite as a command of a living sandbox
# (`$BRIDLE sandbox create` + `exec`), the attack's directory bound read-only
# at /attacks, then does the host-side checks. For 90_zygote: the sandbox's
# zygote (the pre-walled process that forks every command) is killed from the
# host and exec must still work and bring a new one; a stopped zygote must
# not make exec hang. Exit: 0 pass, 1 fail, 77 skip, 99 error (as run-attack.sh).
set -u

name=${1:?usage: run-living-attack.sh NAME ATTACK_EXE}
exe=${2:?usage: run-living-attack.sh NAME ATTACK_EXE}
: "${BRIDLE:?BRIDLE is not set (run through meson test)}"
dir=$(cd "$(dirname "$exe")" && pwd)
base=$(basename "$exe")

export BRIDLE_HOME
BRIDLE_HOME=$(mktemp -d /tmp/bridle-escape-living.XXXXXX) || exit 99
id=""
stopped=""
cleanup() {
        [ -n "$stopped" ] && kill -CONT "$stopped" 2>/dev/null
        [ -n "$id" ] && "$BRIDLE" sandbox destroy "$id" >/dev/null 2>&1
        rm -rf "$BRIDLE_HOME"
}
trap cleanup EXIT

failed=0
fail() {
        echo "$name: HOST CHECK FAILED: $*"
        failed=1
}

id=$("$BRIDLE" sandbox create --ro "$dir:/attacks") || { echo "$name: sandbox create failed"; exit 99; }
init_pid=$(sed -n 's/^pid=//p' "$BRIDLE_HOME/sandboxes/$id/state")
[ -n "$init_pid" ] || { echo "$name: no init pid in the state file"; exit 99; }

# The zygote: init's child named bridle-zygote (started after READY).
zygote() {
        local i p
        for i in $(seq 1 100); do
                p=$(pgrep -P "$init_pid" -x bridle-zygote | head -n 1)
                [ -n "$p" ] && { echo "$p"; return 0; }
                sleep 0.02
        done
        return 1
}

timeout 60 "$BRIDLE" sandbox exec "$id" --timeout 30 -- "/attacks/$base"
rc=$?
case "$rc" in
0) ;;
77) exit 77 ;;
1) echo "$name: ATTACK SUCCEEDED (see the line above)"; exit 1 ;;
2) echo "$name: the attack failed, but not the specified way"; exit 1 ;;
*) echo "$name: unexpected exit $rc"; exit 1 ;;
esac

z=$(zygote) || { fail "no zygote after the attack"; exit 1; }

# Killed from outside: the next exec works and starts a new zygote.
kill -KILL "$z"
for i in $(seq 1 100); do [ -e "/proc/$z" ] || break; sleep 0.02; done
out=$(timeout 20 "$BRIDLE" sandbox exec "$id" -- /bin/sh -c 'echo alive')
rc=$?
[ "$rc" = 0 ] && [ "$out" = alive ] || fail "exec after the zygote was killed: exit $rc, output '$out'"
z2=$(zygote) || fail "no new zygote after the old one was killed"
[ -n "${z2:-}" ] && [ "$z2" = "$z" ] && fail "the zygote was not restarted (pid $z)"

# Stopped: exec does not hang (init gives up on it after a bounded wait).
if [ -n "${z2:-}" ]; then
        kill -STOP "$z2" && stopped=$z2
        start=$(date +%s)
        out=$(timeout 20 "$BRIDLE" sandbox exec "$id" -- /bin/sh -c 'echo alive')
        rc=$?
        [ "$rc" = 0 ] && [ "$out" = alive ] || fail "exec with the zygote stopped: exit $rc, output '$out'"
        [ $(( $(date +%s) - start )) -lt 15 ] || fail "exec with the zygote stopped took $(( $(date +%s) - start )) s"
        kill -CONT "$z2" 2>/dev/null
        stopped=""
        out=$(timeout 20 "$BRIDLE" sandbox exec "$id" -- /bin/sh -c 'echo again')
        [ "$out" = again ] || fail "exec after the stopped zygote: output '$out'"
        z3=$(zygote) || fail "no zygote after the stopped one"
        [ -n "${z3:-}" ] && [ "$z3" = "$z2" ] && fail "the stopped zygote is still in use (pid $z2)"
fi

# File operations (builtins) still run through it.
echo data | timeout 20 "$BRIDLE" sandbox write "$id" zygote-probe || fail "write after the restarts"
[ "$(timeout 20 "$BRIDLE" sandbox read "$id" zygote-probe)" = data ] || fail "read after the restarts"

[ "$failed" = 0 ] && echo "$name: ok: the zygote was restarted after SIGKILL, exec did not hang on a stopped one"
exit "$failed"
