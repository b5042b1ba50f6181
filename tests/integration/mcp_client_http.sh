#!/bin/bash
# SPDX-License-Identifier: MIT
# The MCP client's streamable HTTP transport (src/mcp/transport_http.c)
# through mcp_client_probe: a scripted server (tests/mcp-client/scripted_http.mjs)
# for the GET stream (server messages, a ping answered, reopening with
# Last-Event-ID after retry:), the resumption of a broken or closed answer
# stream with Last-Event-ID, streams that cannot be resumed, a server without
# a GET stream (405: no retry storm) or one that ends at once (bounded
# reopens), DELETE at close; then
# @modelcontextprotocol/server-everything, whose list_changed comes over the
# GET stream. Every wait is bounded (timeout, wait_until).
. "$(dirname "$0")/lib.sh"

PROBE=${1:?usage: mcp_client_http.sh PROBE}
SRC=${BRIDLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR=$SRC/tests/mcp-client
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps installs it)"
EVERY=$DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[ -f "$EVERY" ] ||
        skip "tests/mcp-client/node_modules is missing (run scripts/install-deps or: cd tests/mcp-client && npm ci)"
need_python

# line N of the probe's output as OUT, for json_check
line() { OUT=$(printf '%s\n' "$ALL" | sed -n "${1}p"); }
probe() {
        run timeout 90 "$PROBE" "$@"
        ALL=$OUT
}
# the scripted server in MODE: its port in PORT, its request log in $T/MODE.log
server() {
        local mode=$1
        node "$DIR/scripted_http.mjs" "$mode" >"$T/$mode.log" 2>&1 &
        SPID=$!
        at_exit "kill $SPID 2>/dev/null"
        wait_until 30 grep -q '"port"' "$T/$mode.log" || { cat "$T/$mode.log" >&2; fail "$mode: the server did not start"; }
        PORT=$(sed -n 1p "$T/$mode.log" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["port"])')
        URL="http://127.0.0.1:$PORT/mcp"
}
stop() { kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null || true; }
# the requests a server saw, as a JSON list in OUT (L in json_check is that list)
seen() { OUT=$("$PY" -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1]) if l.strip()][1:]))' "$T/$1.log"); }

# --- resume: answer streams with event ids resumed with a GET and Last-Event-ID
server resume
probe --timeout 15000 --header 'X-Test: yes' --http "$URL" call resumable '{}' call closed '{}' \
        call unresumable '{}' call echo '{"message":"after"}'
assert_rc 0 "resume: the probe ran"
line 1
json_check 'j["connected"] and j["version"] == "2025-11-25"' "resume: initialized"
line 2
json_check 'j["ok"] and not j["is_error"] and j["text"] == "resumed answer"' "resume: a dropped answer stream is resumed and its answer arrives"
line 3
json_check 'j["ok"] and j["text"] == "polled answer"' "resume: a stream the server closed cleanly (polling) is resumed too"
line 4
json_check 'not j["ok"] and j["code"] == -1008 and "failed 3 times" in j["error"] and "the answer stream broke" in j["error"] and "Empty reply" in j["error"]' "resume: a stream whose resumption keeps failing: an error after 3 attempts, naming what happened"
line 5
json_check 'j["ok"] and j["text"] == "echo: after"' "resume: the next call still works"
stop
seen resume
json_check '[r["lei"] for r in j if r["m"] == "GET" and r["lei"] and r["lei"][0] in "rc"] == ["r-2", "c-1"]' "resume: the server saw Last-Event-ID r-2 (the last id before the drop), then c-1"
json_check 'len([r for r in j if r["m"] == "GET" and r["lei"] == "u-1"]) == 3' "resume: exactly 3 attempts for the stream that cannot be resumed"
json_check 'all(r["sid"] == "sess-42" and r["ver"] == "2025-11-25" and r["accept"] == "text/event-stream" and r["x"] == "yes" for r in j if r["m"] == "GET")' "resume: every GET has the session id, the protocol version, Accept: text/event-stream and the caller's headers"
json_check 'len([r for r in j if r["m"] == "GET" and r["lei"] is None]) == 1' "resume: one GET stream for server messages, opened once the session is established"
json_check '[r["sid"] for r in j if r["m"] == "DELETE"] == ["sess-42"]' "resume: DELETE with the session id at close"

