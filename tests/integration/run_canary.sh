#!/bin/bash
# SPDX-License-Identifier: MIT
# The API key stays in the harness: a canary key (OPENAI_API_KEY=sk-canary-
# <random>), required by the fake server, with a run whose tools dump the
# sandbox's environment (env, /proc/self/environ, every visible process's
# environ). The canary (and its random part alone) is nowhere: not in the
# journal's files (db, -wal, -shm) nor anything under BRIDLE_HOME, not on
# stdout/stderr, not in the events, not in the sandbox; the server saw it only
# in the Authorization header. A wrong key: exit 1, "auth", the key not said.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

RAND=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ ${#RAND} = 32 ] || fail "no random canary: '$RAND'"
KEY=sk-canary-$RAND

cat >"$T/script.json" <<'EOF'
[
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "env"}}],
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "cat /proc/self/environ | tr '\\0' '\\n'; echo; echo ENVIRON-DONE"}}],
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; echo ALL-DONE"}}],
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "env > env.txt; cat /proc/self/environ > environ.bin; ls"}}],
 [{"type": "message", "content": "I looked at my environment."}]
]
EOF
agent "$T/agent.yaml" snooper openai-responses "exec_command, read_file" \
        "manifest: $T/manifest.yaml" "max_turns: 10"

# no_canary WHAT FILE...: neither the key nor its random part is in the files (binary too).
no_canary() {
        local what=$1 f
        shift
        for f in "$@"; do
                [ -e "$f" ] || continue
                if grep -a -q -e "$RAND" "$f"; then
                        fail "$what: the canary is in $f: $(grep -a -o ".\{0,40\}$RAND.\{0,20\}" "$f" | head -n 3)"
                fi
        done
        ok "$what"
}

for provider in openai-responses openai-chat; do
        say "# provider $provider"
        start_server "canary-$provider" "$T/script.json" --require-key "$KEY" --chunk 7
        set +e
        OPENAI_API_KEY=$KEY "$BRIDLE" run --json --keep-sandbox --agent "$T/agent.yaml" --provider "$provider" \
                --base-url "$URL" --journal "$JOURNAL" "Show me your environment" \
                >"$T/.out" 2>"$T/.err" </dev/null
        RC=$?
        set -e
        OUT=$(cat "$T/.out")
        ERR=$(cat "$T/.err")
        assert_rc 0 "$provider: the run with the canary key completes"
        RUN=$(run_id_of "$ERR")
        assert_match "$RUN" '^[0-9a-f]{32}$' "$provider: 'run <id>' on stderr"
        cp "$T/.out" "$T/stdout-$provider"
        cp "$T/.err" "$T/stderr-$provider"
        no_canary "$provider: not on stdout (the --json events)" "$T/stdout-$provider"
        no_canary "$provider: not on stderr" "$T/stderr-$provider"

        events "$RUN"
        # the tools really dumped the sandbox's environment
        pycheck "$provider: the tools ran env and read /proc/self/environ in the sandbox" '
