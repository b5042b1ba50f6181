#!/bin/bash
# SPDX-License-Identifier: MIT
# run-attack.sh NAME ATTACK_EXE
#
# Runs one attack program of the escape suite inside `$BRIDLE sandbox run`,
# with the attack's directory bound read-only at /attacks, does the host-side
# setup and checks the attack needs, and maps the result to a meson test
# status: 0 pass (attack failed), 1 fail (attack succeeded or misbehaved),
# 77 skip, 99 error (the sandbox could not be made).
set -u

name=${1:?usage: run-attack.sh NAME ATTACK_EXE}
exe=${2:?usage: run-attack.sh NAME ATTACK_EXE}
: "${BRIDLE:?BRIDLE is not set (run through meson test)}"
dir=$(cd "$(dirname "$exe")" && pwd)
base=$(basename "$exe")
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

T=$(mktemp -d /tmp/bridle-escape.XXXXXX) || exit 99
chmod 755 "$T"
bg_pids=()
ipc_ids=()
host_files=()
host_failed=0

cleanup() {
        local p
        for p in "${bg_pids[@]}"; do
                kill "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        for p in "${ipc_ids[@]}"; do
                ipcrm $p 2>/dev/null
        done
        for p in "${host_files[@]}"; do
                rm -f "$p"
        done
        rm -rf "$T"
}
trap cleanup EXIT

hostfail() {
        echo "$name: HOST CHECK FAILED: $*"
        host_failed=1
}

checksum() {
        sha256sum "$@" 2>/dev/null | awk '{print $1}' | tr '\n' ' '
}

# A listener on the host: listen.py FAMILY ADDR READYFILE LOGFILE
# (FAMILY tcp: ADDR ignored, dual-stack on all addresses, READYFILE gets
# the port; FAMILY unix: ADDR is a path, '@name' for the abstract space).
start_listener() {
        local family=$1 addr=$2
        "$PY" - "$family" "$addr" "$T/ready" "$T/accepted" <<'PYEOF' &
import socket, sys
family, addr, ready, log = sys.argv[1:5]
if family in ("tcp", "udp"):
    kind = socket.SOCK_STREAM if family == "tcp" else socket.SOCK_DGRAM
    try:
        s = socket.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
    except OSError:
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("0.0.0.0", 0))
    port = str(s.getsockname()[1])
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    port = addr
if family != "udp":
    s.listen(16)
with open(ready + ".tmp", "w") as f:
    f.write(port)
import os
os.rename(ready + ".tmp", ready)
s.settimeout(90)
while True:
    try:
        if family == "udp":
            data, a = s.recvfrom(2048)
        else:
            c, a = s.accept()
            c.close()
    except (socket.timeout, OSError):
        break
    with open(log, "a") as f:
        f.write("accepted %r\n" % (a,))
PYEOF
        bg_pids+=($!)
        local i
        for i in $(seq 1 100); do
                [ -s "$T/ready" ] && break
                sleep 0.05
        done
        if [ ! -s "$T/ready" ]; then
                echo "$name: could not start the host listener"
                exit 99
        fi
}

opts=(--timeout 20)
envs=()
wrap=()
expect_rc=0
json_out=""

case "$name" in
06_signal_supervisor)
        envs+=(--env "HOST_PID=$$")
        ;;
08_leaked_fds)
        : >"$T/leak"
        exec 7<"$T/leak" 8>>"$T/leak" 9</
        ;;
09_not_a_tty)
        if command -v script >/dev/null 2>&1; then
                wrap=(script -qec)
        else
                echo "$name: script(1) missing, running without a pty"
        fi
        ;;
10_proc_self_exe|11_proc1_exe)
        before=$(checksum "$BRIDLE" "${BRIDLE_INIT_PATH:-/dev/null}" "$exe")
        ;;
13_workspace_symlink|14_dotdot_traversal|15_openat2|63_fchdir_host_fd)
        mkdir -p "$T/ws/sub/deeper"
        echo "BRIDLE-HOST-SECRET-$$-$RANDOM" >"$T/secret-outside"
        chmod 644 "$T/secret-outside"
        ln -s "$T/secret-outside" "$T/ws/abs-secret"
        ln -s "../secret-outside" "$T/ws/rel-secret"
        ln -s "../../../secret-outside" "$T/ws/sub/deeper/x" 2>/dev/null
        ln -s "sub/deeper/../../../secret-outside" "$T/ws/deep-rel-secret"
        ln -s "/etc/shadow" "$T/ws/shadow"
        ln -s "/root/.bashrc" "$T/ws/root-dir-file"
        ln -s "/proc/1/root$T/secret-outside" "$T/ws/proc-root-secret"
        opts+=(--workspace "$T/ws")
        envs+=(--env "HOST_SECRET_PATH=$T/secret-outside")
        if [ "$name" = 63_fchdir_host_fd ]; then
                exec 5</ 6<"$T"
        fi
        ;;
