#!/bin/bash
# SPDX-License-Identifier: MIT
# `bridle mcp serve --http`: the streamable HTTP transport, held to the
# official TypeScript SDK's client (tests/mcp/client_http.mjs: tools and
# approvals through elicitation), the inspector's CLI over http, and curl
# (the token, Origin, sessions, DELETE, malformed JSON, a sandbox per
# session); SIGTERM ends it with status 0 and no sandbox left. Skips (77)
# without node, curl or tests/mcp/node_modules (scripts/install-deps).
. "$(dirname "$0")/lib.sh"

dir=$(cd "$(dirname "$0")/../mcp" && pwd)
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
[ -d "$dir/node_modules/@modelcontextprotocol/sdk" ] || skip "tests/mcp/node_modules is missing (run scripts/install-deps)"
need_python

BRIDLE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/bridle-mcp-http.XXXXXX")
export BRIDLE_HOME
at_exit 'rm -rf "$BRIDLE_HOME"'
alive() { "$BRIDLE" sandbox list 2>/dev/null | grep -c . || true; }

printf 'version: 1\nentries:\n  - {type: file, path: hello.txt, content: "hello over http\\n"}\nnetwork: none\n' >"$T/m.yaml"
cat >"$T/p.yaml" <<'EOF'
default: ask
tools:
  exec_command: allow
  write_stdin: allow
  read_file: allow
  write_file: allow
  list_dir: allow
  search: allow
  apply_patch: allow
  snapshot: allow
  restore: allow
commands:
  - {prefix: [touch], decision: ask}
EOF
token=tok-$RANDOM-$RANDOM-$RANDOM
printf '%s\n' "$token" >"$T/token"

# ---- start: the URL from stderr ----
"$BRIDLE" mcp serve --http 127.0.0.1:0 --token-file "$T/token" --manifest "$T/m.yaml" --policy "$T/p.yaml" \
        2>"$T/server.err" &
pid=$!
at_exit 'kill -KILL '"$pid"' 2>/dev/null; wait '"$pid"' 2>/dev/null'
has_url() { grep -q 'listening on http://' "$T/server.err"; }
wait_until 20 has_url || { cat "$T/server.err" >&2; fail "no URL on stderr within 20 s"; }
url=$(sed -n 's/^bridle mcp: listening on \(http:[^ ]*\)$/\1/p' "$T/server.err" | head -1)
assert_match "$url" '^http://127\.0\.0\.1:[0-9]+/mcp$' "the URL names loopback and a port"
assert_not_contains "$(cat "$T/server.err")" "$token" "a token from a file is not printed"
base=${url%/mcp}

# ---- (1) the SDK client ----
run timeout 120 node "$dir/client_http.mjs" "$url" "$token"
assert_rc 0 "the SDK client over streamable HTTP: tools, elicitation, DELETE"
assert_contains "$ERR" "checks passed" "the SDK client's checks ran"

# ---- (3) curl ----
# hc [curl args...]: the status code in CODE, the body in BODY, the headers in $T/h.
hc() {
        set +e
        CODE=$(curl -sS -m 60 -o "$T/body" -D "$T/h" -w '%{http_code}' "$@")
        set -e
        BODY=$(cat "$T/body" 2>/dev/null || true)
}
auth=(-H "Authorization: Bearer $token")
json=(-H 'Content-Type: application/json')
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}'
list='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'

hc "${json[@]}" -H 'Accept: application/json, text/event-stream' -d "$init" "$url"
assert_eq "$CODE" 401 "no token: 401"
assert_match "$(cat "$T/h")" $'[Ww][Ww][Ww]-[Aa]uthenticate: Bearer' "401 names the Bearer scheme"
hc "${json[@]}" -H "Authorization: Bearer $token-x" -d "$init" "$url"
assert_eq "$CODE" 401 "a wrong token: 401"
hc "${json[@]}" -H "Authorization: Bearer ${token:0:5}" -d "$init" "$url"
assert_eq "$CODE" 401 "a prefix of the token: 401"
hc "${auth[@]}" "${json[@]}" -H 'Origin: http://evil.example' -d "$init" "$url"
assert_eq "$CODE" 403 "a foreign Origin: 403"
hc "${auth[@]}" "${json[@]}" -H 'Origin: http://localhost.evil.example' -d "$init" "$url"
assert_eq "$CODE" 403 "an Origin that starts like localhost: 403"
hc "${auth[@]}" "${json[@]}" -d "$init" "$base/other"
assert_eq "$CODE" 404 "a path other than /mcp: 404"
hc "${auth[@]}" "${json[@]}" -H 'MCP-Protocol-Version: 1999-01-01' -d "$list" "$url"
assert_eq "$CODE" 400 "an unknown MCP-Protocol-Version: 400"
hc "${auth[@]}" "${json[@]}" -d "$list" "$url"
assert_eq "$CODE" 400 "a request other than initialize without a session: 400"
hc "${auth[@]}" "${json[@]}" -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef' -d "$list" "$url"
assert_eq "$CODE" 404 "an unknown session: 404"
hc "${auth[@]}" "${json[@]}" -d '{"jsonrpc":"2.0","id":1,"method":' "$url"
assert_eq "$CODE" 400 "malformed JSON: 400"
OUT=$BODY json_check 'j["error"]["code"] == -32700 and j["id"] is None' "malformed JSON: JSON-RPC -32700"

