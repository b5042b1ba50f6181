#!/bin/bash
# SPDX-License-Identifier: MIT
# --cwd, the default cwd, and --workspace: files the sandbox writes are owned
# by the caller on the host, for root and for an ordinary user.
. "$(dirname "$0")/lib.sh"

sb -- pwd
assert_eq "$OUT" "/workspace" "default cwd is /workspace"
sb --cwd /tmp -- pwd
assert_eq "$OUT" "/tmp" "--cwd absolute"
sb --cwd sub -- sh -c 'pwd'
assert_rc 125 "--cwd into a missing directory cannot be made"
ws="$T/ws"
mkdir -p "$ws/sub/deeper"
sb --workspace "$ws" --cwd sub/deeper -- pwd
assert_eq "$OUT" "/workspace/sub/deeper" "--cwd relative to the workspace"

# the default workspace is private and gone afterwards
sb -- sh -c 'echo hi > f; ls /workspace'
assert_eq "$OUT" "f" "the default workspace is writable"
sb -- ls -A /workspace
assert_eq "$OUT" "" "each run gets a fresh empty workspace"

# a given workspace: host files visible, writes land on the host, owned by the caller
echo from-host >"$ws/in.txt"
sb --workspace "$ws" -- sh -c 'cat in.txt; echo out > out.txt; mkdir made; echo x > made/f; ln -s in.txt link'
assert_rc 0 "write into --workspace"
assert_eq "$OUT" "from-host" "host files are visible"
assert_eq "$(cat "$ws/out.txt")" "out" "written files land on the host"
me=$(id -u)
for f in out.txt made made/f; do
        assert_eq "$(stat -c %u:%g "$ws/$f")" "$me:$(id -g)" "'$f' is owned by the caller ($me)"
done
assert_eq "$(stat -c %u "$ws/in.txt")" "$me" "the caller's own files were not chowned"
sb --workspace "$ws" -- stat -c %u in.txt
assert_eq "$OUT" "0" "inside, the caller's files belong to the sandbox's root"

# --- as an ordinary user -----------------------------------------------------
if [ "$(id -u)" != 0 ]; then
        say "already an ordinary user ($(id -u)): the checks above covered it"
        say "all $_checks checks passed"
        exit 0
fi
command -v setpriv >/dev/null || skip "setpriv is not installed: cannot run as an ordinary user"
U=65534
as_user() { setpriv --reuid=$U --regid=$U --clear-groups --inh-caps=-all "$@"; }

# The build tree must be readable for that user; else run copies.
cli=$BRIDLE
init=${BRIDLE_INIT_PATH:-$(dirname "$BRIDLE")/bridle-init}
ldpath=
if ! as_user test -x "$cli" || ! as_user test -r "$init" ||
        ! as_user sh -c "test -r \"\$(dirname '$cli')/libbridle.so.0\" || ! test -e \"\$(dirname '$cli')/libbridle.so.0\""; then
        mkdir "$T/bin"
        cp "$cli" "$init" "$T/bin/"
        cp -L "$(dirname "$cli")"/libbridle.so.0 "$T/bin/" 2>/dev/null || true
        chmod -R a+rX "$T/bin"
        cli="$T/bin/$(basename "$cli")"
        init="$T/bin/$(basename "$init")"
        ldpath="$T/bin"
fi
uws="$T/uws"
mkdir "$uws"
chown $U:$U "$uws"
set +e
as_user env BRIDLE_INIT_PATH="$init" ${ldpath:+LD_LIBRARY_PATH="$ldpath"} TMPDIR="$T" \
        "$cli" sandbox run --workspace "$uws" -- sh -c 'id -u; echo x > f; mkdir d; touch d/g' \
        >"$T/u.out" 2>"$T/u.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/u.out")
ERR=$(cat "$T/u.err")
if [ $RC = 125 ] && grep -qi "namespace" "$T/u.err"; then
        skip "unprivileged user namespaces are not possible here: $ERR"
fi
assert_rc 0 "an ordinary user ($U) can run a sandbox"
assert_eq "$OUT" "0" "the user is root inside"
for f in f d d/g; do
        assert_eq "$(stat -c %u:%g "$uws/$f")" "$U:$U" "as uid $U: '$f' is owned by the caller"
done


# limits without cgroup delegation: the fallback is said, in --json and on stderr
set +e
as_user env BRIDLE_INIT_PATH="$init" ${ldpath:+LD_LIBRARY_PATH="$ldpath"} TMPDIR="$T" \
        "$cli" sandbox run --json --memory 256M --pids 64 -- true >"$T/u.out" 2>"$T/u.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/u.out")
ERR=$(cat "$T/u.err")
assert_rc 0 "an ordinary user with --memory and --pids"
if ! as_user test -w /sys/fs/cgroup/memory 2>/dev/null; then
        json_check 'any("memory" in w for w in j["warnings"])' "json warns how --memory is (not) enforced"
        json_check 'any("pids" in w for w in j["warnings"])' "json warns how --pids is (not) enforced"
        assert_match "$ERR" "warning: memory" "stderr warns about --memory"
        assert_match "$ERR" "warning: pids" "stderr warns about --pids"
fi

say "all $_checks checks passed"