39_net_none_host_tcp|40_net_loopback_host_tcp|78_landlock_net|80_net_udp_host)
        if [ "$name" = 80_net_udp_host ]; then
                start_listener udp -
        else
                start_listener tcp -
        fi
        port=$(cat "$T/ready")
        addrs="127.0.0.1 ::1"
        for a in $(hostname -I 2>/dev/null); do
                case "$a" in fe80:*) ;; *) addrs="$addrs $a" ;; esac
        done
        envs+=(--env "TARGET_PORT=$port" --env "TARGET_ADDRS=$addrs")
        [ "$name" = 40_net_loopback_host_tcp ] && opts+=(--net loopback)
        if [ "$name" = 78_landlock_net ]; then
                aname="bridle-escape-$$-$RANDOM"
                "$PY" -c 'import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind("\0"+sys.argv[1]); s.listen(4)
s.settimeout(90)
try:
    c,a=s.accept(); open(sys.argv[2],"a").write("abstract accepted\n")
except OSError:
    pass' "$aname" "$T/accepted" &
                bg_pids+=($!)
                sleep 0.2
                envs+=(--env "ABSTRACT_NAME=$aname")
        fi
        ;;
41_abstract_unix)
        aname="bridle-escape-$$-$RANDOM"
        start_listener unix "@$aname"
        envs+=(--env "ABSTRACT_NAME=$aname")
        opts+=(--net loopback)
        ;;
42_host_unix_sockets)
        start_listener unix "$T/host.sock"
        envs+=(--env "HOST_SOCKET_PATH=$T/host.sock")
        ;;
76_landlock_fs)
        echo "BRIDLE-HOST-SECRET-$$-$RANDOM" >"$T/secret-outside"
        envs+=(--env "HOST_SECRET_PATH=$T/secret-outside" --env "HOST_BRIDLE=$BRIDLE"
               --env "HOST_BRIDLE_INIT=${BRIDLE_INIT_PATH:-}")
        before=$(checksum "$BRIDLE" "${BRIDLE_INIT_PATH:-/dev/null}" /usr/bin/true /etc/passwd)
        ;;
77_landlock_procs|79_landlock_env_fds)
        export SECRET_TOKEN="BRIDLE-HOST-SECRET-token-$$"
        envs+=(--env "HOST_PID=$$")
        if [ "$name" = 79_landlock_env_fds ]; then
                : >"$T/leak"
                exec 7<"$T/leak" 8>>"$T/leak" 9</
        fi
        ;;
52_host_paths_absent)
        envs+=(--env "HOST_SRCDIR=${BRIDLE_SRCDIR:-/work/main}")
        ;;
53_env_secrets)
        export SECRET_TOKEN="BRIDLE-HOST-SECRET-token-$$"
        export OPENAI_API_KEY="sk-BRIDLE-HOST-SECRET-$$"
        export AWS_SECRET_ACCESS_KEY="BRIDLE-HOST-SECRET-aws"
        export LD_PRELOAD_SECRET="BRIDLE-HOST-SECRET-ld"
        envs+=(--env "GIVEN=yes")
        ;;
54_fork_bomb)
        opts=(--timeout 30 --pids 64)
        envs+=(--env "PIDS_LIMIT=64")
        ;;
55_memory_bomb)
        opts=(--timeout 30 --memory 64M)
        envs+=(--env "MEMORY_MB=64")
        ;;
56_disk_fill_tmp|57_disk_fill_workspace|58_huge_file)
        opts=(--timeout 30 --disk 16M)
        envs+=(--env "DISK_MB=16")
        ;;
59_output_flood)
        opts=(--timeout 30 --json --max-output 65536)
        json_out="$T/out.json"
        ;;
60_orphan_timeout)
        marker="bridle-escape-orphan-$$-$RANDOM"
        opts=(--timeout 2)
        envs+=(--env "ORPHAN_MARKER=$marker")
        expect_rc=124
        ;;
61_hostname)
        host_hostname=$(hostname)
        envs+=(--env "HOST_HOSTNAME=$host_hostname")
        ;;
