#!/bin/bash
# SPDX-License-Identifier: MIT
# Snapshots of living sandboxes through the CLI: an overlay /workspace; a
# snapshot after writing files (modes, a symlink, an empty directory, nested
# trees) and after deleting some of them; restore into a new sandbox gives
# exactly the snapshot's tree (types, modes, sizes, link targets, mtimes,
# sha256), not what changed later; the restored sandbox is writable and its
# snapshot holds only its change (restored on top of its parent); a
# truncated or garbage snapshot is refused and leaves no sandbox behind; prune
# keeps what a living sandbox was restored from; destroy leaves nothing.
. "$(dirname "$0")/lib.sh"

export BRIDLE_HOME="$T/home"
destroy_all() {
        local i
        for i in $("$BRIDLE" sandbox list 2>/dev/null | cut -f1); do
                "$BRIDLE" sandbox destroy "$i" >/dev/null 2>&1 || true
        done
}
at_exit destroy_all

run "$BRIDLE" sandbox create --name snap-src
assert_rc 0 "create"
src=$OUT
if ! grep -qx 'overlay=1' "$BRIDLE_HOME/sandboxes/$src/state"; then
        skip "overlay cannot be mounted in a user namespace here (snapshots would be full archives)"
fi
run "$BRIDLE" sandbox exec "$src" -- sh -c 'grep " /workspace " /proc/self/mountinfo'
assert_contains "$OUT" " - overlay " "/workspace is an overlay"

# The tree, as the sandbox sees it: path, type, mode, size, link target, mtime, sha256.
TREE='find . -mindepth 1 -printf "%p %y %m %s %l %Ts\n" | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum'
tree_of() {
        run "$BRIDLE" sandbox exec "$1" -- sh -c "$TREE"
        [ "$RC" = 0 ] || { show; fail "list the tree of $1"; }
        printf '%s\n' "$OUT"
}

run "$BRIDLE" sandbox exec "$src" -- sh -c '
        set -e
        printf "plain\n" > plain.txt
        printf "#!/bin/sh\necho hi\n" > run.sh && chmod 0755 run.sh
        printf "secret" > private && chmod 0600 private
        printf "odd" > odd && chmod 0604 odd
        ln -s plain.txt link
        ln -s /nonexistent/target dangling
        mkdir empty
        mkdir -p deep/a/b && printf "x" > deep/a/b/x
        mkdir locked && chmod 0500 locked
        printf "doomed\n" > doomed
        mkdir doomed-dir && printf "y" > doomed-dir/y
        head -c 300000 /dev/urandom > blob
        touch -d "2001-02-03 04:05:06" plain.txt'
assert_rc 0 "write the first tree"
run "$BRIDLE" sandbox snapshot "$src" --label first
assert_rc 0 "first snapshot"
s1=$OUT
assert_match "$s1" '^[A-Za-z0-9_-]+$' "the snapshot id is printed alone"

run "$BRIDLE" sandbox exec "$src" -- sh -c '
        set -e
        rm doomed && rm -r doomed-dir
        printf "changed\n" >> plain.txt
        chmod 0640 odd
        printf "new" > new-file
        rm link && ln -s run.sh link'
assert_rc 0 "delete and change files"
want=$(tree_of "$src")
run "$BRIDLE" sandbox snapshot "$src" --label second
assert_rc 0 "second snapshot"
s2=$OUT

# Change more after the snapshot: none of this may come back.
run "$BRIDLE" sandbox exec "$src" -- sh -c 'rm -r deep; printf "later" > later; chmod 0600 run.sh'
assert_rc 0 "changes after the second snapshot"
after=$(tree_of "$src")
[ "$after" != "$want" ] || fail "the later changes did not change the tree"

run "$BRIDLE" sandbox snapshots
assert_rc 0 "list snapshots"
assert_contains "$OUT" "$s1" "the list has the first snapshot"
assert_contains "$OUT" "second" "the list has the second snapshot's label"

run "$BRIDLE" sandbox restore "$s2" --name snap-restored
assert_rc 0 "restore"
rid=$OUT
assert_match "$rid" '^[0-9a-f]{12}$' "restore prints the new sandbox id"
[ "$rid" != "$src" ] || fail "restore reused the source sandbox"
got=$(tree_of snap-restored)
if [ "$got" != "$want" ]; then
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 || true
        fail "the restored tree differs from the snapshot's"
fi
ok "the restored tree is exactly the second snapshot's (modes, links, empty dirs, deletions, mtimes, sha256)"
assert_contains "$got" "./empty d 755" "the empty directory is there"
assert_contains "$got" "./link l 777 6 run.sh" "the symlink points where it did"
assert_not_contains "$got" "doomed" "deleted files stay deleted"
assert_not_contains "$got" "later" "changes after the snapshot are not there"

run "$BRIDLE" sandbox exec snap-restored -- sh -c 'printf more >> plain.txt && ./run.sh && rm private && rm -r deep/a && mkdir deep/a && printf z > deep/a/z && ls'
assert_rc 0 "the restored workspace is writable by the sandbox's root"
assert_contains "$OUT" "hi" "a restored script still runs"

