#!/bin/bash
# SPDX-License-Identifier: MIT
# Guardrails and the secret scanner end to end (issue 5), the real CLI:
# - an input guardrail (regex) trips: exit 1, failed where guardrail, a
#   guardrail.tripped event, the model never asked (no model.request or
#   model.response), no sandbox made; a task that does not match runs;
# - output guardrails on the final output: max_length, json_schema (trips on a
#   wrong type and on text that is not JSON, passes a match), secrets (the
#   reason never holds the key), a command on the host (allow, deny with its
#   reason, a crash fails closed; it gets {"kind","text"} and not the API key);
#   a guardrail checked after a resume (read back from run.started);
# - bad guardrail definitions: exit 2 with FILE:LINE:COL;
# - the secret scanner: a tool prints an OpenAI-shaped key and the run's API
#   key (OPENAI_API_KEY set to a canary): the output sent to the model holds
#   [REDACTED:openai_key] and [REDACTED:known] and not the values, for the
#   scripted provider (tool.finished output_item, the --json event stream) and
#   against the fake server (its request log), a native shell_call too; a
#   secret cut by the output cap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

CANARY=canary-e2e-gw-Qx7-bridle
# An OpenAI-shaped key, built so this file does not hold it as one word.
SHAPED="sk-proj-""Ab3dEf6hIj9lMn2pQr5tUv8xYz1"

# gagent NAME SCRIPT_FILE [EXTRA YAML LINES...]: a scripted agent $T/NAME.yaml
# (exec_command, read_file, the allow-all policy, the workspace manifest).
gagent() {
        local name=$1 script=$2
        shift 2
        agent "$T/$name.yaml" "$name" scripted "exec_command, read_file" \
                "script: $script" "manifest: $T/ws.yaml" "max_turns: 10" "$@"
}
# answer NAME TEXT: a one-turn script answering TEXT, $T/NAME.script.json.
answer() {
        "$PY" -c 'import json,sys; json.dump([[{"type":"message","content":sys.argv[2]}]], open(sys.argv[1],"w"))' \
                "$T/$1.script.json" "$2"
}
# tripped_check WHAT KIND TYPE REASON_PART N_RESPONSES: the run's events
# ($T/events.jsonl) end failed where guardrail after one guardrail.tripped
# of KIND and TYPE whose reason holds REASON_PART, with N_RESPONSES model
# responses.
tripped_check() {
        pycheck "$1" '
t = [e["data"] for e in of("guardrail.tripped")]
s = last_status()
ok = len(t) == 1 and t[0]["kind"] == args[0] and t[0]["type"] == args[1] and args[2] in t[0]["reason"]
ok = ok and s.get("status") == "failed" and s.get("where") == "guardrail" and args[2] in s.get("reason", "")
ok = ok and len(of("model.response")) == int(args[3]) and "final_output" not in s
why = (t, s, types())' "$2" "$3" "$4" "$5"
}

# The workspace: a file holding a shaped key and the canary (read by tools).
cat >"$T/ws.yaml" <<EOF
version: 1
entries:
  - {type: file, path: README.md, content: "the workspace of a guard test\n"}
  - {type: file, path: creds.txt, content: "shaped=$SHAPED\nrun_key=$CANARY\nplain=hello\n"}
  - type: file
    path: cut.sh
    content: |
      printf "%0\${1}d" 0 | tr 0 " "; sed -n "s/^\$2=//p" creds.txt; printf "%0400d" 0 | tr 0 b
network: none
limits: {timeout: 120, memory: 256M, pids: 64}
EOF

# =============================================================================
# input guardrails
# =============================================================================
answer unreached "should not be reached"
gagent input "$T/unreached.script.json" "guardrails:" "  input:" \
        "    - {type: regex, pattern: 'rm +-rf', reason: no deleting}" \
        "    - {type: regex, pattern: 'secret project', ignore_case: true}" \
        "    - {type: max_length, chars: 60}"