62_sysv_ipc)
        if command -v ipcmk >/dev/null 2>&1; then
                id=$(ipcmk -M 4096 2>/dev/null | awk '{print $NF}') && [ -n "$id" ] && ipc_ids+=("-m $id")
                key=$(ipcs -m 2>/dev/null | awk -v id="$id" '$2 == id {print $1}')
                [ -n "$key" ] && envs+=(--env "HOST_SHM_KEY=$key")
                id=$(ipcmk -Q 2>/dev/null | awk '{print $NF}') && [ -n "$id" ] && ipc_ids+=("-q $id")
                id=$(ipcmk -S 1 2>/dev/null | awk '{print $NF}') && [ -n "$id" ] && ipc_ids+=("-s $id")
        fi
        [ ${#ipc_ids[@]} -gt 0 ] || echo "$name: could not create host ipc objects; checking emptiness only"
        ;;
65_write_usr)
        before=$(checksum /usr/bin/true /etc/passwd)
        ;;
66_workspace_owner|67_workspace_setuid|75_workspace_fcaps|82_landlock_workspace_setuid)
        mkdir -p "$T/ws"
        opts+=(--workspace "$T/ws")
        ;;
68_host_tmp_invisible)
        for d in /tmp /dev/shm /var/tmp; do
                if [ -d "$d" ] && : >"$d/bridle-escape-hostfile-$$" 2>/dev/null; then
                        host_files+=("$d/bridle-escape-hostfile-$$")
                fi
        done
        ;;
73_rlimit_raise)
        opts+=(--cpu 60 --disk 16M)
        ;;
esac

case "$name" in
*_landlock_*)
        # no mount namespace: the attack runs from its host path
        cmd=("$BRIDLE" sandbox run --isolation landlock --ro "$dir" "${opts[@]}" "${envs[@]}" -- "$dir/$base") ;;
*)
        cmd=("$BRIDLE" sandbox run --ro "$dir:/attacks" "${opts[@]}" "${envs[@]}" -- "/attacks/$base") ;;
esac
if [ ${#wrap[@]} -gt 0 ]; then
        "${wrap[@]}" "$(printf '%q ' "${cmd[@]}")" /dev/null </dev/null
        rc=$?
elif [ -n "$json_out" ]; then
        "${cmd[@]}" >"$json_out" </dev/null
        rc=$?
else
        "${cmd[@]}" </dev/null
        rc=$?
fi
# the runner's own leaked fds are no longer needed
exec 5<&- 6<&- 7<&- 8<&- 9<&-

# ---- host-side checks ---------------------------------------------------
case "$name" in
10_proc_self_exe|11_proc1_exe)
        after=$(checksum "$BRIDLE" "${BRIDLE_INIT_PATH:-/dev/null}" "$exe")
        [ "$before" = "$after" ] || hostfail "host binaries changed: $before -> $after"
        ;;
39_net_none_host_tcp|40_net_loopback_host_tcp|41_abstract_unix|42_host_unix_sockets|78_landlock_net|80_net_udp_host)
        if [ -s "$T/accepted" ]; then
                hostfail "the host listener accepted a connection: $(cat "$T/accepted")"
        fi
        ;;
59_output_flood)
        if ! "$PY" - "$json_out" <<'PYEOF'
import json, sys
try:
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    j = json.loads(raw)
except Exception as e:
    print("59_output_flood: output is not one JSON object (%d bytes): %s" % (len(raw), e))
    sys.exit(1)
bad = []
for s in ("stdout", "stderr"):
    n = len(j.get(s, "").encode())
    if not j.get(s + "_truncated"):
        bad.append("%s_truncated is not true" % s)
    if n > 65536 + 4096:
        bad.append("%s has %d bytes, more than --max-output 65536" % (s, n))
if len(raw) > 4 * 65536 + 65536:
    bad.append("JSON is %d bytes" % len(raw))
if bad:
    print("59_output_flood: " + "; ".join(bad))
    sys.exit(1)
print("59_output_flood: ok: run ended (exit_code %s, signal %s), stdout/stderr truncated to %d/%d bytes"
      % (j.get("exit_code"), j.get("signal"), len(j["stdout"].encode()), len(j["stderr"].encode())))
PYEOF
        then
                hostfail "output flood not contained"
        fi
        # the command's own status does not matter here: the run ended
        [ "$rc" -ne 125 ] && [ "$rc" -ne 126 ] && [ "$rc" -ne 127 ] && rc=0
        ;;
