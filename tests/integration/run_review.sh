#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# approvals: {mode: end}: calls the policy asks about run without asking, their
# writes held in the sandbox; at the end the run waits (exit 4) with the
# workspace's changes as the call "export"; approved, they are copied to
# --output; denied, nothing leaves the sandbox.
. "$(dirname "$0")/lib.sh"
need_python
run "$BRIDLE" sandbox run -- true
[ "$RC" = 0 ] || skip "no sandbox here (user namespaces?): ${ERR:0:300}"
export BRIDLE_HOME=$T/home
unset OPENAI_API_KEY
cat >"$T/policy.yaml" <<'P'
default: ask
approvals: {mode: end}
commands:
  - {prefix: [rm], decision: deny, reason: "no deleting"}
P
cat >"$T/script.yaml" <<'S'
- - {type: function_call, name: write_file, arguments: {path: src/new.txt, content: "made in the sandbox\n"}}
  - {type: function_call, name: exec_command, arguments: {cmd: "mkdir -p out && echo built > out/result.txt"}}
  - {type: function_call, name: exec_command, arguments: {cmd: "rm -f src/new.txt"}}
  - {type: function_call, name: write_file, arguments: {path: cfg.env, content: "KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd\n"}}
- - {type: message, content: "done"}
S
for answer in approve deny; do
        mkdir -p "$T/out-$answer"
        run "$BRIDLE" run --script "$T/script.yaml" --policy "$T/policy.yaml" --output "$T/out-$answer" "work"
        [ "$RC" = 4 ] || fail "$answer: the run should wait for the review (exit 4), got $RC: $ERR"
        ID=$(sed -n 's/^run //p' <<<"$ERR" | head -1)
        [ -z "$(ls -A "$T/out-$answer")" ] || fail "$answer: something left the sandbox before the review"
        run "$BRIDLE" approvals "$ID" --json
        [ "$RC" = 0 ] || fail "approvals: $ERR"
        python3 - "$OUT" <<'PY' || fail "$answer: the pending export"
import json, sys
v = json.loads(sys.argv[1])
assert v["call_id"] == "export" and v["rule"] == "approvals.mode end", v
paths = {c["path"]: c["change"] for c in json.loads(v["arguments"])["changes"]}
assert paths.get("src/new.txt") == "written" and paths.get("out/result.txt") == "written", paths
PY
        ok "$answer: the run waits with the changes listed (the denied rm did not run)"
        run "$BRIDLE" approvals "$ID"
        grep -q '^+++ b/src/new.txt$' <<<"$OUT" && grep -q '^+made in the sandbox$' <<<"$OUT" ||
                fail "$answer: the review does not show the diff: $OUT"
        ! grep -q 'AbCdEfGhIjKlMnOp' <<<"$OUT" || fail "$answer: the diff shows the secret"
        ok "$answer: the review shows the whole diff, secrets redacted"
        if [ $answer = approve ]; then
                run "$BRIDLE" approve "$ID" export
        else
                run "$BRIDLE" deny "$ID" export --reason "not now"
        fi
        [ "$RC" = 0 ] || fail "$answer: $ERR"
        run "$BRIDLE" resume "$ID"
        [ "$RC" = 0 ] || fail "$answer: resume exited $RC: $ERR"
        [ "$OUT" = done ] || fail "$answer: answer '$OUT'"
        if [ $answer = approve ]; then
                [ "$(cat "$T/out-approve/src/new.txt")" = "made in the sandbox" ] || fail "export: src/new.txt"
                [ "$(cat "$T/out-approve/out/result.txt")" = "built" ] || fail "export: out/result.txt"
                grep -q 'REDACTED' "$T/out-approve/cfg.env" || fail "the exported secret was not redacted: $(cat "$T/out-approve/cfg.env")"
                ! grep -q 'AbCdEfGhIjKlMnOp' "$T/out-approve/cfg.env" || fail "the secret left the sandbox"
                ok "approved: the changes are in --output, the secret redacted"
        else
                [ -z "$(ls -A "$T/out-deny")" ] || fail "denied, yet files were exported: $(ls -R "$T/out-deny")"
                ok "denied: nothing exported, the run completes"
        fi
done