run "$BRIDLE" run --agent "$T/input.yaml" --journal "$JOURNAL" "please rm  -rf the build folder"
assert_rc 1 "input regex trips: exit 1"
assert_contains "$ERR" "(guardrail)" "input regex: stderr says the run failed in a guardrail"
assert_contains "$ERR" "no deleting" "input regex: stderr gives the reason"
assert_eq "$OUT" "" "input regex: nothing on stdout"
RUN=$(run_id_of "$ERR")
run "$BRIDLE" runs --json --journal "$JOURNAL"
pycheck "input regex: bridle runs --json: failed" '
r = [json.loads(l) for l in out.splitlines() if l.strip()]
ok = any(x["id"] == args[0] and x["status"] == "failed" for x in r)
why = r' "$RUN"
events "$RUN"
tripped_check "input regex: guardrail.tripped (input, regex, the reason), failed where guardrail" input regex "no deleting" 0
pycheck "input regex: the model was never asked, no sandbox was made, no tool ran" '
ok = not of("model.request") and not of("model.response") and not of("sandbox.created") and not of("tool.started")
t = of("guardrail.tripped")[0]["data"]
ok = ok and t["index"] == 0
why = types()'

run "$BRIDLE" run --agent "$T/input.yaml" --journal "$JOURNAL" "The SECRET Project plans"
assert_rc 1 "input regex ignore_case: trips on other case"
events "$(run_id_of "$ERR")"
pycheck "input regex ignore_case: the second guardrail (index 1) tripped" '
t = [e["data"] for e in of("guardrail.tripped")]
ok = len(t) == 1 and t[0]["index"] == 1 and t[0]["type"] == "regex" and not of("model.response")
why = t'
run "$BRIDLE" run --agent "$T/input.yaml" --journal "$JOURNAL" "$(printf 'x%.0s' {1..61})"
assert_rc 1 "input max_length 60: a 61-character task trips"
events "$(run_id_of "$ERR")"
tripped_check "input max_length: guardrail.tripped (input, max_length)" input max_length "" 0

answer reached "reached the model"
gagent input2 "$T/reached.script.json" "guardrails:" "  input:" \
        "    - {type: regex, pattern: 'rm +-rf', reason: no deleting}" \
        "    - {type: max_length, chars: 60}"
run "$BRIDLE" run --agent "$T/input2.yaml" --journal "$JOURNAL" "please list the build folder"
assert_rc 0 "input guardrails pass: the run completes"
assert_eq "$OUT" "reached the model" "input guardrails pass: the final answer"
# 60 characters, multi-byte: counted as characters, not bytes
run "$BRIDLE" run --agent "$T/input2.yaml" --journal "$JOURNAL" "$(printf 'é%.0s' {1..60})"
assert_rc 0 "input max_length 60: 60 two-byte characters pass"

# =============================================================================
# output guardrails
# =============================================================================
# output_case NAME TEXT WANT_RC GUARDRAIL_YAML_LINES...: a one-turn run
# answering TEXT under the output guardrails given.
output_case() {
        local name=$1 text=$2 want=$3
        shift 3
        answer "$name" "$text"
        gagent "$name" "$T/$name.script.json" "guardrails:" "  output:" "$@"
        run "$BRIDLE" run --agent "$T/$name.yaml" --journal "$JOURNAL" "Answer"
        assert_rc "$want" "output $name"
        events "$(run_id_of "$ERR")"
}
output_case maxlen_trip "this answer is far too long" 1 "    - {type: max_length, chars: 10}"
tripped_check "output max_length: trips after the model answered" output max_length "" 1
assert_eq "$OUT" "" "output max_length: the answer is not printed"
output_case maxlen_pass "short" 0 "    - {type: max_length, chars: 10}"
assert_eq "$OUT" "short" "output max_length: a short answer passes"