# A session over curl in json mode (Accept without text/event-stream).
hc "${auth[@]}" "${json[@]}" -H 'Accept: application/json' -d "$init" "$url"
assert_eq "$CODE" 200 "initialize (json mode): 200"
OUT=$BODY json_check 'j["id"] == 1 and j["result"]["serverInfo"]["name"] == "bridle"' "initialize: the result"
sa=$(tr -d '\r' <"$T/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
assert_match "$sa" '^[0-9a-f]{32}$' "initialize: a 128-bit hex Mcp-Session-Id"
A=(-H "Mcp-Session-Id: $sa")
hc "${auth[@]}" "${json[@]}" "${A[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
assert_eq "$CODE" 202 "a notification: 202"
assert_eq "$BODY" "" "202 has no body"
hc "${auth[@]}" "${json[@]}" "${A[@]}" -H 'Accept: application/json' -H 'MCP-Protocol-Version: 2025-06-18' \
        -d '{"jsonrpc":"2.0","id":"w1","method":"tools/call","params":{"name":"write_file","arguments":{"path":"only-a.txt","content":"A\n"}}}' "$url"
assert_eq "$CODE" 200 "session A: write_file"
OUT=$BODY json_check 'j["id"] == "w1" and not j["result"]["isError"]' "session A: write_file succeeded"
hc "${auth[@]}" "${json[@]}" "${A[@]}" -d '{"jsonrpc":"2.0","id":99,"result":{}}' "$url"
assert_eq "$CODE" 202 "a response POSTed: 202"

# Session B, over SSE.
hc "${auth[@]}" "${json[@]}" -H 'Accept: application/json, text/event-stream' -d "$init" "$url"
assert_eq "$CODE" 200 "initialize (SSE): 200"
assert_match "$(cat "$T/h")" '[Cc]ontent-[Tt]ype: text/event-stream' "initialize (SSE): an event stream"
assert_match "$BODY" $'event: message\ndata: \\{' "initialize (SSE): a message event"
assert_match "$BODY" $'(^|\n)id: [^\n]+' "initialize (SSE): the event has an id"
sb_=$(tr -d '\r' <"$T/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
assert_match "$sb_" '^[0-9a-f]{32}$' "session B: its id"
[ "$sa" != "$sb_" ] && ok "two sessions, two ids" || fail "two sessions got the same id"
B=(-H "Mcp-Session-Id: $sb_")
hc "${auth[@]}" "${json[@]}" "${B[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
assert_eq "$CODE" 202 "session B: initialized"
hc "${auth[@]}" "${json[@]}" "${B[@]}" -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"only-a.txt"}}}' "$url"
assert_eq "$CODE" 200 "session B: read_file"
data=$(printf '%s\n' "$BODY" | sed -n 's/^data: //p' | head -1)
OUT=$data json_check 'j["id"] == 5 and j["result"]["isError"]' "session B cannot see session A's file (its own sandbox)"
hc "${auth[@]}" "${json[@]}" "${B[@]}" -H 'Accept: application/json' \
        -d '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"hello.txt"}}}' "$url"
OUT=$BODY json_check 'j["id"] == 6 and "hello over http" in j["result"]["content"][0]["text"]' \
        "session B: its own copy of the manifest's file"
assert_eq "$(alive)" 2 "two sessions, two sandboxes"


