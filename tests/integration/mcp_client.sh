#!/bin/bash
# SPDX-License-Identifier: MIT
# The MCP client (src/mcp/client.h) through mcp_client_probe: against
# @modelcontextprotocol/server-everything over stdio and streamable HTTP,
# @modelcontextprotocol/server-filesystem on a temp dir, and a scripted
# server (tests/mcp-client/scripted.mjs) for pagination, server requests,
# stale answers and protocol versions; a server killed mid-call; time limits.
# Every wait is bounded (timeout, wait_until).
. "$(dirname "$0")/lib.sh"

PROBE=${1:?usage: mcp_client.sh PROBE}
SRC=${BRIDLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR=$SRC/tests/mcp-client
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps installs it)"
EVERY=$DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js
FS=$DIR/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
[ -f "$EVERY" ] && [ -f "$FS" ] ||
        skip "tests/mcp-client/node_modules is missing (run scripts/install-deps or: cd tests/mcp-client && npm ci)"
need_python

# line N of OUT (1-based) as OUT, for json_check
line() { OUT=$(printf '%s\n' "$ALL" | sed -n "${1}p"); }
probe() {
        run timeout 90 "$PROBE" "$@"
        ALL=$OUT
}

# --- server-everything over stdio
probe --stdio list call echo '{"message":"hi there"}' call get-sum '{"a":2,"b":40}' \
        call get-tiny-image '{}' call get-structured-content '{"location":"New York"}' \
        call no-such-tool '{}' call get-sum '{"a":"x"}' poll 2000 \
        call get-resource-links '{"count":2}' call get-resource-reference '{}' -- node "$EVERY" stdio
assert_rc 0 "stdio: the probe ran"
line 1
json_check 'j["connected"] and j["version"] in ("2025-11-25","2025-06-18","2025-03-26")' "stdio: initialized, a version bridle speaks"
line 2
json_check '"echo" in j["tools"] and "get-sum" in j["tools"] and j["count"] == len(j["tools"])' "stdio: tools/list names echo and get-sum"
line 3
json_check 'j["ok"] and not j["is_error"] and j["text"] == "Echo: hi there"' "stdio: echo"
line 4
json_check 'j["ok"] and "42" in j["text"]' "stdio: get-sum adds"
line 5
json_check 'j["ok"] and "[image/png, " in j["text"] and " bytes]" in j["text"]' "stdio: an image is described as a text line"
line 6
json_check 'j["ok"] and isinstance(j["structured"], dict) and "temperature" in j["structured"]' "stdio: structuredContent comes back"
line 7
json_check 'j["ok"] and j["is_error"] and "no-such-tool" in j["text"]' "stdio: an unknown tool is an isError result"
line 8
json_check 'j["ok"] and j["is_error"]' "stdio: bad arguments are an isError result"
line 9
json_check 'j["changed"] is True' "stdio: notifications/tools/list_changed (tools added after initialize) sets the flag"
line 10
json_check 'j["ok"] and j["text"].count("[resource demo://") == 2' "stdio: resource links as [resource URI] lines"
line 11
json_check 'j["ok"] and "[resource demo://resource/dynamic/text/1]\nResource 1:" in j["text"]' "stdio: an embedded resource: its URI line, then its text"

# --- a call over its time limit, then the connection still works
probe --timeout 1500 --stdio call trigger-long-running-operation '{"duration":4,"steps":2}' poll 3500 \
        call echo '{"message":"after"}' -- node "$EVERY" stdio
line 2
json_check 'not j["ok"] and j["code"] == -1004 and "no answer in 1500 ms" in j["error"]' "stdio: a call over its time limit is BRIDLE_E_TIMEOUT"
line 4
json_check 'j["ok"] and j["text"] == "Echo: after"' "stdio: the late answer is dropped, the next call is matched by its id"

# --- the server killed mid-call
rm -f "$T/pid"
(
        wait_until 30 test -s "$T/pid" && sleep 1.5 && kill -9 "$(cat "$T/pid")"
) &
killer=$!
probe --stdio call trigger-long-running-operation '{"duration":20,"steps":2}' call echo '{"message":"x"}' \
        -- sh -c 'echo $$ >"$0"; exec node "$1" stdio' "$T/pid" "$EVERY"
wait "$killer" || true
line 2
json_check 'not j["ok"] and j["code"] == -1008 and "was killed by signal SIGKILL" in j["error"]' "stdio: a server killed mid-call is a clear error naming the signal"
line 3
json_check 'not j["ok"] and "SIGKILL" in j["error"]' "stdio: later calls say the same"