SCHEMA="      schema: {type: object, required: [answer], properties: {answer: {type: string}}}"
output_case schema_pass '{"answer": "42"}' 0 "    - type: json_schema" "$SCHEMA"
assert_eq "$OUT" '{"answer": "42"}' "output json_schema: a matching answer passes"
output_case schema_type '{"answer": 42}' 1 "    - type: json_schema" "$SCHEMA"
tripped_check "output json_schema: a wrong type trips" output json_schema "" 1
output_case schema_missing '{"result": "42"}' 1 "    - type: json_schema" "$SCHEMA"
tripped_check "output json_schema: a missing key trips" output json_schema "" 1
output_case schema_text 'the answer is 42' 1 "    - type: json_schema" "$SCHEMA"
tripped_check "output json_schema: text that is not JSON trips" output json_schema "" 1

output_case secrets_trip "here it is: $SHAPED" 1 "    - {type: secrets}"
tripped_check "output secrets: an OpenAI-shaped key in the answer trips" output secrets "" 1
assert_not_contains "$ERR" "$SHAPED" "output secrets: stderr does not hold the key"
pycheck "output secrets: the tripped reason and the status do not hold the key" '
ok = args[0] not in json.dumps(of("guardrail.tripped")) and args[0] not in json.dumps(of("run.status"))
why = of("guardrail.tripped")' "$SHAPED"
output_case secrets_pass "nothing secret here" 0 "    - {type: secrets}"

# the first guardrail that trips decides (index 1 here)
output_case order "toolongtoolong" 1 "    - {type: regex, pattern: nomatch}" "    - {type: max_length, chars: 5}" \
        "    - {type: secrets}"
pycheck "output: the first guardrail that trips is the one reported (index 1, max_length)" '
t = [e["data"] for e in of("guardrail.tripped")]
ok = len(t) == 1 and t[0]["index"] == 1 and t[0]["type"] == "max_length"
why = t'

# ---- a command guardrail on the host ----
cat >"$T/guard.sh" <<EOF
#!/bin/sh
in=\$(cat)
printf '%s\n' "\$in" >>"$T/guard-in.jsonl"
env >"$T/guard-env.txt"
case "\$in" in
*forbidden*) echo '{"decision": "deny", "reason": "mentions the forbidden word"}' ;;
*) echo '{"decision": "allow"}' ;;
esac
EOF
chmod 755 "$T/guard.sh"
printf '#!/bin/sh\necho oops >&2\nexit 3\n' >"$T/crash.sh"
chmod 755 "$T/crash.sh"
export OPENAI_API_KEY=$CANARY
output_case cmd_pass "all is fine" 0 "    - {type: command, command: [$T/guard.sh], timeout_ms: 20000}"
assert_eq "$OUT" "all is fine" "command guardrail allows: the answer"
pycheck "command guardrail: it got {kind: output, text} on stdin" '
got = [json.loads(l) for l in open(args[0]) if l.strip()]
ok = got == [{"kind": "output", "text": "all is fine"}]
why = got' "$T/guard-in.jsonl"
assert_contains "$(cat "$T/guard-env.txt")" "BRIDLE_GUARD_KIND=output" "command guardrail: BRIDLE_GUARD_KIND is set"
assert_not_contains "$(cat "$T/guard-env.txt")" "$CANARY" "command guardrail: the API key is not in its environment"
output_case cmd_deny "the forbidden answer" 1 "    - {type: command, command: [$T/guard.sh], timeout_ms: 20000}"
tripped_check "command guardrail denies: tripped with its reason" output command "mentions the forbidden word" 1
output_case cmd_crash "anything" 1 "    - {type: command, command: [$T/crash.sh], timeout_ms: 20000}"
tripped_check "command guardrail that exits 3: fails closed (tripped)" output command "" 1
pycheck "command guardrail crash: the reason says what went wrong (exit status or stderr)" '
r = of("guardrail.tripped")[0]["data"]["reason"]
ok = "3" in r or "oops" in r
why = r'
# on the input too
: >"$T/guard-in.jsonl"
gagent cmd_input "$T/reached.script.json" "guardrails:" "  input:" \
        "    - {type: command, command: [$T/guard.sh], timeout_ms: 20000}"
