#!/bin/bash
# SPDX-License-Identifier: MIT
# --memory, --pids, --cpu and --disk hold: a memory bomb dies, a fork bomb is
# contained, a disk fill hits EFBIG/ENOSPC, a cpu loop is killed.
. "$(dirname "$0")/lib.sh"
need_python
sb -- python3 -c 'print(1)'
[ $RC = 0 ] || skip "python3 does not run inside the sandbox: $ERR"

# --- memory: 512 MiB touched under a 64 MiB cap
sb --json --timeout 60 --memory 64M -- python3 -c 'b = b"x" * (512 << 20); print("ALIVE", len(b))'
[ $RC != 0 ] || fail "the memory bomb survived: $OUT"
assert_not_contains "$OUT" "ALIVE" "the memory bomb did not finish"
json_check 'j["timed_out"] is False' "the memory bomb was stopped by the limit, not the timeout"
json_check 'j["max_rss_kb"] < 200 * 1024' "peak memory stayed well under the bomb's size"
if [ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ]; then
        json_check 'j["signal"] == 9 and j["warnings"] == []' "root with memory cgroup v1: OOM-killed (SIGKILL), no fallback warning"
fi
sb --timeout 60 --memory 64M -- python3 -c 'b = b"x" * (16 << 20); print("SMALL-OK")'
assert_eq "$OUT" "SMALL-OK" "16 MiB under a 64 MiB cap is fine"

# --- pids: a fork loop gets no more than the cap
cat >"$T/forks.py" <<'PY'
import os, time
kids = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids += 1
print("KIDS", kids, flush=True)
os._exit(0)
PY
chmod 644 "$T/forks.py"
sb --json --timeout 60 --pids 16 --ro "$T:/t" -- python3 /t/forks.py
assert_rc 0 "fork loop under --pids 16"
kids=$(json_get stdout | sed -n 's/^KIDS //p')
[ -n "$kids" ] && [ "$kids" -gt 0 ] && [ "$kids" -lt 16 ] || fail "fork loop made '$kids' children under --pids 16"
ok "fork loop contained: $kids children under --pids 16"
json_check 'j["wall_ms"] < 30000' "the sleeping children did not outlive the command (pid namespace torn down)"
sb --timeout 60 --pids 16 -- sh -c ':(){ :|:& };: ; sleep 1; echo SURVIVED'
[ $RC != 124 ] || fail "a fork bomb under --pids 16 ran into the timeout"
ok "a shell fork bomb under --pids 16 ends (exit $RC)"

# --- disk: /tmp is capped and single files are capped (RLIMIT_FSIZE)
sb --disk 8M -- sh -c 'yes > /tmp/f; echo "yes=$?"; stat -c %s /tmp/f'
assert_rc 0 "disk fill with yes"
size=$(printf '%s\n' "$OUT" | tail -n1)
ys=$(printf '%s\n' "$OUT" | sed -n 's/^yes=//p')
[ "$ys" != 0 ] || fail "yes > /tmp/f succeeded under --disk 8M"
[ "$size" -le $((8 << 20)) ] || fail "/tmp/f grew to $size under --disk 8M"
ok "yes > /tmp/f stopped (status $ys) at $size bytes"
sb --disk 8M -- sh -c 'head -c 5M /dev/zero > /tmp/a && echo A-OK; head -c 5M /dev/zero > /tmp/b && echo B-OK; stat -c %s /tmp/b'
assert_contains "$OUT" "A-OK" "a 5M file fits in an 8M /tmp"
assert_not_contains "$OUT" "B-OK" "a second 5M file does not fit"
assert_contains "$ERR" "No space left" "the second write fails with ENOSPC"
sb --disk 8M -- sh -c 'df -k /tmp | tail -n1'
assert_match "$OUT" "^[^ ]+ +8192 " "/tmp is an 8M tmpfs"

# --- cpu: a busy loop is killed by SIGXCPU/SIGKILL, well before the timeout
sb --json --timeout 60 --cpu 1 -- sh -c 'while :; do :; done'
[ $RC = 137 ] || [ $RC = 152 ] || fail "cpu loop under --cpu 1 gave exit $RC (want 152 SIGXCPU or 137 SIGKILL)"
ok "cpu loop killed by a signal (exit $RC)"
json_check 'j["timed_out"] is False and j["signal"] in (9, 24)' "killed by SIGXCPU/SIGKILL, not by the timeout"
json_check 'j["cpu_ms"] >= 500' "it did use about its second of cpu"
sb --cpu 1 -- sh -c 'ulimit -t'
assert_eq "$OUT" "1" "RLIMIT_CPU is 1 s inside"

# --- no cgroup outlives its sandbox. Inside, the cgroup namespace is rooted at
# the sandbox's own cgroup; on the host, its cgroups are named after the harness's pid.
sb --memory 64M --pids 32 -- cat /proc/self/cgroup
assert_rc 0 "read /proc/self/cgroup"
if grep -E ':(memory|pids):' <<<"$OUT" | grep -qv ':/$'; then
        fail "the sandbox sees cgroup paths outside its own: $OUT"
fi
ok "inside, the memory and pids cgroups are the namespace's root"
if [ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; then
        "$BRIDLE" sandbox run --memory 64M --pids 32 -- sleep 1 &
        bp=$!
        seen() { ls /sys/fs/cgroup/memory/bridle /sys/fs/cgroup/pids/bridle 2>/dev/null | grep -c "^sb-$bp-" | grep -qx 2; }
        wait_until 10 seen || fail "no memory and pids cgroup named after the harness (sb-$bp-*) appeared"
        wait "$bp"
        left=$(ls /sys/fs/cgroup/memory/bridle /sys/fs/cgroup/pids/bridle 2>/dev/null | grep -c "^sb-$bp-" || true)
        [ "$left" = 0 ] || fail "$left cgroup(s) of the sandbox outlived it"
        ok "the sandbox's memory and pids cgroups existed during the run and are gone after it"
fi

say "all $_checks checks passed"
