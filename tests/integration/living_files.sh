#!/bin/bash
# SPDX-License-Identifier: MIT
# File operations in a living sandbox through the CLI: read, write, list ID PATH,
# patch; relative paths under /workspace; the sandbox's walls apply; binary bytes
# survive; unknown sandboxes fail naming them.
. "$(dirname "$0")/lib.sh"

export BRIDLE_HOME="$T/home"
run "$BRIDLE" sandbox create --name files-test
assert_rc 0 "create"
id=$OUT
at_exit "\"$BRIDLE\" sandbox destroy $id >/dev/null 2>&1"

set +e
printf 'one\ntwo\n' | "$BRIDLE" sandbox write files-test dir/sub/f.txt
rc=$?
set -e
assert_eq "$rc" 0 "write from stdin (parents created)"
run "$BRIDLE" sandbox read "$id" /workspace/dir/sub/f.txt
assert_rc 0 "read by absolute path"
assert_eq "$OUT" $'one\ntwo' "read gives what was written"
run "$BRIDLE" sandbox exec "$id" -- cat dir/sub/f.txt
assert_eq "$OUT" $'one\ntwo' "a command sees the same file"

head -c 200000 /dev/urandom >"$T/bin"
set +e
"$BRIDLE" sandbox write "$id" blob <"$T/bin"
"$BRIDLE" sandbox read "$id" blob >"$T/bin.back"
set -e
cmp -s "$T/bin" "$T/bin.back" || fail "binary bytes changed on the way in or out"
ok "200 kB of binary bytes round-trip"

run "$BRIDLE" sandbox list "$id" dir/sub
assert_rc 0 "list ID PATH"
assert_match "$OUT" '^f 0644 +8 f\.txt$' "the listing names the file, its mode and size"
run "$BRIDLE" sandbox list "$id"
assert_contains "$OUT" "dir/" "list ID lists the workspace"

run "$BRIDLE" sandbox patch "$id" $'*** Begin Patch\n*** Update File: dir/sub/f.txt\n@@\n one\n-two\n+2\n*** End Patch\n'
assert_rc 0 "patch as an argument"
assert_contains "$OUT" "Success. Updated the following files:" "patch says it worked"
assert_contains "$OUT" "M dir/sub/f.txt" "and what it changed"
run "$BRIDLE" sandbox read "$id" dir/sub/f.txt
assert_eq "$OUT" $'one\n2' "the patch is applied inside"
run "$BRIDLE" sandbox patch "$id" $'*** Begin Patch\n*** Update File: dir/sub/f.txt\n@@\n-nope\n+x\n*** End Patch\n'
assert_rc 1 "a patch that does not apply fails"
assert_contains "$ERR" "f.txt" "and says where"

run "$BRIDLE" sandbox write "$id" /usr/evil
assert_rc 1 "writing to /usr is refused"
assert_contains "$ERR" "Read-only file system" "by the read-only mount"
run "$BRIDLE" sandbox read "$id" /etc/shadow
assert_rc 1 "/etc/shadow cannot be read"
run "$BRIDLE" sandbox read "$id" dir
assert_rc 1 "reading a directory fails"
assert_contains "$ERR" "Is a directory" "with the reason"

run "$BRIDLE" sandbox read no-such-sandbox x
assert_rc 1 "an unknown sandbox fails"
assert_contains "$ERR" "no-such-sandbox" "naming it"
run "$BRIDLE" sandbox read "$id"
assert_rc 2 "a missing path is a usage error"

say "all $_checks checks passed"