run "$BRIDLE" run --agent "$T/cmd_input.yaml" --journal "$JOURNAL" "a forbidden task"
assert_rc 1 "command guardrail on the input: denies"
events "$(run_id_of "$ERR")"
tripped_check "command guardrail on the input: tripped before the model" input command "mentions the forbidden word" 0
pycheck "command guardrail on the input: it got {kind: input, text: the task}" '
got = [json.loads(l) for l in open(args[0]) if l.strip()]
ok = got == [{"kind": "input", "text": "a forbidden task"}]
why = got' "$T/guard-in.jsonl"
unset OPENAI_API_KEY

# ---- an output guardrail checked after a resume (read back from run.started) ----
mkdir -p "$T/pol"
printf 'default: allow\ncommands:\n  - {prefix: [cat, README.md], decision: ask}\n' >"$T/pol/ask.yaml"
cat >"$T/resume.script.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_r, arguments: {cmd: "cat README.md"}}
- - {type: message, content: "an answer that is much too long for the guardrail"}
EOF
gagent resumed "$T/resume.script.yaml" "guardrails:" "  output:" "    - {type: max_length, chars: 10}"
run "$BRIDLE" run --agent "$T/resumed.yaml" --policy "$T/pol/ask.yaml" --journal "$JOURNAL" "Read"
assert_rc 4 "resume: the run waits for an approval first"
RUN=$(run_id_of "$ERR")
rm -f "$T/resumed.yaml" # resume needs no files
run "$BRIDLE" approve "$RUN" --all --journal "$JOURNAL"
assert_rc 0 "resume: approve --all"
resume "$RUN"
assert_rc 1 "resume: the output guardrail trips after the resume"
events "$RUN"
tripped_check "resume: guardrail.tripped (output, max_length) from the recorded guardrails" output max_length "" 2

# =============================================================================
# bad guardrail definitions
# =============================================================================
gagent bad1 "$T/reached.script.json" "guardrails:" "  input:" "    - {type: json_schema, schema: {type: object}}"
run "$BRIDLE" run --agent "$T/bad1.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "a json_schema in the input list: exit 2"
assert_match "$ERR" "bad1\.yaml:[0-9]+:[0-9]+: .*guardrails\.input\[0\]" "... with FILE:LINE:COL and the key path"
gagent bad2 "$T/reached.script.json" "guardrails:" "  output:" "    - {type: regex, pattern: 'a(b'}"
run "$BRIDLE" run --agent "$T/bad2.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "a bad regex: exit 2"
assert_match "$ERR" "bad2\.yaml:[0-9]+:[0-9]+: .*guardrails\.output\[0\]" "... with FILE:LINE:COL and the key path"
gagent bad3 "$T/reached.script.json" "guardrails:" "  output:" "    - {type: virus_scan}"
run "$BRIDLE" run --agent "$T/bad3.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "an unknown guardrail type: exit 2"
assert_match "$ERR" "bad3\.yaml:[0-9]+:[0-9]+:" "... with FILE:LINE:COL"

# =============================================================================
# the secret scanner on tool outputs
# =============================================================================
cat >"$T/leak.script.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_cat, arguments: {cmd: "cat creds.txt"}}
  - {type: function_call, name: read_file, call_id: call_read, arguments: {path: creds.txt}}
