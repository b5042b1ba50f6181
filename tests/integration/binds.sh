#!/bin/bash
# SPDX-License-Identifier: MIT
# --ro is read-only and locked (no remount rw, no umount); --rw is writable;
# HOST without :PATH binds at the same path.
. "$(dirname "$0")/lib.sh"

src="$T/src"
mkdir -p "$src/dir"
echo ro-content >"$src/file"
chmod -R a+rX "$src"

sb --ro "$src:/data" -- cat /data/file
assert_rc 0 "--ro is readable"
assert_eq "$OUT" "ro-content" "--ro shows the host's file"

sb --ro "$src:/data" -- sh -c 'echo x > /data/new'
[ $RC != 0 ] || fail "writing a new file into --ro succeeded"
assert_match "$ERR" "Read-only|Permission denied" "writing into --ro is refused"
[ ! -e "$src/new" ] || fail "a file appeared on the host through --ro"
ok "nothing written on the host through --ro"
sb --ro "$src:/data" -- sh -c 'echo x >> /data/file'
[ $RC != 0 ] || fail "appending to a --ro file succeeded"
assert_eq "$(cat "$src/file")" "ro-content" "the --ro host file is unchanged"

# locked: no remount rw, no umount (the sandbox's root has no mount rights;
# try both the command and a python mount(2) with MS_REMOUNT)
sb --ro "$src:/data" -- sh -c 'mount -o remount,rw /data 2>&1; mount -o remount,bind,rw /data 2>&1; umount /data 2>&1; umount -l /data 2>&1; touch /data/after 2>&1; cat /data/file'
assert_eq "$(printf '%s\n' "$OUT" | tail -n1)" "ro-content" "/data is still mounted after umount attempts"
[ ! -e "$src/after" ] || fail "remount rw of --ro succeeded: a file was written on the host"
ok "--ro could not be remounted read-write"
if [ -n "$PY" ]; then
        sb --ro "$src:/data" -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
MS_REMOUNT, MS_BIND = 32, 4096
r = libc.mount(None, b"/data", None, MS_REMOUNT | MS_BIND, None)
print("remount", r, os.strerror(ctypes.get_errno()))
r = libc.umount2(b"/data", 2)
print("umount", r, os.strerror(ctypes.get_errno()))
print(open("/data/file").read().strip())
with open("/proc/self/mountinfo") as f:
    print([l.split()[5] for l in f if l.split()[4] == "/data"])'
        assert_contains "$OUT" "remount -1" "mount(MS_REMOUNT) fails"
        assert_contains "$OUT" "umount -1" "umount2(MNT_DETACH) fails"
        assert_match "$OUT" "\['ro[,']" "/data is still mounted read-only"
fi

# --rw: writable, the write lands on the host
sb --rw "$src:/data" -- sh -c 'echo rw > /data/dir/new; cat /data/file'
assert_rc 0 "--rw is writable"
assert_eq "$(cat "$src/dir/new")" "rw" "the --rw write landed on the host"
assert_eq "$(stat -c %u "$src/dir/new")" "$(id -u)" "the --rw write is owned by the caller"

# HOST without :PATH binds at the same path
sb --ro "$src" -- cat "$src/file"
assert_eq "$OUT" "ro-content" "--ro HOST binds at the same path"
sb --rw "$src" -- sh -c "echo same > '$src/same'"
assert_rc 0 "--rw HOST at the same path"
assert_eq "$(cat "$src/same")" "same" "--rw HOST writes land on the host"

# several binds, and a relative host path
other="$T/other"
mkdir "$other"
echo o >"$other/o"
chmod -R a+rX "$other"
run sh -c "cd '$T' && '$BRIDLE' sandbox run --ro src:/a --rw other:/b -- sh -c 'cat /a/file /b/o; echo b > /b/w'"
assert_rc 0 "relative host paths"
assert_eq "$OUT" $'ro-content\no' "both binds visible"
assert_eq "$(cat "$other/w")" "b" "the second bind is writable"

# a bind is not the whole host: / of the sandbox has no host /root or /home
sb --ro "$src:/data" -- sh -c 'ls /root /home 2>&1; test -e /etc/shadow && echo shadow'
assert_not_contains "$OUT" "shadow" "no /etc/shadow inside"

say "all $_checks checks passed"