# --- get: server messages over the GET stream, a ping answered, the stream reopened with Last-Event-ID
server get
probe --timeout 15000 --http "$URL" poll 4000 call echo '{"message":"x"}'
assert_rc 0 "get: the probe ran"
line 2
json_check 'j["changed"] is True' "get: notifications/tools/list_changed over the GET stream sets the flag"
line 3
json_check 'j["ok"] and j["text"] == "echo: x"' "get: calls work with the GET stream open"
stop
seen get
json_check 'any(r["m"] == "POST" and r["rpc"] == "answer:srv-ping-1" and r["sid"] == "sess-42" for r in j)' "get: the server's ping over the GET stream is answered with a POST"
json_check '[r["lei"] for r in j if r["m"] == "GET"] == [None, "g-3"]' "get: the ended GET stream is reopened once, with Last-Event-ID g-3"
json_check 'len([r for r in j if r["m"] == "DELETE"]) == 1' "get: DELETE at close"

# --- noresume: streams without event ids cannot be resumed: the call fails at once
server noresume
probe --timeout 15000 --http "$URL" call cut '{}' call gone '{}' call echo '{"message":"still"}'
assert_rc 0 "noresume: the probe ran"
line 2
json_check 'not j["ok"] and j["code"] == -1008 and "the answer stream broke" in j["error"] and "no event ids" in j["error"]' "noresume: a stream without ids broken mid-way is a clear error (not a time-out)"
line 3
json_check 'not j["ok"] and j["code"] == -1008 and "closed the answer stream without an answer" in j["error"]' "noresume: a stream closed without the answer is a clear error"
line 4
json_check 'j["ok"] and j["text"] == "echo: still"' "noresume: the next call works"
stop
seen noresume
json_check 'len([r for r in j if r["m"] == "GET" and r["lei"] is not None]) == 0' "noresume: no resumption is tried without event ids"

# --- noget: GET 405, no retry storm; DELETE 405 is fine
server noget
probe --timeout 15000 --http "$URL" list call echo '{}' poll 2500 call echo '{"message":"y"}'
assert_rc 0 "noget: the probe ran (a DELETE answered 405 included)"
line 2
json_check 'j["count"] == 6' "noget: tools/list"
line 5
json_check 'j["ok"] and j["text"] == "echo: y"' "noget: calls work without a GET stream"
line 4
json_check 'j["changed"] is False' "noget: poll returns"
stop
seen noget
json_check 'len([r for r in j if r["m"] == "GET"]) == 1' "noget: one GET, never retried after 405"

# --- flap: a GET stream that ends at once, again and again: reopened at most 4 times a minute
server flap
probe --timeout 15000 --http "$URL" poll 3000 call echo '{"message":"z"}'
assert_rc 0 "flap: the probe ran"
line 3
json_check 'j["ok"] and j["text"] == "echo: z"' "flap: calls work"
stop
seen flap
json_check '[r["lei"] for r in j if r["m"] == "GET"] == [None, "f-1", "f-2", "f-3"]' "flap: 4 GETs in the first minute (each with the last id), then no more: no reopen storm"

# --- server-everything over streamable HTTP: list_changed comes over the GET stream
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PORT=$port node "$EVERY" streamableHttp >"$T/every.log" 2>&1 &
hpid=$!
at_exit "kill $hpid 2>/dev/null"
wait_until 30 grep -q "listening on port" "$T/every.log" || { cat "$T/every.log" >&2; fail "the HTTP server did not start"; }
probe --http "http://127.0.0.1:$port/mcp" poll 3000 list call echo '{"message":"get stream"}'
assert_rc 0 "everything: the probe ran"
line 2
json_check 'j["changed"] is True' "everything: list_changed (tools added on initialized, with no request in flight) arrives over the GET stream"
line 3
json_check '"echo" in j["tools"] and j["changed"] is False' "everything: re-listed"
line 4
json_check 'j["ok"] and j["text"] == "Echo: get stream"' "everything: a call with the GET stream open"
assert_contains "$(cat "$T/every.log")" "Establishing new SSE stream" "everything: the GET stream was opened"
assert_contains "$(cat "$T/every.log")" "session termination" "everything: DELETE at close"
kill "$hpid" 2>/dev/null || true

say "all $_checks checks passed"