# Session C (json mode, elicitation) with a GET stream: with no POST stream to
# carry it, the approval request goes to the GET stream; the answer is POSTed.
initel='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"curl","version":"0"}}}'
hc "${auth[@]}" "${json[@]}" -H 'Accept: application/json' -d "$initel" "$url"
sc=$(tr -d '\r' <"$T/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
assert_match "$sc" '^[0-9a-f]{32}$' "session C: its id"
C=(-H "Mcp-Session-Id: $sc")
hc "${auth[@]}" "${json[@]}" "${C[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
curl -sS -N -m 60 -D "$T/gh" "${auth[@]}" "${C[@]}" -H 'Accept: text/event-stream' "$url" >"$T/gbody" 2>/dev/null &
gpid=$!
gh_open() { grep -qi 'content-type: text/event-stream' "$T/gh" 2>/dev/null; }
wait_until 10 gh_open || fail "GET: no event stream within 10 s"
ok "GET: an event stream"
# A second GET replaces the first (which ends cleanly).
curl -sS -N -m 60 -D "$T/gh2" "${auth[@]}" "${C[@]}" -H 'Accept: text/event-stream' "$url" >"$T/gbody2" 2>/dev/null &
gpid2=$!
set +e
wait "$gpid"
grc=$?
set -e
assert_eq "$grc" 0 "a second GET ends the first stream cleanly"
gpid=$gpid2
cp "$T/gh2" "$T/gh"
gbody=$T/gbody2
gh_open() { grep -qi 'content-type: text/event-stream' "$T/gh2" 2>/dev/null; }
wait_until 10 gh_open || fail "the second GET: no event stream within 10 s"
ok "the second GET: an event stream"
curl -sS -m 60 "${auth[@]}" "${json[@]}" "${C[@]}" -H 'Accept: application/json' \
        -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"exec_command","arguments":{"cmd":"touch e.txt && echo touched"}}}' \
        "$url" >"$T/call" 2>&1 &
