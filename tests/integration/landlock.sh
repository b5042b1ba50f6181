#!/bin/bash
# SPDX-License-Identifier: MIT
# --isolation landlock: runs without namespaces, says plainly what it does not
# protect, cannot read /etc/shadow nor write outside its workspace.
. "$(dirname "$0")/lib.sh"

if [ -r /sys/kernel/security/lsm ] && ! grep -q landlock /sys/kernel/security/lsm; then
        skip "Landlock is not enabled in this kernel ($(cat /sys/kernel/security/lsm))"
fi
ws="$T/ws"
mkdir "$ws"
sb --isolation landlock -- sh -c 'echo hello'
if [ $RC = 125 ] && [[ $ERR == *andlock* ]] && [[ $ERR == *upport* ]]; then
        skip "Landlock is not available: $ERR"
fi
assert_rc 0 "--isolation landlock runs"
assert_eq "$OUT" "hello" "output"
assert_match "$ERR" "[Ll]andlock" "the warning names the mode"
assert_match "$ERR" "no namespaces" "the warning says there are no namespaces"
assert_match "$ERR" "host's processes|network" "the warning says what is not protected"

sb --isolation landlock --json -- true
json_check 'any("landlock" in w for w in j["warnings"])' "the warning is in --json too"

sb --isolation landlock -- sh -c 'exit 7'
assert_rc 7 "exit status passes through"
sb --isolation landlock -- no-such-command-bridle-test
assert_rc 127 "127 in landlock mode"
sb --isolation landlock --timeout 1 -- sh -c 'sleep 30 & sleep 30'
assert_rc 124 "timeout in landlock mode"

if [ -e /etc/shadow ]; then
        sb --isolation landlock -- cat /etc/shadow
        [ $RC != 0 ] || fail "read /etc/shadow in landlock mode"
        assert_contains "$ERR" "Permission denied" "/etc/shadow is unreadable"
fi

marker="landlock-escape-$$-$RANDOM"
sb --isolation landlock --workspace "$ws" --env "M=$marker" -- sh -c '
        for d in /tmp /var/tmp /root /etc "$HOME/.." /dev/shm; do
                echo x > "$d/$M" 2>/dev/null && echo "WROTE $d"
        done
        echo inside > "$M.ok"; pwd'
assert_rc 0 "landlock write attempts"
assert_not_contains "$OUT" "WROTE" "no write outside the workspace"
for d in /tmp /var/tmp /root /etc /dev/shm "$(dirname "$ws")"; do
        [ ! -e "$d/$marker" ] || {
                rm -f "$d/$marker"
                fail "landlock mode wrote $d/$marker on the host"
        }
done
ok "nothing appeared on the host outside the workspace"
assert_eq "$(cat "$ws/$marker.ok")" "inside" "writes inside the workspace land"
assert_eq "$(printf '%s\n' "$OUT" | tail -n1)" "$ws" "cwd is the workspace"

sb --isolation landlock -- env
assert_not_contains "$OUT" "SECRET" "environment is not inherited"
SECRET_TOKEN=leak run "$BRIDLE" sandbox run --isolation landlock -- env
assert_not_contains "$OUT" "SECRET_TOKEN" "a caller's secret is not inherited"

# TCP is denied in landlock mode (the warning says so)
if [ -n "$PY" ]; then
        sb --isolation landlock -- python3 -c '
import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 0)); s.listen(1); print("LISTEN")
except OSError as e:
    print("denied", e.errno)'
        assert_not_contains "$OUT" "LISTEN" "TCP listen is denied"
fi

say "all $_checks checks passed"
