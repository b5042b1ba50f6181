#!/bin/bash
# SPDX-License-Identifier: MIT
# The fake OpenAI server (tests/server/fake-openai.mjs): check.mjs holds it to
# the official SDK; then curl shows what each fault puts on the wire (reset,
# truncate, malformed, stall, failed, status codes) for both wire formats,
# streaming and not, and that faults do not advance the script.
# Every wait is bounded (curl --max-time, wait_until).
. "$(dirname "$0")/lib.sh"

SRC=${BRIDLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SERVER_DIR=$SRC/tests/server
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps installs it)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
[ -d "$SERVER_DIR/node_modules/openai" ] ||
        skip "tests/server/node_modules is missing (run scripts/install-deps or: cd tests/server && npm ci)"

# --- the SDK's view
run timeout 150 node "$SERVER_DIR/check.mjs"
if [ "$RC" != 0 ]; then
        say "$ERR"
fi
assert_rc 0 "check.mjs: the openai SDK rebuilds the script from the server's streams"
assert_contains "$ERR" "checks passed" "check.mjs ran its checks"

# --- the wire, through curl
cat >"$T/script.json" <<'EOF'
[
  {"items": [{"type": "message", "content": "first answer"}],
   "faults": ["reset", "truncate", "malformed", {"type": "stall", "ms": 300}, "failed", "error",
              "500", {"type": "429", "retry_after": "3"}, "400"]},
  {"items": [{"type": "message", "content": "second answer"},
             {"type": "function_call", "name": "f", "arguments": {"k": "v"}}],
   "faults": ["reset", "truncate", "malformed", {"type": "stall", "ms": 300}, "failed"]},
  {"items": [{"type": "message", "content": "third answer"}],
   "faults": ["truncate", "malformed", "reset", "failed"]}
]
EOF

node "$SERVER_DIR/fake-openai.mjs" --script "$T/script.json" --log "$T/requests.log" \
        >"$T/server.out" 2>"$T/server.err" &
SRV=$!
at_exit "kill $SRV 2>/dev/null"
wait_until 10 grep -q '^listening [0-9][0-9]*$' "$T/server.out" || {
        cat "$T/server.err" >&2
        fail "the server did not print 'listening PORT'"
}
PORT=$(sed -n 's/^listening //p' "$T/server.out")
assert_eq "$(wc -l <"$T/server.out")" "1" "the server prints exactly one line"
URL=http://127.0.0.1:$PORT/v1

# post PATH BODY: curl the server; RC, OUT (body), ERR (curl's message); headers in $T/h.
post() {
        run curl -sS -N --max-time 20 -D "$T/h" -H 'content-type: application/json' \
                -H 'authorization: Bearer sk-test' -d "$2" "$URL$1"
}
status() { sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$T/h"; }
# valid_json TEXT: 0 when TEXT is one JSON value.
valid_json() { node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))' <<<"$1" 2>/dev/null; }
RS='{"model":"m","input":"hi","stream":true}'
CS='{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}'

# Responses, streaming: entry 0's faults, then the entry.
post /responses "$RS"
[ "$RC" != 0 ] || fail "reset: curl should see a cut transfer (got rc 0)"
ok "reset: curl sees the connection cut (rc $RC)"
assert_contains "$OUT" "event: response.created" "reset: some events arrived"
assert_not_contains "$OUT" "response.completed" "reset: no response.completed"

post /responses "$RS"
assert_rc 0 "truncate: a clean HTTP end"
assert_contains "$OUT" "event: response.in_progress" "truncate: some events arrived"
assert_not_contains "$OUT" "response.completed" "truncate: no response.completed"

post /responses "$RS"
assert_rc 0 "malformed: a clean HTTP end"
LAST=$(grep '^data: ' <<<"$OUT" | tail -n 1)
if valid_json "${LAST#data: }"; then fail "malformed: the last data line is valid JSON: $LAST"; fi
ok "malformed: the last data line is not JSON"
FIRST=$(grep '^data: ' <<<"$OUT" | head -n 1)
valid_json "${FIRST#data: }" || fail "malformed: the first data line should be valid: $FIRST"
ok "malformed: the events before it are valid"

post /responses "$RS"
[ "$RC" != 0 ] || fail "stall: curl should see a cut transfer after the stall (got rc 0)"
ok "stall: the connection is cut after the stall (rc $RC)"
assert_eq "$(grep -c '^event: ' <<<"$OUT")" "1" "stall: exactly one event before the stall"
assert_contains "$OUT" "event: response.created" "stall: the first event is response.created"

post /responses "$RS"
assert_rc 0 "failed: a clean HTTP end"
assert_eq "$(status)" "200" "failed: status 200 (not retryable)"
assert_contains "$OUT" "event: response.failed" "failed: a response.failed event"
assert_match "$OUT" '"status":"failed"' "failed: the response's status is failed"
assert_match "$OUT" '"error":\{"code":"server_error","message":"[^"]+"\}' "failed: with an error"
assert_not_contains "$OUT" "response.completed" "failed: no response.completed"

post /responses "$RS"
assert_rc 0 "error: a clean HTTP end"
assert_match "$OUT" 'event: error'$'\n''data: \{"type":"error","sequence_number":2,' "error: an error event"