- - {type: message, content: "read the credentials"}
EOF
# leak_check WHAT: the tool outputs in $T/events.jsonl are redacted.
leak_check() {
        pycheck "$1: both tool outputs hold [REDACTED:openai_key] and [REDACTED:known], not the values; the rest is kept" '
fin = {e["data"]["call_id"]: e["data"]["output_item"]["output"] for e in of("tool.finished")}
ok = set(fin) == {"call_cat", "call_read"}
for k, o in fin.items():
    if not ("[REDACTED:openai_key]" in o and "[REDACTED:known]" in o and "plain=hello" in o):
        ok = False; why += "%s: %r; " % (k, o)
    if args[0] in o or args[1] in o:
        ok = False; why += "%s leaks: %r; " % (k, o)
' "$SHAPED" "$CANARY"
}
gagent leak "$T/leak.script.yaml"
OPENAI_API_KEY=$CANARY run "$BRIDLE" run --agent "$T/leak.yaml" --journal "$JOURNAL" "Read the credentials"
assert_rc 0 "scanner, scripted provider: the run completes"
RUN=$(run_id_of "$ERR")
events "$RUN"
leak_check "scanner, scripted provider (OPENAI_API_KEY set)"
pycheck "scanner, scripted provider: neither value is anywhere in the journal" '
ok = args[0] not in open(args[2]).read() and args[1] not in open(args[2]).read()
why = "found"' "$SHAPED" "$CANARY" "$T/events.jsonl"

# --json: the event stream on stdout (journaled and transient events)
OPENAI_API_KEY=$CANARY run "$BRIDLE" run --json --agent "$T/leak.yaml" --journal "$JOURNAL" "Read the credentials"
assert_rc 0 "scanner, --json: the run completes"
assert_contains "$OUT" "[REDACTED:known]" "scanner, --json: the stream holds the redacted output"
assert_not_contains "$OUT" "$CANARY" "scanner, --json: the stream does not hold the run's key"
assert_not_contains "$OUT" "$SHAPED" "scanner, --json: the stream does not hold the shaped key"

# without the key in the environment, the canary is just text (only known values are)
run "$BRIDLE" run --agent "$T/leak.yaml" --journal "$JOURNAL" "Read the credentials"
assert_rc 0 "scanner, no OPENAI_API_KEY: completes"
events "$(run_id_of "$ERR")"
pycheck "scanner, no OPENAI_API_KEY: the shaped key is still redacted, the canary is not (not a known value, no shape)" '
o = [e["data"]["output_item"]["output"] for e in of("tool.finished")]
ok = len(o) == 2 and all("[REDACTED:openai_key]" in x and args[1] in x and args[0] not in x for x in o)
why = o' "$SHAPED" "$CANARY"

# a scripted agent whose api_key_env names another variable: that one is known
gagent leak2 "$T/leak.script.yaml" "api_key_env: GW_TEST_KEY"
GW_TEST_KEY=$CANARY run "$BRIDLE" run --agent "$T/leak2.yaml" --journal "$JOURNAL" "Read the credentials"
assert_rc 0 "scanner, api_key_env GW_TEST_KEY: completes"
events "$(run_id_of "$ERR")"
leak_check "scanner, api_key_env GW_TEST_KEY"

# A secret cut by the output cap (exec_command's max_output_tokens keeps a
# head and a tail): the part that is sent must not be a readable piece of it.
cat >"$T/cut.script.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_cut_known, arguments: {cmd: "sh cut.sh 30 run_key", max_output_tokens: 20}}
  - {type: function_call, name: exec_command, call_id: call_cut_shaped, arguments: {cmd: "sh cut.sh 22 shaped", max_output_tokens: 20}}
  - {type: function_call, name: exec_command, call_id: call_whole, arguments: {cmd: "sh cut.sh 24 shaped", max_output_tokens: 200}}
- - {type: message, content: "cut"}
EOF
gagent cut "$T/cut.script.yaml"
OPENAI_API_KEY=$CANARY run "$BRIDLE" run --agent "$T/cut.yaml" --journal "$JOURNAL" "Print the credentials"
assert_rc 0 "scanner, output cut by max_output_tokens: the run completes"
events "$(run_id_of "$ERR")"
pycheck "scanner, output not cut: redacted whole (the control case)" '
o = {e["data"]["call_id"]: e["data"]["output_item"]["output"] for e in of("tool.finished")}
ok = "[REDACTED:openai_key]" in o["call_whole"] and args[0] not in o["call_whole"]
ok = ok and all("was cut in the middle" in o[k] for k in ("call_cut_known", "call_cut_shaped"))
why = o' "$SHAPED"
"$PY" - "$T/events.jsonl" "$SHAPED" "$CANARY" >"$T/cut.txt" <<'EOF' || true
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
o = {e["data"]["call_id"]: e["data"]["output_item"]["output"] for e in ev if e["type"] == "tool.finished"}
# the shaped key without its public prefix sk-proj-
for cid, secret in (("call_cut_known", sys.argv[3]), ("call_cut_shaped", sys.argv[2][8:])):
    text = o.get(cid, "")
    # the longest piece (8 characters or more) of the secret in the text
    best = ""
    for i in range(len(secret)):
        for j in range(i + 8, len(secret) + 1):
            if secret[i:j] in text and j - i > len(best):
                best = secret[i:j]
    if best:
        print("%s: %r" % (cid, best))
