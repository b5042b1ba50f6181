#!/bin/bash
# SPDX-License-Identifier: MIT
# Snapshots of a sandbox made from a manifest: the sandbox records its spec
# (spec.json) and each snapshot carries it as "manifest"; the archive holds
# only what the sandbox changed, never the read-only input (a local_dir bound
# over the overlay /workspace); restore rebuilds the sandbox with the same
# limits, network, environment and binds, and does not apply the file, dir and
# local_file entries again (a deleted manifest file stays deleted, a changed
# copy keeps its change); a restore whose input is gone is refused, naming it,
# and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
need_python

export BRIDLE_HOME="$T/home"
destroy_all() {
        local i
        for i in $("$BRIDLE" sandbox list 2>/dev/null | cut -f1); do
                "$BRIDLE" sandbox destroy "$i" >/dev/null 2>&1 || true
        done
}
at_exit destroy_all

# The read-only input: a small tree; a copied file; the manifest.
mkdir -p "$T/in/sub" "$T/src"
printf 'input\n' >"$T/in/a.txt"
printf 'deep\n' >"$T/in/sub/b.txt"
head -c 200000 /dev/urandom >"$T/in/blob"
printf 'copied\n' >"$T/src/local.txt"
chmod -R a+rX "$T/in" "$T/src"
cat >"$T/m.yaml" <<EOF
version: 1
entries:
  - {type: file, path: notes.md, content: "hello\n"}
  - {type: dir, path: out}
  - {type: local_file, path: data.txt, source: $T/src/local.txt}
  - {type: local_dir, path: repo, source: $T/in, read_only: true}
environment: {MODE: review}
limits: {memory: 256M, pids: 16, disk: 64M}
network: loopback
EOF

run "$BRIDLE" sandbox create --manifest "$T/m.yaml" --env EXTRA=yes --name ms-src
assert_rc 0 "create from a manifest"
src=$OUT
if ! grep -qx 'overlay=1' "$BRIDLE_HOME/sandboxes/$src/state"; then
        skip "overlay cannot be mounted in a user namespace here (snapshots would be full archives)"
fi
spec="$BRIDLE_HOME/sandboxes/$src/spec.json"
[ -f "$spec" ] || fail "the sandbox did not record its spec"
[ "$(stat -c %a "$spec")" = 600 ] || fail "spec.json is not 0600"
OUT=$(cat "$spec")
json_check 'j["format"] == "bridle-spec" and j["network"] == "loopback" and j["limits"]["pids"] == 16' "spec.json has the network and limits"
json_check '{"type": "local_dir", "path": "/workspace/repo", "source": "'"$T"'/in", "read_only": True} in j["entries"]' "spec.json has the read-only input"
json_check 'j["environment"] == {"MODE": "review", "EXTRA": "yes"}' "spec.json has the manifest's and the command line's variables"

# Python scripts the sandbox runs (from the read-only input itself).
cat >"$T/in/forks.py" <<'PY'
import os, time
kids = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    kids += 1
print("KIDS", kids, flush=True)
os._exit(0)
PY
cat >"$T/in/lo.py" <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
c = socket.create_connection(s.getsockname(), timeout=5)
print("lo up")
PY
chmod 644 "$T/in/forks.py" "$T/in/lo.py"