cpid=$!
asked() { grep -q 'elicitation/create' "$gbody"; }
wait_until 20 asked || fail "no elicitation/create on the GET stream within 20 s"
ok "elicitation/create on the GET stream"
eid=$(sed -n 's/^data: //p' "$gbody" | "$PY" -c '
import json, sys
for l in sys.stdin:
    j = json.loads(l)
    if j.get("method") == "elicitation/create":
        print(json.dumps(j["id"])); break')
hc "${auth[@]}" "${json[@]}" "${C[@]}" \
        -d '{"jsonrpc":"2.0","id":'"$eid"',"result":{"action":"accept","content":{"approve":true}}}' "$url"
assert_eq "$CODE" 202 "the approval POSTed: 202"
set +e
wait "$cpid"
crc=$?
set -e
assert_eq "$crc" 0 "the tools/call POST ended"
OUT=$(cat "$T/call") json_check 'j["id"] == 7 and not j["result"]["isError"] and "touched" in j["result"]["content"][0]["text"]' \
        "approved through the GET stream: it ran"
hc "${auth[@]}" -X DELETE "${C[@]}" "$url"
assert_eq "$CODE" 200 "DELETE session C"
set +e
wait "$gpid"
grc=$?
set -e
assert_eq "$grc" 0 "DELETE ends the session's GET stream cleanly"

# A request whose event stream breaks: its response goes to the GET stream.
set +e
curl -sS -N -m 2 "${auth[@]}" "${json[@]}" "${B[@]}" -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":"late","method":"tools/call","params":{"name":"exec_command","arguments":{"cmd":"sleep 4; echo late-$((6*7))","yield_time_ms":20000}}}' \
        "$url" >/dev/null 2>&1
set -e
curl -sS -N -m 30 "${auth[@]}" "${B[@]}" -H 'Accept: text/event-stream' "$url" >"$T/lbody" 2>/dev/null &
lpid=$!
late() { grep -q 'late-42' "$T/lbody"; }
wait_until 20 late || fail "the broken stream's response did not come on the GET stream"
ok "a broken stream's response comes on the GET stream"
assert_contains "$(cat "$T/lbody")" '"id":"late"' "the response keeps its id"
kill "$lpid" 2>/dev/null || true
wait "$lpid" 2>/dev/null || true

# DELETE ends a session (its sandbox destroyed), then 404.
hc "${auth[@]}" -X DELETE "$url"
assert_eq "$CODE" 400 "DELETE without a session id: 400"
hc "${auth[@]}" -X DELETE "${A[@]}" "$url"
assert_eq "$CODE" 200 "DELETE session A: 200"
assert_eq "$(alive)" 1 "DELETE: session A's sandbox is destroyed"
hc "${auth[@]}" "${json[@]}" "${A[@]}" -d "$list" "$url"
assert_eq "$CODE" 404 "after DELETE: 404"
hc "${auth[@]}" -X DELETE "${A[@]}" "$url"
assert_eq "$CODE" 404 "DELETE again: 404"
hc "${auth[@]}" -X PUT "${B[@]}" "$url"
assert_eq "$CODE" 405 "PUT: 405"
hc "${auth[@]}" "${B[@]}" -H 'Accept: application/json' "$url"
assert_eq "$CODE" 406 "GET without Accept: text/event-stream: 406"

# A body over 8 MiB: 413.
head -c $((8 * 1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$T/big"
hc "${auth[@]}" "${json[@]}" "${B[@]}" --data-binary @"$T/big" "$url"
assert_eq "$CODE" 413 "a body over 8 MiB: 413"

# The session cap: --max... is not a CLI option; 8 sessions by default, B is one.
for i in 1 2 3 4 5 6 7; do
        hc "${auth[@]}" "${json[@]}" -H 'Accept: application/json' -d "$init" "$url"
        [ "$CODE" = 200 ] || fail "session $i of 8: $CODE"
done
ok "eight sessions at once"
hc "${auth[@]}" "${json[@]}" -H 'Accept: application/json' -d "$init" "$url"
assert_eq "$CODE" 503 "a ninth session: 503"
OUT=$BODY json_check '"error" in j and j["id"] == 1' "503 with a JSON-RPC error body"

# ---- (4) SIGTERM: exit 0, no sandbox left ----
assert_eq "$(alive)" 1 "before SIGTERM: session B's sandbox (the others made none)"
kill -TERM "$pid"
for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "still running 30 s after SIGTERM"
set +e
wait "$pid"
rc=$?
set -e
RC=$rc
assert_rc 0 "SIGTERM: exit status 0"
assert_eq "$(alive)" 0 "SIGTERM: no sandbox left"

# ---- the token from the environment, a random one, bad addresses ----
BRIDLE_MCP_TOKEN= "$BRIDLE" mcp serve --http 0 --manifest "$T/m.yaml" --policy "$T/p.yaml" 2>"$T/rnd.err" &
pid2=$!
at_exit 'kill -KILL '"$pid2"' 2>/dev/null; wait '"$pid2"' 2>/dev/null'
has_url2() { grep -q 'listening on http://' "$T/rnd.err"; }
wait_until 20 has_url2 || { cat "$T/rnd.err" >&2; fail "PORT form: no URL"; }
assert_match "$(cat "$T/rnd.err")" 'token [0-9a-f]{64}' "no token given: a random 32-byte one printed"
assert_match "$(cat "$T/rnd.err")" 'listening on http://127\.0\.0\.1:' "PORT alone binds 127.0.0.1"
rnd=$(sed -n 's/^bridle mcp: token //p' "$T/rnd.err")
u2=$(sed -n 's/^bridle mcp: listening on \(http:[^ ]*\)$/\1/p' "$T/rnd.err")
hc -H "Authorization: Bearer $rnd" "${json[@]}" -H 'Accept: application/json' -d "$init" "$u2"
assert_eq "$CODE" 200 "the printed token works"
# ---- (2) the inspector's CLI ----
insp=$dir/node_modules/.bin/mcp-inspector
if [ -x "$insp" ]; then
        run timeout 60 "$insp" --cli "$u2" --transport http --header "Authorization: Bearer $rnd" \
                --method tools/list
        assert_rc 0 "inspector --cli over http: tools/list"
        n=$("$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["tools"]))' <<<"$OUT")
        assert_eq "$n" 9 "inspector: nine tools"
        run timeout 60 "$insp" --cli "$u2" --transport http --header "Authorization: Bearer $rnd" \
                --method tools/call --tool-name read_file --tool-arg path=hello.txt
        assert_rc 0 "inspector --cli over http: tools/call read_file"
        assert_contains "$OUT" "hello over http" "inspector: the file's text"
else
        say "inspector not installed: its checks skipped"
fi

kill -TERM "$pid2"
set +e
wait "$pid2"
rc=$?
set -e
RC=$rc
assert_rc 0 "the second server stops on SIGTERM"
assert_eq "$(alive)" 0 "no sandbox left by the second server"

# ---- idle sessions end; the session cap ----
IH=$(mktemp -d "${TMPDIR:-/tmp}/bridle-mcp-idle.XXXXXX")
at_exit 'rm -rf "'"$IH"'"'
ialive() { BRIDLE_HOME=$IH "$BRIDLE" sandbox list 2>/dev/null | grep -c . || true; }
BRIDLE_HOME=$IH "$BRIDLE" mcp serve --http 127.0.0.1:0 --token-file "$T/token" --manifest "$T/m.yaml" \
        --policy "$T/p.yaml" --max-sessions 1 --session-idle 3 2>"$T/idle.err" &
pid4=$!
at_exit 'kill -KILL '"$pid4"' 2>/dev/null; wait '"$pid4"' 2>/dev/null'
has_url4() { grep -q 'listening on http://' "$T/idle.err"; }
wait_until 20 has_url4 || { cat "$T/idle.err" >&2; fail "idle: no URL within 20 s"; }
u4=$(sed -n 's/^bridle mcp: listening on \(http:[^ ]*\)$/\1/p' "$T/idle.err" | head -1)
jm=(-H 'Accept: application/json')
hc "${auth[@]}" "${json[@]}" "${jm[@]}" -d "$init" "$u4"
assert_eq "$CODE" 200 "idle: initialize"
si=$(tr -d '\r' <"$T/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
call='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"exec_command","arguments":{"cmd":"true"}}}'
hc "${auth[@]}" "${json[@]}" "${jm[@]}" -H "Mcp-Session-Id: $si" -d "$call" "$u4"
assert_eq "$CODE" 200 "idle: a call (the session's sandbox is made)"
assert_eq "$(ialive)" 1 "idle: one sandbox while the session lives"
hc "${auth[@]}" "${json[@]}" "${jm[@]}" -d "$init" "$u4"
assert_eq "$CODE" 503 "--max-sessions 1: a second session is 503"
# (watched from outside: a request naming the session would keep it alive)
wait_until 20 sh -c "[ \"\$(BRIDLE_HOME=$IH $BRIDLE sandbox list 2>/dev/null | grep -c .)\" = 0 ]" ||
        fail "idle: the session's sandbox is still there after 20 s"
ok "--session-idle 3: the idle session's sandbox is destroyed"
hc "${auth[@]}" "${json[@]}" "${jm[@]}" -H "Mcp-Session-Id: $si" -d "$list" "$u4"
assert_eq "$CODE" 404 "idle: the ended session's id is 404"
hc "${auth[@]}" "${json[@]}" "${jm[@]}" -d "$init" "$u4"
assert_eq "$CODE" 200 "idle: its slot is free for a new session"
kill -TERM "$pid4"
set +e
wait "$pid4"
RC=$?
set -e
assert_rc 0 "idle: the server stops on SIGTERM"

run "$BRIDLE" mcp serve --http 127.0.0.1:99999 --token-file "$T/token"
assert_rc 1 "a port out of range"
run "$BRIDLE" mcp serve --token-file "$T/token"
assert_rc 2 "--token-file without --http"
run "$BRIDLE" mcp serve --session-idle 5
assert_rc 2 "--session-idle without --http"
run "$BRIDLE" mcp serve --http 0 --max-sessions 0
assert_rc 2 "--max-sessions 0"
printf 'defualt: allow\n' >"$T/bad.yaml"
run "$BRIDLE" mcp serve --http 0 --token-file "$T/token" --policy "$T/bad.yaml"
assert_rc 1 "a bad policy fails before listening"
assert_contains "$ERR" "bad.yaml:1:1" "the policy's error names the place"

# [::1]:PORT, when the host has IPv6 loopback.
BRIDLE_MCP_TOKEN=v6tok "$BRIDLE" mcp serve --http '[::1]:0' 2>"$T/v6.err" &
pid3=$!
at_exit 'kill -KILL '"$pid3"' 2>/dev/null; wait '"$pid3"' 2>/dev/null'
has_url3() { grep -q 'listening on http://' "$T/v6.err" || ! kill -0 "$pid3" 2>/dev/null; }
wait_until 20 has_url3 || fail "[::1]: neither a URL nor an exit within 20 s"
if grep -q 'listening on http://\[::1\]:' "$T/v6.err"; then
        u3=$(sed -n 's/^bridle mcp: listening on \(http:[^ ]*\)$/\1/p' "$T/v6.err")
        hc -H "Authorization: Bearer v6tok" -H 'Origin: http://[::1]:3000' "${json[@]}" -H 'Accept: application/json' \
                -d "$init" "$u3"
        assert_eq "$CODE" 200 "[::1]: initialize with a loopback Origin"
        kill -TERM "$pid3"
        set +e
        wait "$pid3"
        RC=$?
        set -e
        assert_rc 0 "[::1]: stops on SIGTERM"
else
        say "no IPv6 loopback here: $(cat "$T/v6.err")"
fi
say "all $_checks checks passed"