EOF
if [ -s "$T/cut.txt" ]; then
        known_bug "a secret cut by exec_command's output cap leaks a piece: the runner redacts (src/runner/loop.c run_call -> bridle__run_redact) the output after the sandbox kept only a head and a tail (max_output_tokens), so a known value or a key shape straddling the cut is no longer recognised and its first bytes go to the model (pieces found: $(tr '\n' ' ' <"$T/cut.txt")). Repro: cut.sh in run_guard.sh (30 spaces, then the run's API key, then 400 bytes; max_output_tokens 20 keeps 40 bytes of head). Expected: no piece of 8 or more characters of a secret in what is sent; e.g. scan the whole output before it is cut (or redact in the session layer), or treat a prefix/suffix of a known value or key shape at the cut as a hit"
else
        ok "scanner, output cut by max_output_tokens: no piece of either secret is sent"
fi

# against the fake server: what the model was sent
cat >"$T/leak.json" <<'EOF'
[
 [{"type": "function_call", "name": "exec_command", "call_id": "call_cat", "arguments": {"cmd": "cat creds.txt"}},
  {"type": "function_call", "name": "read_file", "call_id": "call_read", "arguments": {"path": "creds.txt"}},
  {"type": "shell_call", "call_id": "call_native", "action": {"commands": ["cat creds.txt"]}}],
 [{"type": "message", "content": "read the credentials"}]
]
EOF
agent "$T/leak3.yaml" leak3 openai-responses "exec_command, read_file" "manifest: $T/ws.yaml" "native_tools: [shell]"
start_server leak "$T/leak.json" --require-key "$CANARY"
OPENAI_API_KEY=$CANARY run "$BRIDLE" run --agent "$T/leak3.yaml" --base-url "$URL" --journal "$JOURNAL" "Read the credentials"
assert_rc 0 "scanner, fake server: the run completes (the key was sent where it belongs)"
pycheck "scanner, fake server: the request carries both outputs redacted; no request body holds either value" '
outs = {i["call_id"]: i["output"] for r in req for i in r["body"]["input"] if i.get("type") == "function_call_output"}
native = [i["output"][0]["stdout"] for r in req for i in r["body"]["input"] if i.get("type") == "shell_call_output"]
ok = len(req) == 2 and set(outs) == {"call_cat", "call_read"} and len(native) == 1
outs["call_native"] = native[0] if native else ""
ok = ok and all("[REDACTED:known]" in o and "[REDACTED:openai_key]" in o for o in outs.values())
for r in req:
    b = json.dumps(r["body"])
    if args[0] in b or args[1] in b:
        ok = False; why += "request %s body leaks; " % r["n"]
ok = ok and all(r["headers"].get("authorization") == "Bearer " + args[1] for r in req)
why += repr(outs)' "$SHAPED" "$CANARY"
events "$(run_id_of "$ERR")"
pycheck "scanner, fake server: the journal's tool.finished items hold no secret (native shell_call_output too)" '
fin = json.dumps([e["data"]["output_item"] for e in of("tool.finished")])
ok = len(of("tool.finished")) == 3 and args[0] not in fin and args[1] not in fin and "[REDACTED:known]" in fin
why = fin' "$SHAPED" "$CANARY"
stop_server

bugs_end