# What the sandbox looks like; run for the source and for the restored one.
check_sandbox() {
        local sb=$1 what=$2
        run "$BRIDLE" sandbox exec "$sb" -- sh -c 'echo "MODE=$MODE EXTRA=$EXTRA"'
        assert_eq "$OUT" "MODE=review EXTRA=yes" "$what: the environment"
        run "$BRIDLE" sandbox exec "$sb" -- sh -c 'cat repo/a.txt repo/sub/b.txt; sha256sum < repo/blob'
        assert_eq "$OUT" "$(printf 'input\ndeep\n'; sha256sum <"$T/in/blob")" "$what: the read-only input is there"
        run "$BRIDLE" sandbox exec "$sb" -- sh -c 'echo x > repo/new'
        [ "$RC" != 0 ] || fail "$what: the input is writable"
        assert_contains "$ERR" "Read-only file system" "$what: the input is read-only"
        run "$BRIDLE" sandbox exec "$sb" -- sh -c 'grep " /workspace/repo " /proc/self/mountinfo'
        assert_match "$OUT" ' /workspace/repo ro,' "$what: the input is a read-only mount on the overlay"
        run "$BRIDLE" sandbox exec "$sb" -- python3 repo/lo.py
        assert_eq "$OUT" "lo up" "$what: --net loopback"
        run "$BRIDLE" sandbox exec "$sb" --timeout 60 -- python3 repo/forks.py
        local kids=${OUT#KIDS }
        [ -n "$kids" ] && [ "$kids" -gt 0 ] && [ "$kids" -lt 16 ] || { show; fail "$what: a fork loop made '$kids' children under pids 16"; }
        ok "$what: pids 16 holds ($kids children)"
        run "$BRIDLE" sandbox exec "$sb" -- sh -c 'df -k /tmp | tail -n1 | awk "{print \$2}"'
        assert_eq "$OUT" "65536" "$what: disk 64M sizes /tmp"
        local cg
        cg=$(sed -n 's/^cg_mem=//p' "$BRIDLE_HOME/sandboxes/$(resolve "$sb")/state")
        if [ -n "$cg" ] && [ -r "$cg/memory.limit_in_bytes" ]; then
                assert_eq "$(cat "$cg/memory.limit_in_bytes")" "268435456" "$what: memory 256M in its cgroup"
        elif [ -n "$cg" ] && [ -r "$cg/memory.max" ]; then
                assert_eq "$(cat "$cg/memory.max")" "268435456" "$what: memory 256M in its cgroup"
        fi
}
resolve() { if [ -L "$BRIDLE_HOME/names/$1" ]; then readlink "$BRIDLE_HOME/names/$1"; else printf '%s' "$1"; fi; }

check_sandbox ms-src "source"
run "$BRIDLE" sandbox exec ms-src -- sh -c 'cat notes.md data.txt; test -d out && echo out'
assert_eq "$OUT" $'hello\ncopied\nout' "the manifest's file, local_file and dir are there"

# The sandbox's changes: one deletion, one change, one new file.
run "$BRIDLE" sandbox exec ms-src -- sh -c 'rm notes.md && echo changed > data.txt && echo new > new.txt && mkdir out/x'
assert_rc 0 "change the workspace"
run "$BRIDLE" sandbox snapshot ms-src --label manifest
assert_rc 0 "snapshot"
s1=$OUT
archive="$BRIDLE_HOME/snapshots/$s1.tar.zst"

# The archive: what changed, not the input (tar warns about libarchive's
# hdrcharset keyword; the names are what matter).
names=$(tar --zstd -tf "$archive" 2>/dev/null | LC_ALL=C sort)
assert_contains "$names" "new.txt" "the archive has the new file"
assert_contains "$names" "data.txt" "the archive has the changed copy"
inside=$(printf '%s\n' "$names" | grep '^repo/.' || true)
assert_eq "$inside" "" "the archive holds nothing of the input (its mount point is an empty directory)"
assert_eq "$(printf '%s\n' "$names" | tr '\n' ' ')" ".bridle-snapshot.json data.txt new.txt out/ out/x/ repo/ " "the archive holds exactly the change"
size=$(stat -c %s "$archive")
[ "$size" -lt 100000 ] || fail "the archive is $size bytes: the 200 kB input is in it"
ok "the archive is $size bytes (the input is 200 kB and is not in it)"
OUT=$(tar --zstd -xOf "$archive" .bridle-snapshot.json 2>/dev/null)
json_check 'j["manifest"]["format"] == "bridle-spec" and j["manifest"]["limits"] == {"memory": 268435456, "pids": 16, "disk": 67108864}' "the snapshot carries the spec as its manifest"
json_check 'j["manifest"]["network"] == "loopback" and any(e["type"] == "local_dir" and e["read_only"] for e in j["manifest"]["entries"])' "the manifest has the network and the input"

# Restore: the same sandbox, with the sandbox's changes, entries not applied again.
run "$BRIDLE" sandbox restore "$s1" --name ms-restored
assert_rc 0 "restore"
rid=$OUT
cmp -s "$BRIDLE_HOME/sandboxes/$src/spec.json" "$BRIDLE_HOME/sandboxes/$rid/spec.json" || fail "the restored sandbox records another spec"
ok "the restored sandbox records the original spec"
check_sandbox ms-restored "restored"
run "$BRIDLE" sandbox exec ms-restored -- sh -c 'test -e notes.md && echo notes; cat data.txt new.txt; test -d out/x && echo out/x'
assert_eq "$OUT" $'changed\nnew\nout/x' "a deleted manifest file stays deleted, a changed copy keeps its change"

# A delta snapshot of the restored sandbox carries the same spec; its restore works.
run "$BRIDLE" sandbox exec ms-restored -- sh -c 'echo delta > delta.txt'
run "$BRIDLE" sandbox snapshot ms-restored
assert_rc 0 "delta snapshot"
s2=$OUT
OUT=$(tar --zstd -xOf "$BRIDLE_HOME/snapshots/$s2.tar.zst" .bridle-snapshot.json 2>/dev/null)
json_check 'j["manifest"]["network"] == "loopback" and j["manifest"]["environment"]["MODE"] == "review"' "the delta carries the spec too"
run "$BRIDLE" sandbox restore "$s2"
assert_rc 0 "restore the delta"
r2=$OUT
run "$BRIDLE" sandbox exec "$r2" -- sh -c 'cat delta.txt repo/a.txt; echo $MODE'
assert_eq "$OUT" $'delta\ninput\nreview' "the delta's sandbox has its change, the input and the environment"

# A missing input: refused, naming it; nothing is left behind.
count_sandboxes() { find "$BRIDLE_HOME/sandboxes" -mindepth 1 -maxdepth 1 | wc -l; }
before=$(count_sandboxes)
layers_before=$(ls -A "$BRIDLE_HOME/layers" | LC_ALL=C sort | tr '\n' ' ')
mv "$T/in" "$T/in.gone"
run "$BRIDLE" sandbox restore "$s1" --name ms-gone
assert_rc 1 "a restore whose input is gone is refused"
assert_contains "$ERR" "$T/in'" "the error names the input"
assert_contains "$ERR" "/workspace/repo" "the error names where it was bound"
assert_eq "$(count_sandboxes)" "$before" "no sandbox directory is left"
[ ! -e "$BRIDLE_HOME/names/ms-gone" ] || fail "the refused restore left its name"
ok "the refused restore left no name"
assert_eq "$(ls -A "$BRIDLE_HOME/layers" | LC_ALL=C sort | tr '\n' ' ')" "$layers_before" "no cached layer is added"
mv "$T/in.gone" "$T/in"

# A snapshot without a recorded spec (a sandbox from before): default options.
run "$BRIDLE" sandbox create --net loopback --env OLD=1
assert_rc 0 "create without a manifest"
old=$OUT
rm "$BRIDLE_HOME/sandboxes/$old/spec.json"
run "$BRIDLE" sandbox snapshot "$old"
s3=$OUT
OUT=$(tar --zstd -xOf "$BRIDLE_HOME/snapshots/$s3.tar.zst" .bridle-snapshot.json 2>/dev/null)
json_check 'j["manifest"] is None' "a sandbox without spec.json snapshots with a null manifest"
run "$BRIDLE" sandbox restore "$s3"
assert_rc 0 "restore a snapshot without a manifest"
r3=$OUT
run "$BRIDLE" sandbox exec "$r3" -- sh -c 'echo "OLD=${OLD:-unset}"'
assert_eq "$OUT" "OLD=unset" "it gets the default spec"

for i in ms-src ms-restored "$r2" "$old" "$r3"; do
        run "$BRIDLE" sandbox destroy "$i"
        assert_rc 0 "destroy $i"
done
[ -z "$(ls -A "$BRIDLE_HOME/sandboxes")" ] || fail "destroy left $(ls -A "$BRIDLE_HOME/sandboxes")"
ok "destroy leaves nothing (spec.json included)"
say "$_checks checks passed"