# A restored sandbox's snapshot holds only its change (on top of its parent),
# deletions of what it was restored with included.
snapdir="$BRIDLE_HOME/snapshots"
want4=$(tree_of snap-restored)
run "$BRIDLE" sandbox snapshot snap-restored --label delta
assert_rc 0 "snapshot of a restored sandbox"
s4=$OUT
assert_eq "$(cat "$snapdir/$s4.parent")" "$s2" "it records the snapshot it builds on"
size2=$(stat -c %s "$snapdir/$s2.tar.zst")
size4=$(stat -c %s "$snapdir/$s4.tar.zst")
[ "$size2" -gt 300000 ] || fail "the second snapshot should hold the 300 kB blob ($size2 bytes)"
[ "$size4" -lt 100000 ] || fail "the delta snapshot holds more than the change ($size4 bytes)"
ok "the delta snapshot is $size4 bytes, its parent $size2"
run "$BRIDLE" sandbox restore "$s4"
assert_rc 0 "restore the delta snapshot"
r4=$OUT
got4=$(tree_of "$r4")
if [ "$got4" != "$want4" ]; then
        diff <(printf '%s\n' "$want4") <(printf '%s\n' "$got4") >&2 || true
        fail "the tree restored from a delta differs"
fi
ok "a delta restores exactly (parent + change, deletions and a replaced directory included)"
assert_not_contains "$got4" "./private " "a file deleted on top of the parent stays deleted"
assert_not_contains "$got4" "./deep/a/b" "a directory replaced on top of the parent does not show the old one"
run "$BRIDLE" sandbox exec "$r4" -- sh -c 'printf w > plain.txt && cat deep/a/z'
assert_eq "$OUT" "z" "the delta's sandbox works"
mv "$snapdir/$s2.tar.zst" "$snapdir/$s2.aside"
run "$BRIDLE" sandbox restore "$s4"
assert_rc 1 "a delta whose parent is gone is refused"
assert_contains "$ERR" "$s2" "the error names the missing parent"
mv "$snapdir/$s2.aside" "$snapdir/$s2.tar.zst"

run "$BRIDLE" sandbox restore "$s1"
assert_rc 0 "restore the first snapshot"
r1=$OUT
run "$BRIDLE" sandbox exec "$r1" -- sh -c 'cat doomed && cat deep/a/b/x && echo && readlink link'
assert_eq "$OUT" $'doomed\nx\nplain.txt' "the first snapshot has what was deleted later"

# Corrupt and truncated archives: refused, nothing left.
count_sandboxes() { find "$BRIDLE_HOME/sandboxes" -mindepth 1 -maxdepth 1 | wc -l; }
before=$(count_sandboxes)
size=$(stat -c %s "$snapdir/$s2.tar.zst")
head -c $((size - 40)) "$snapdir/$s2.tar.zst" >"$snapdir/truncated.tar.zst"
run "$BRIDLE" sandbox restore truncated --name should-not-exist
assert_rc 1 "a truncated snapshot is refused"
assert_contains "$ERR" "truncated" "the error says why"
head -c 100 "$snapdir/$s2.tar.zst" >"$snapdir/short.tar.zst"
run "$BRIDLE" sandbox restore short
assert_rc 1 "a snapshot cut to 100 bytes is refused"
head -c 4096 /dev/urandom >"$snapdir/garbage.tar.zst"
run "$BRIDLE" sandbox restore garbage
assert_rc 1 "random bytes are refused"
assert_eq "$(count_sandboxes)" "$before" "refused restores leave no sandbox directory"
[ ! -e "$BRIDLE_HOME/names/should-not-exist" ] || fail "a refused restore left its name"
ok "a refused restore leaves no name"
! ls -A "$BRIDLE_HOME/layers" | grep -Eq '^(\.tmp-|truncated|short|garbage)' || fail "a refused restore left a cached layer"
ok "a refused restore leaves no cached layer"
run "$BRIDLE" sandbox restore no-such-snapshot
assert_rc 1 "an unknown snapshot is an error"
run "$BRIDLE" sandbox restore ../escape
assert_rc 1 "a path is not a snapshot id"
rm -f "$snapdir/truncated.tar.zst" "$snapdir/short.tar.zst" "$snapdir/garbage.tar.zst"

# Prune: s1, s2 and s4 are what living sandboxes were restored from (s2 is s4's parent too).
run "$BRIDLE" sandbox snapshot "$src" --label third
assert_rc 0 "third snapshot"
s3=$OUT
run "$BRIDLE" sandbox snapshots --prune-older-than 0
assert_rc 0 "prune"
assert_contains "$OUT" "removed 1 snapshot" "prune removed only the unused snapshot"
[ ! -e "$snapdir/$s3.tar.zst" ] || fail "prune kept an unused snapshot"
[ -e "$snapdir/$s2.tar.zst" ] && [ -e "$snapdir/$s1.tar.zst" ] && [ -e "$snapdir/$s4.tar.zst" ] ||
        fail "prune deleted a snapshot in use"