post /responses "$RS"
assert_eq "$(status)" "500" "500: status"
assert_match "$OUT" '"type":"server_error"' "500: a JSON error"
post /responses "$RS"
assert_eq "$(status)" "429" "429: status"
assert_match "$(cat "$T/h")" $'[Rr]etry-[Aa]fter: 3\r' "429: Retry-After from the fault"
post /responses "$RS"
assert_eq "$(status)" "400" "400: status"
assert_match "$OUT" '"type":"invalid_request_error"' "400: a JSON error"

post /responses "$RS"
assert_rc 0 "entry 0 after its 9 faults"
assert_contains "$OUT" "event: response.completed" "entry 0: completed"
assert_contains "$OUT" '"text":"first answer"' "entry 0: its text (faults did not advance the script)"

# Chat Completions, streaming: entry 1's faults, then the entry.
post /chat/completions "$CS"
[ "$RC" != 0 ] || fail "chat reset: curl should see a cut transfer"
ok "chat reset: the connection is cut (rc $RC)"
assert_contains "$OUT" '"object":"chat.completion.chunk"' "chat reset: some chunks arrived"
assert_not_contains "$OUT" "[DONE]" "chat reset: no [DONE]"

post /chat/completions "$CS"
assert_rc 0 "chat truncate: a clean HTTP end"
assert_contains "$OUT" '"role":"assistant"' "chat truncate: some chunks arrived"
assert_not_contains "$OUT" "[DONE]" "chat truncate: no [DONE]"
assert_not_contains "$OUT" '"finish_reason":"tool_calls"' "chat truncate: no finish_reason"

post /chat/completions "$CS"
assert_rc 0 "chat malformed: a clean HTTP end"
LAST=$(grep '^data: ' <<<"$OUT" | tail -n 1)
if valid_json "${LAST#data: }"; then fail "chat malformed: the last data line is valid JSON: $LAST"; fi
ok "chat malformed: the last data line is not JSON"

post /chat/completions "$CS"
[ "$RC" != 0 ] || fail "chat stall: curl should see a cut transfer"
assert_eq "$(grep -c '^data: ' <<<"$OUT")" "1" "chat stall: one chunk, then the cut"

post /chat/completions "$CS"
assert_rc 0 "chat failed: a clean HTTP end"
assert_eq "$(status)" "200" "chat failed: status 200"
assert_match "$OUT" 'data: \{"error":\{"message":"[^"]+","type":"server_error"' "chat failed: an error object in the stream"
assert_not_contains "$OUT" "[DONE]" "chat failed: no [DONE]"

post /chat/completions "$CS"
assert_rc 0 "entry 1 after its 5 faults"
assert_match "$OUT" 'data: \[DONE\]'$'\n*$' "entry 1: ends with [DONE]"
assert_contains "$OUT" '"finish_reason":"tool_calls"' "entry 1: finish_reason tool_calls"
assert_contains "$OUT" '"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]' \
        "entry 1: the tool call opens with id, type, name"
assert_contains "$OUT" '"choices":[],"usage":{"prompt_tokens":' "entry 1: a usage chunk (include_usage)"

# Not streaming: entry 2's faults, then the entry.
post /responses '{"model":"m","input":"hi"}'
assert_rc 0 "json truncate: a clean HTTP end"
assert_eq "$(status)" "200" "json truncate: status 200"
if valid_json "$OUT"; then fail "json truncate: the body is whole JSON"; fi
ok "json truncate: the body is cut JSON"
post /responses '{"model":"m","input":"hi"}'
if valid_json "$OUT"; then fail "json malformed: the body is JSON"; fi
ok "json malformed: the body is not JSON"
post /responses '{"model":"m","input":"hi"}'
[ "$RC" != 0 ] || fail "json reset: curl should see a cut transfer"
ok "json reset: the connection is cut (rc $RC)"
post /chat/completions '{"model":"m","messages":[]}'
assert_eq "$(status)" "200" "json chat failed: status 200"
assert_match "$OUT" '^\{"error":\{"message":' "json chat failed: an error object"
post /chat/completions '{"model":"m","messages":[]}'
assert_eq "$(status)" "200" "json chat: entry 2"
assert_match "$OUT" '"object":"chat.completion"' "json chat: a chat.completion"
assert_match "$OUT" '"content":"third answer"' "json chat: entry 2's text"
assert_match "$OUT" '"usage":\{"prompt_tokens":[0-9]+,"completion_tokens":[0-9]+' "json chat: usage"

# Past the end; another path; the log.
post /responses "$RS"
assert_eq "$(status)" "400" "past the end: 400"
N=$(wc -l <"$T/requests.log")
assert_contains "$OUT" "\"fake-openai: the script has no entry for request $N\"" "past the end: the message names the request"
run curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$URL/models"
assert_eq "$OUT" "404" "GET /v1/models: 404"
assert_eq "$(wc -l <"$T/requests.log")" "$((N + 1))" "log: one line per request"
run node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const l = lines[0];
if (l.n !== 1 || l.path !== "/v1/responses" || l.body.input !== "hi" || l.headers.authorization !== "Bearer sk-test")
  { console.error(JSON.stringify(l)); process.exit(1); }' "$T/requests.log"
assert_rc 0 "log: n, path, headers, the parsed body"

# A signal ends it.
# gone PID: the process has exited (a zombie until waited for counts as gone).
gone() {
        local st
        st=$(ps -o stat= -p "$1" 2>/dev/null || true)
        [ -z "$st" ] || [[ $st == Z* ]]
}
kill -TERM "$SRV"
wait_until 10 gone "$SRV" || fail "the server outlived SIGTERM"
ok "SIGTERM ends the server"
say "all $_checks checks passed"