60_orphan_timeout)
        survivors=""
        for i in $(seq 1 30); do
                survivors=$(pgrep -f "$marker")
                [ -z "$survivors" ] && break
                sleep 0.1
        done
        if [ -n "$survivors" ]; then
                hostfail "processes survived the timeout: $(ps -o pid,user,args -p "$(echo $survivors | tr ' ' ,)" | tail -n +2)"
                for p in $survivors; do kill -9 "$p" 2>/dev/null; done
        else
                echo "$name: ok: no process with the marker survived --timeout 2"
        fi
        ;;
76_landlock_fs)
        after=$(checksum "$BRIDLE" "${BRIDLE_INIT_PATH:-/dev/null}" /usr/bin/true /etc/passwd)
        [ "$before" = "$after" ] || hostfail "host files changed"
        for f in /tmp/bridle-escape-ll-probe /usr/bin/.bridle-escape-probe /var/tmp/bridle-escape-ll; do
                [ -e "$f" ] && { hostfail "$f was created on the host"; rm -rf "$f"; }
        done
        ;;
61_hostname)
        [ "$(hostname)" = "$host_hostname" ] || hostfail "host hostname changed to $(hostname)"
        ;;
65_write_usr)
        [ -e /usr/bin/.bridle-escape-probe ] && { hostfail "/usr/bin/.bridle-escape-probe exists on the host"; rm -f /usr/bin/.bridle-escape-probe; }
        [ -e /usr/lib/.bridle-escape ] && { hostfail "/usr/lib/.bridle-escape exists on the host"; rmdir /usr/lib/.bridle-escape; }
        after=$(checksum /usr/bin/true /etc/passwd)
        [ "$before" = "$after" ] || hostfail "/usr/bin/true or /etc/passwd changed"
        ;;
66_workspace_owner)
        me=$(id -u)
        for f in owned.txt owned-dir; do
                if [ ! -e "$T/ws/$f" ]; then
                        [ "$rc" -eq 0 ] && hostfail "$f was not created in the host workspace"
                        continue
                fi
                owner=$(stat -c %u "$T/ws/$f")
                [ "$owner" = "$me" ] || hostfail "$f is owned by uid $owner on the host, caller is $me"
        done
        [ "$host_failed" = 0 ] && [ "$rc" -eq 0 ] && echo "$name: ok: workspace files owned by the caller (uid $me)"
        ;;
67_workspace_setuid|82_landlock_workspace_setuid)
        me=$(id -u)
        planted=$(find "$T/ws" -perm /6000 \( -uid 0 -o ! -uid "$me" \) -printf '%p mode %m uid %U; ' 2>/dev/null)
        if [ -n "$planted" ]; then
                hostfail "sandbox planted set-id files on the host: $planted"
        else
                echo "$name: ok: no set-id file owned by root or a foreign uid in the host workspace"
        fi
        ;;
75_workspace_fcaps)
        f="$T/ws/fcap-bin"
        if [ -e "$f" ]; then
                xa=$("$PY" -c 'import os,sys
try:
    print(os.getxattr(sys.argv[1], "security.capability").hex())
except OSError:
    pass' "$f")
                if [ -n "$xa" ]; then
                        hostfail "host file has security.capability $xa"
                else
                        echo "$name: ok: no file capability on the host file"
                fi
        fi
        ;;
esac

# ---- result -------------------------------------------------------------
status=0
case "$rc" in
"$expect_rc")
        status=0 ;;
1)
        echo "$name: ATTACK SUCCEEDED (see the line above)"; status=1 ;;
2)
        echo "$name: the attack failed, but not the specified way (a defence layer is missing)"; status=1 ;;
77)
        status=77 ;;
124)
        echo "$name: the run timed out"; status=1 ;;
125)
        echo "$name: the sandbox could not be made (exit 125)"; status=99 ;;
126|127)
        echo "$name: the attack could not be started in the sandbox (exit $rc)"; status=99 ;;
*)
        if [ "$name" = 55_memory_bomb ] && [ "$rc" -eq 137 ]; then
                echo "$name: ok: the sandbox was killed for its memory use"
                status=0
        elif [ "$rc" -gt 128 ]; then
                echo "$name: the attack died with signal $((rc - 128)) (expected exit $expect_rc)"; status=1
        else
                echo "$name: unexpected exit $rc (expected $expect_rc)"; status=1
        fi ;;
esac
[ "$host_failed" = 0 ] || status=1
exit $status