fin = [e["data"] for e in of("tool.finished")]
outs = [f["output_item"]["output"] for f in fin]
ok = len(fin) == 4 and all(f["ok"] for f in fin)
ok = ok and "PATH=" in outs[0] and "ENVIRON-DONE" in outs[1] and "PATH=" in outs[1] and "ALL-DONE" in outs[2]
ok = ok and all("OPENAI_API_KEY" not in o and "sk-canary" not in o for o in outs)
why = outs'
        no_canary "$provider: not in the events (runs show --json)" "$T/events.jsonl"
        "$BRIDLE" runs show "$RUN" --journal "$JOURNAL" >"$T/show.txt" 2>&1 || fail "runs show"
        no_canary "$provider: not in runs show" "$T/show.txt"

        # the sandbox: its files, read back through bridle
        SB=$("$PY" -c '
import json, sys
print([json.loads(l) for l in open(sys.argv[1]) if "sandbox.created" in l][0]["data"]["sandbox_id"])' "$T/events.jsonl")
        keep_sandbox "$SB"
        run "$BRIDLE" sandbox read "$SB" env.txt
        if [ "$RC" = 0 ]; then
                assert_contains "$OUT" "PATH=" "$provider: env.txt in the kept sandbox holds the environment"
                printf '%s' "$OUT" >"$T/env.txt"
                no_canary "$provider: not in the sandbox's environment (env.txt)" "$T/env.txt"
                "$BRIDLE" sandbox read "$SB" environ.bin >"$T/environ.bin" 2>/dev/null || fail "sandbox read environ.bin"
                no_canary "$provider: not in the sandbox's /proc/self/environ" "$T/environ.bin"
        elif [[ $ERR == *"no sandbox"* ]]; then
                known_bug "$provider: --keep-sandbox: the sandbox $SB is gone after the run: $ERR"
        else
                show
                fail "$provider: sandbox read env.txt"
        fi

        # the server saw the key, and only in the Authorization header
        pycheck "$provider: the server got the key in the Authorization header of every request, nowhere else" '
ok = len(req) == 5
for r in req:
    h = dict(r["headers"])
    auth = h.pop("authorization", None)
    if auth != "Bearer " + args[0]:
        ok = False
        why += "request %d: authorization %r; " % (r["n"], auth)
    rest = json.dumps({"h": h, "b": r["body"], "p": r["path"]})
    if args[1] in rest:
        ok = False
        why += "request %d: the canary outside the header; " % r["n"]' "$KEY" "$RAND"
        stop_server
done

# ---- a wrong key: exit 1, auth failed, the key not said ----
WRONG=sk-wrong-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
WRAND=${WRONG#sk-wrong-}
start_server wrong "$T/script.json" --require-key "$KEY"
set +e
OPENAI_API_KEY=$WRONG "$BRIDLE" run --agent "$T/agent.yaml" --base-url "$URL" --journal "$JOURNAL" "Try" \
        >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out")
ERR=$(cat "$T/.err")
assert_rc 1 "a wrong key: the run fails"
assert_match "$ERR" "failed \\(model\\).*auth" "a wrong key: the message says auth failed, in the model"
assert_not_contains "$ERR$OUT" "$WRAND" "a wrong key: the message does not contain the key"
assert_not_contains "$ERR$OUT" "$RAND" "a wrong key: nor the server's key"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "a wrong key: model.error class auth, run.status failed where model; one request (not retried)" '
me = of("model.error")
ok = len(me) == 1 and me[0]["data"]["class"] == "auth"
ok = ok and last_status().get("status") == "failed" and last_status().get("where") == "model"
ok = ok and len(req) == 1 and of("model.retry") == []
why = (types(), me, len(req))'
cp "$T/events.jsonl" "$T/wrong-events.jsonl"
stop_server

# ---- the journal's files and everything under BRIDLE_HOME ----
ls "$JOURNAL"* >/dev/null || fail "no journal files"
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$BRIDLE_HOME" "$T" -maxdepth 1 -name 'journal.db*' -print0)
assert_match "${files[*]}" "journal\\.db" "the journal's files are there to search"
# a control: the same search finds what the journal does hold (the tools' output)
cat "${files[@]}" | grep -a -q "ENVIRON-DONE" || fail "the journal's files do not show the tool output: the search proves nothing"
ok "the journal's files hold the tools' output (the search can see events)"
no_canary "the canary is not in the journal's files (db, -wal, -shm)" "${files[@]}"
WR=()
while IFS= read -r -d '' f; do WR+=("$f"); done < <(find "$BRIDLE_HOME" "$T" -maxdepth 1 -name 'journal.db*' -print0)
for f in "${WR[@]}"; do
        if grep -a -q -e "$WRAND" "$f"; then fail "the wrong key is in $f"; fi
done
ok "the wrong key is not in the journal's files"
mapfile -d '' all < <(find "$BRIDLE_HOME" -type f -print0 2>/dev/null)
no_canary "the canary is in no file under BRIDLE_HOME (${#all[@]} files)" "${all[@]}"

bugs_end