ok "prune keeps snapshots living sandboxes were restored from"
run "$BRIDLE" sandbox snapshots --prune-older-than 30
assert_contains "$OUT" "removed 0 snapshots" "nothing is 30 days old"
run "$BRIDLE" sandbox snapshots --prune-older-than -1
assert_rc 2 "a negative age is a usage error"

# A command running through a snapshot is frozen, then thawed, and finishes.
"$BRIDLE" sandbox exec "$src" -- sh -c 'i=0; while [ $i -lt 20 ]; do i=$((i+1)); sleep 0.1; done; echo finished' >"$T/bg.out" 2>&1 &
bg=$!
sleep 0.5
run "$BRIDLE" sandbox snapshot "$src" --label while-running
assert_rc 0 "snapshot while a command runs"
set +e
wait "$bg"
bgrc=$?
set -e
assert_eq "$bgrc:$(cat "$T/bg.out")" "0:finished" "the running command was thawed and finished"
run "$BRIDLE" sandbox snapshots --prune-older-than 0
assert_contains "$OUT" "removed 1 snapshot" "prune the unused while-running snapshot"

# The sandbox keeps running after a snapshot (it was frozen and thawed).
run "$BRIDLE" sandbox exec "$src" -- sh -c 'sleep 0.2; echo alive'
assert_eq "$OUT" "alive" "the source sandbox runs commands after snapshots"

# Destroy removes the layers and the freezer cgroup.
for i in "$src" "$rid" "$r1" "$r4"; do
        fz=$(sed -n 's/^cg_freezer=//p' "$BRIDLE_HOME/sandboxes/$i/state")
        run "$BRIDLE" sandbox destroy "$i"
        assert_rc 0 "destroy $i"
        [ ! -e "$BRIDLE_HOME/sandboxes/$i" ] || fail "destroy left $BRIDLE_HOME/sandboxes/$i"
        [ -z "$fz" ] || [ ! -e "$fz" ] || fail "destroy left the freezer cgroup $fz"
done
ok "destroy leaves no layers and no freezer cgroup"
run "$BRIDLE" sandbox snapshots --prune-older-than 0
assert_contains "$OUT" "removed 3 snapshots" "once their sandboxes are gone, old snapshots can be pruned"
[ -z "$(ls -A "$BRIDLE_HOME/layers")" ] || fail "prune left cached layers: $(ls -A "$BRIDLE_HOME/layers")"
ok "prune removes the snapshots' cached layers"

# An unprivileged caller: layers by path (not detached trees), no freezer
# cgroup (SIGSTOP instead, a background process in the sandbox survives it).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        mkdir -m 0777 "$T/nr"
        as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env BRIDLE_HOME="$T/nr/home" HOME="$T/nr" "$@"; }
        at_exit "for i in \$(BRIDLE_HOME=$T/nr/home \"$BRIDLE\" sandbox list 2>/dev/null | cut -f1); do setpriv --reuid=65534 --regid=65534 --clear-groups env BRIDLE_HOME=$T/nr/home \"$BRIDLE\" sandbox destroy \$i >/dev/null 2>&1; done"
        run as_nobody "$BRIDLE" sandbox create
        if [ "$RC" = 0 ]; then
                nid=$OUT
                if grep -qx 'overlay=1' "$T/nr/home/sandboxes/$nid/state"; then
                        run as_nobody "$BRIDLE" sandbox exec "$nid" -- sh -c 'printf a > a; ln -s a l; mkdir e'
                        assert_rc 0 "unprivileged: write files"
                        # A command running through the snapshot: stopped, then continued.
                        as_nobody "$BRIDLE" sandbox exec "$nid" -- sh -c 'i=0; while [ $i -lt 20 ]; do i=$((i+1)); sleep 0.1; done; echo finished' >"$T/nr/bg.out" 2>&1 &
                        bg=$!
                        sleep 0.5
                        run as_nobody "$BRIDLE" sandbox snapshot "$nid"
                        assert_rc 0 "unprivileged: snapshot while a command runs"
                        ns=$OUT
                        set +e
                        wait "$bg"
                        bgrc=$?
                        set -e
                        assert_eq "$bgrc:$(cat "$T/nr/bg.out")" "0:finished" "unprivileged: the running command was continued and finished"
                        run as_nobody "$BRIDLE" sandbox restore "$ns"
                        assert_rc 0 "unprivileged: restore"
                        nr=$OUT
                        run as_nobody "$BRIDLE" sandbox exec "$nr" -- sh -c 'cat a; readlink l; test -d e && rm a && echo ok'
                        assert_eq "$OUT" $'aa\nok' "unprivileged: the restored workspace is the snapshot's, and writable"
                        for i in "$nid" "$nr"; do
                                run as_nobody "$BRIDLE" sandbox destroy "$i"
                                assert_rc 0 "unprivileged: destroy"
                        done
                else
                        say "unprivileged part skipped: no overlay for an unprivileged caller here"
                fi
        else
                say "unprivileged part skipped: an unprivileged sandbox cannot be made here: $ERR"
        fi
fi
say "$_checks checks passed"