# --- start-up failures
probe --stdio list -- sh -c 'read l; echo "cannot start: no config" >&2; exit 3'
assert_rc 1 "exit at start-up: the probe fails"
json_check 'not j["connected"] and "exited with status 3" in j["error"] and "no config" in j["error"]' "exit at start-up: the status and the stderr tail"
probe --stdio list -- /nonexistent/mcp-server
json_check 'not j["connected"] and "/nonexistent/mcp-server" in j["error"]' "a missing command is named"
probe --timeout 1000 --stdio list -- node "$DIR/scripted.mjs" silent
json_check 'not j["connected"] and j["code"] == -1004' "a server that never answers initialize: start-up timeout"
probe --stdio list -- node "$DIR/scripted.mjs" version 2024-11-05
json_check 'not j["connected"] and j["code"] == -1006 and "2024-11-05" in j["error"]' "an unsupported protocol version is refused, named"
probe --stdio list -- node "$DIR/scripted.mjs" version 2025-03-26
line 1
json_check 'j["connected"] and j["version"] == "2025-03-26"' "2025-03-26 is accepted"

# --- the scripted server: pages, server requests, stale answers
probe --stdio list -- node "$DIR/scripted.mjs" paged
line 2
json_check 'j["tools"] == ["a", "b", "ping_answered", "unknown_refused"]' "three pages followed; a nameless tool dropped; ping answered {}; an unknown request refused -32601; a stale answer ignored"
json_check 'j["changed"] is True' "list_changed during a listing keeps the flag"
probe --stdio list -- node "$DIR/scripted.mjs" endless
line 2
json_check 'not j["ok"] and j["code"] == -1003 and "64 pages" in j["error"]' "endless pagination stops at the page cap"

# --- server-filesystem on a temp dir
mkdir -p "$T/fs/sub"
printf 'hello mcp\n' >"$T/fs/a.txt"
probe --stdio list call read_text_file "{\"path\":\"$T/fs/a.txt\"}" call list_directory "{\"path\":\"$T/fs\"}" \
        call read_text_file '{"path":"/etc/passwd"}' -- node "$FS" "$T/fs"
line 2
json_check '"read_text_file" in j["tools"] and "list_directory" in j["tools"]' "filesystem: tools listed"
line 3
json_check 'j["ok"] and not j["is_error"] and j["text"].startswith("hello mcp")' "filesystem: a file read"
line 4
json_check 'j["ok"] and "a.txt" in j["text"] and "sub" in j["text"]' "filesystem: a directory listed"
line 5
json_check 'j["ok"] and j["is_error"]' "filesystem: a path outside the allowed dir is an isError result"

# --- the tools in a registry (bridle__mcp_bridge_add): <server>__<tool>, schema checks, isError as an error result
probe --stdio bridge fs tcall fs__read_text_file "{\"path\":\"$T/fs/a.txt\"}" \
        tcall fs__read_text_file '{"path":"/etc/passwd"}' tcall fs__read_text_file '{}' \
        -- node "$FS" "$T/fs"
line 2
json_check '"fs__read_text_file" in j["defs"] and all(n.startswith("fs__") for n in j["defs"])' "bridge: tools named <server>__<tool>"
line 3
json_check 'j["ok"] and j["output"].startswith("hello mcp")' "bridge: a call through the registry"
line 4
json_check 'not j["ok"] and j["output"].startswith("error: ") and "/etc/passwd" in j["output"]' "bridge: isError is an error result with the server's text"
line 5
json_check 'not j["ok"] and "arguments.path" in j["output"]' "bridge: the server's inputSchema checks the arguments before the call"

# --- server-everything over streamable HTTP on loopback
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PORT=$port node "$EVERY" streamableHttp >"$T/http.log" 2>&1 &
hpid=$!
at_exit "kill $hpid 2>/dev/null"
wait_until 30 grep -q "listening on port" "$T/http.log" || { cat "$T/http.log" >&2; fail "the HTTP server did not start"; }
probe --http "http://127.0.0.1:$port/mcp" list call echo '{"message":"over http"}' call get-tiny-image '{}' \
        call get-structured-content '{"location":"Chicago"}' call no-such-tool '{}' \
        call trigger-long-running-operation '{"duration":1,"steps":2}'
assert_rc 0 "http: the probe ran"
line 1
json_check 'j["connected"] and j["version"] == "2025-11-25"' "http: initialized"
line 2
json_check '"echo" in j["tools"]' "http: tools/list"
line 3
json_check 'j["ok"] and j["text"] == "Echo: over http"' "http: echo"
line 4
json_check 'j["ok"] and "[image/png, " in j["text"]' "http: an image"
line 5
json_check 'j["ok"] and "temperature" in j["structured"]' "http: structuredContent"
line 6
json_check 'j["ok"] and j["is_error"]' "http: isError"
line 7
json_check 'j["ok"] and "completed" in j["text"]' "http: a call answered on an SSE stream with progress before it"
assert_contains "$(cat "$T/http.log")" "session termination" "http: the session is ended with DELETE at close"

# the HTTP server killed mid-call
(sleep 1.5 && kill -9 "$hpid") &
killer=$!
probe --http "http://127.0.0.1:$port/mcp" call trigger-long-running-operation '{"duration":20,"steps":2}'
wait "$killer" || true
line 2
json_check 'not j["ok"] and "HTTP request failed" in j["error"]' "http: a server killed mid-call is a clear error"
probe --http "http://127.0.0.1:$port/mcp" list
json_check 'not j["connected"] and "Failed to connect" in j["error"]' "http: nothing listening: the connection error"

say "all $_checks checks passed"
