#!/bin/bash
# SPDX-License-Identifier: MIT
# Agents using MCP servers (issue 8, docs/mcp.md "Agents using MCP servers"):
# the real CLI, the scripted model, a real sandbox and real MCP servers from
# npm (tests/mcp-client):
# (a) server-filesystem run INSIDE the sandbox (the default) writes a file the
#     agent's read_file sees; it cannot read a host file; server-everything on
#     the host (trusted: true); mcp.connected events say where each runs;
# (b) policy rules by tool (tools.t__note: deny) and by server (tools.t__*:
#     ask): a refusal naming the rule; a deferred approval, approved, resumed;
# (c) a server that dies: a clear tool error (status, stderr), the next call
#     starts it again; notifications/tools/list_changed: a tool added later
#     can be called on the next turn;
# (d) kill -9 during a call of a host server's writing tool: resume asks a
#     person (its effect is outside the sandbox), deny: not run again;
# (e) bad mcp_servers entries: exit 2, FILE:LINE:COL and the key;
# (f) server-everything over streamable HTTP with an Authorization header
#     from ${VAR}: a missing variable is a clear error; the token is not
#     journaled;
# (g) a call over the server's time limit; tools: narrows what is offered;
# (h) a server that never answers initialize, a command not in the sandbox;
# (i) list_changed from a server that then cannot start again: a warning,
#     its tools left out, the run goes on;
# (j) recovery.server_lost: stop: the run stops after the call, resume goes on.
# Every wait is bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

NM=$SRC/tests/mcp-client/node_modules
EVERY=$NM/@modelcontextprotocol/server-everything/dist/index.js
FS=@modelcontextprotocol/server-filesystem/dist/index.js
TOOLS=$SRC/tests/mcp-client/tools.mjs
[ -f "$EVERY" ] && [ -f "$NM/$FS" ] ||
        skip "tests/mcp-client/node_modules is missing (run scripts/install-deps or: cd tests/mcp-client && npm ci)"
NODE=$(command -v node)

# The MCP packages are bound read-only into the sandbox at node_modules/
# (node finds packages by that name); node itself is the host's /usr.
cat >"$T/mcp-manifest.yaml" <<EOF
version: 1
entries:
  - {type: local_dir, path: node_modules, source: $NM, read_only: true}
  - {type: file, path: notes.txt, content: "hello from the workspace\n"}
network: none
limits: {timeout: 300, memory: 1G, pids: 128}
EOF

# magent FILE SCRIPT POLICY [EXTRA YAML LINES...]: a scripted agent with read_file.
magent() {
        local f=$1 script=$2 policy=$3
        shift 3
        {
                printf 'name: mcpagent\nmodel: test-model\nprovider: scripted\n'
                printf 'script: %s\npolicy: %s\nmanifest: %s\n' "$script" "$policy" "$T/mcp-manifest.yaml"
                printf 'instructions: Use the tools.\ntools: [read_file]\nmax_turns: 12\n'
                local l
                for l in "$@"; do printf '%s\n' "$l"; done
        } >"$f"
}
T_SERVER="  - {name: t, command: [$NODE, $TOOLS], trusted: true, env: {NOTE_FILE: \"$T/notes.log\"}}"

##############################################################################
say "# (a) a server in the sandbox, a server on the host"
echo "host only" >"$T/host-secret.txt"
cat >"$T/a.yaml" <<EOF
- - {type: function_call, name: every__echo, call_id: c1, arguments: {message: "hi"}}
  - {type: function_call, name: fs__read_text_file, call_id: c2, arguments: {path: /workspace/notes.txt}}
  - {type: function_call, name: fs__write_file, call_id: c3, arguments: {path: /workspace/made.txt, content: "by mcp"}}
  - {type: function_call, name: fs__read_text_file, call_id: c4, arguments: {path: "$T/host-secret.txt"}}
- - {type: function_call, name: read_file, call_id: c5, arguments: {path: made.txt}}
- - {type: message, content: "done"}
EOF
magent "$T/agent-a.yaml" "$T/a.yaml" "$T/allow-all.yaml" "mcp_servers:" \
        "  - {name: every, command: [$NODE, $EVERY, stdio], trusted: true}" \
        "  - {name: fs, command: [node, /workspace/node_modules/$FS, /]}"
run timeout 120 "$BRIDLE" run --agent "$T/agent-a.yaml" --journal "$JOURNAL" "Use MCP"
assert_rc 0 "(a) the run completes"
assert_eq "$OUT" "done" "(a) the final answer"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(a) mcp.connected: every on the host, fs in the sandbox, each once" '
c = {e["data"]["server"]: e["data"] for e in of("mcp.connected")}
ok = len(of("mcp.connected")) == 2 and c["every"]["where"] == "host" and c["fs"]["where"] == "sandbox"
ok = ok and c["fs"]["server_name"] == "secure-filesystem-server" and c["every"]["version"] in ("2025-11-25", "2025-06-18", "2025-03-26")
why = c'
pycheck "(a) echo over stdio on the host; fs reads and writes the workspace inside the sandbox; read_file sees its file" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
o = lambda c: f[c]["output_item"]["output"]
ok = o("c1") == "Echo: hi" and o("c2") == "hello from the workspace\n" and f["c3"]["ok"] and o("c5") == "by mcp"
why = f'
pycheck "(a) the server in the sandbox cannot read a host file (an isError result, ok false)" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = not f["c4"]["ok"] and f["c4"]["output_item"]["output"].startswith("error: ") and "host only" not in f["c4"]["output_item"]["output"]
why = f["c4"]'
pycheck "(a) the MCP tools pass the gateway like any other (a decision each)" '
d = {e["data"]["call_id"]: e["data"] for e in of("gateway.decision")}
ok = all(d.get(c, {}).get("decision") == "allow" for c in ("c1", "c2", "c3", "c4", "c5"))
why = d'
pycheck "(a) fs__write_file (no readOnlyHint, in the sandbox) is a writing call; fs__read_text_file is not" '
s = {e["data"]["call_id"]: e["data"] for e in of("tool.started")}
ok = s["c3"]["writes"] is True and s["c2"]["writes"] is False and s["c1"]["writes"] is False
why = s'

##############################################################################
say "# (b) policy rules by tool and by server"
cat >"$T/pol-b.yaml" <<'EOF'
default: allow
tools:
  t__note: deny
  t__*: ask
EOF
cat >"$T/b.yaml" <<'EOF'
- - {type: function_call, name: t__note, call_id: b1, arguments: {text: "denied note"}}
  - {type: function_call, name: t__add, call_id: b2, arguments: {a: 2, b: 3}}
- - {type: message, content: "b done"}
EOF
magent "$T/agent-b.yaml" "$T/b.yaml" "$T/pol-b.yaml" "mcp_servers:" "$T_SERVER"
: >"$T/notes.log"
run timeout 120 "$BRIDLE" run --agent "$T/agent-b.yaml" --journal "$JOURNAL" "Policy"
assert_rc 4 "(b) a call that asks: the run waits (exit 4)"
RUN=$(run_id_of "$ERR")
assert_not_contains "$ERR" "a rule for a tool the agent does not have" "(b) no warning for tools.t__* or tools.t__note"
run "$BRIDLE" approvals "$RUN" --json --journal "$JOURNAL"
assert_contains "$OUT" '"b2"' "(b) bridle approvals lists the server's call"
assert_contains "$OUT" 'tools.t__*' "(b) ... with the server's rule"
run "$BRIDLE" approve --journal "$JOURNAL" "$RUN" b2
assert_rc 0 "(b) approve"
resume "$RUN"
assert_rc 0 "(b) resume completes"
events "$RUN"
pycheck "(b) t__note denied by tools.t__note (refusal to the model), t__add ran after approval" '
d = {e["data"]["call_id"]: e["data"] for e in of("gateway.decision")}
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = d["b1"]["decision"] == "deny" and d["b1"]["rule"] == "tools.t__note" and d["b2"]["rule"] == "tools.t__*"
s = {e["data"]["call_id"]: e["data"] for e in of("tool.started")}
ok = ok and s["b2"].get("outside") is None and s["b2"]["writes"] is False
ok = ok and not f["b1"]["ok"] and f["b2"]["ok"] and f["b2"]["output_item"]["output"] == "5"
why = (d, f)'
assert_not_contains "$(cat "$T/notes.log")" "denied note" "(b) the denied call never reached the server"

##############################################################################
say "# (c) a server that dies, a server whose tools change"
cat >"$T/c.yaml" <<'EOF'
- - {type: function_call, name: t__crash, call_id: d1, arguments: {}}
- - {type: function_call, name: t__add, call_id: d2, arguments: {a: 20, b: 22}}
- - {type: function_call, name: t__grow, call_id: d3, arguments: {}}
- - {type: function_call, name: t__extra, call_id: d4, arguments: {}}
- - {type: message, content: "c done"}
EOF
magent "$T/agent-c.yaml" "$T/c.yaml" "$T/allow-all.yaml" "mcp_servers:" "$T_SERVER"
: >"$T/notes.log"
run timeout 120 "$BRIDLE" run --agent "$T/agent-c.yaml" --journal "$JOURNAL" "Crash and grow"
assert_rc 0 "(c) the run goes on after the server died, and completes"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(c) the death is a tool error naming the exit status and the server's stderr" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
o = f["d1"]["output_item"]["output"]
ok = not f["d1"]["ok"] and "exited with status 3" in o and "crashing on purpose" in o and "t" in o
why = o'
pycheck "(c) the next call started it again (mcp.connected start 2) and worked" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
c = [e["data"]["start"] for e in of("mcp.connected")]
ok = c == [1, 2] and f["d2"]["ok"] and f["d2"]["output_item"]["output"] == "42"
why = (c, f["d2"])'
pycheck "(c) list_changed: mcp.tools_changed, and the added tool t__extra was callable on the next turn" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = len(of("mcp.tools_changed")) >= 1 and f["d4"]["ok"] and f["d4"]["output_item"]["output"] == "extra works"
why = (types(), f["d4"])'
assert_eq "$(grep -c started "$T/notes.log")" 2 "(c) the server process was started twice"

##############################################################################
say "# (d) kill -9 inside a host server's writing call: a person decides"
cat >"$T/d.yaml" <<'EOF'
- - {type: function_call, name: t__slow, call_id: s1, arguments: {text: "one"}}
- - {type: message, content: "d done"}
EOF
magent "$T/agent-d.yaml" "$T/d.yaml" "$T/allow-all.yaml" "mcp_servers:" "$T_SERVER"
: >"$T/notes.log"
"$BRIDLE" run --journal "$JOURNAL" --agent "$T/agent-d.yaml" "Slow" >"$T/d.stdout" 2>"$T/d.stderr" </dev/null &
BP=$!
at_exit "kill -9 $BP 2>/dev/null"
wait_until 60 grep -q "start one" "$T/notes.log" || { cat "$T/d.stderr" >&2; fail "(d) the slow call did not start in 60 s"; }
RUN=$(run_id_of "$(cat "$T/d.stderr")")
kill -9 "$BP"
wait "$BP" 2>/dev/null || true
# the host server the killed harness left behind (its stdin closed; it
# waits for its timer): only this test's, by the pid it noted
spid=$(sed -n 's/^started \([0-9]*\)$/\1/p' "$T/notes.log" | tail -n 1)
[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null || true
resume "$RUN"
assert_rc 4 "(d) resume asks about the call in doubt (recovery.in_doubt is rerun, but its effect is outside)"
events "$RUN"
pycheck "(d) approval.requested in-doubt:s1, saying the effect is outside the sandbox; not run again yet" '
a = [e["data"] for e in of("approval.requested")]
ok = [x["call_id"] for x in a] == ["in-doubt:s1"] and "outside the sandbox" in a[0]["reason"]
why = a'
run "$BRIDLE" deny --journal "$JOURNAL" "$RUN" in-doubt:s1
assert_rc 0 "(d) deny the in-doubt call"
resume "$RUN"
assert_rc 0 "(d) resume completes"
assert_eq "$OUT" "d done" "(d) the final answer"
assert_eq "$(grep -c "start one" "$T/notes.log")" 1 "(d) the call was not run again"

##############################################################################
say "# (e) bad mcp_servers entries"
bad() {
        local what=$1 want=$2
        shift 2
        magent "$T/bad.yaml" "$T/d.yaml" "$T/allow-all.yaml" "mcp_servers:" "$@"
        run "$BRIDLE" run --agent "$T/bad.yaml" --journal "$JOURNAL" "x"
        assert_rc 2 "(e) $what: exit 2"
        assert_match "$ERR" "bad\.yaml:[0-9]+:[0-9]+: .*$want" "(e) $what: FILE:LINE:COL and the key"
}
bad "a name with __" "mcp_servers\[0\]\.name" "  - {name: a__b, command: [x]}"
bad "command and url" "mcp_servers\[0\]" "  - {name: a, command: [x], url: 'http://127.0.0.1:1/mcp'}"
bad "\${VAR} in the env of a sandbox server" "mcp_servers\[0\]\.env\.K.*trusted" "  - {name: a, command: [x], env: {K: '\${HOME}'}}"
bad "an unknown key" "unknown key 'comand'" "  - {name: a, comand: [x]}"
bad "the same name twice" "given twice" "  - {name: a, command: [x]}" "  - {name: a, command: [y]}"

##############################################################################
say "# (f) server-everything over streamable HTTP, a header from the environment"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PORT=$port node "$EVERY" streamableHttp >"$T/http.log" 2>&1 &
hpid=$!
at_exit "kill $hpid 2>/dev/null"
wait_until 30 grep -q "listening on port" "$T/http.log" || { cat "$T/http.log" >&2; fail "(f) the HTTP server did not start"; }
cat >"$T/f.yaml" <<'EOF'
- - {type: function_call, name: remote__echo, call_id: h1, arguments: {message: "over http"}}
- - {type: message, content: "f done"}
EOF
magent "$T/agent-f.yaml" "$T/f.yaml" "$T/allow-all.yaml" "mcp_servers:" \
        "  - {name: remote, url: 'http://127.0.0.1:$port/mcp', headers: {Authorization: 'Bearer \${MCP_TEST_TOKEN}'}}"
unset MCP_TEST_TOKEN
run timeout 120 "$BRIDLE" run --agent "$T/agent-f.yaml" --journal "$JOURNAL" "Remote"
assert_rc 3 "(f) without the variable the run stops (exit 3: set it and resume)"
assert_contains "$ERR" 'headers.Authorization: $MCP_TEST_TOKEN is not set' "(f) ... saying which header and variable"
run timeout 120 env MCP_TEST_TOKEN=canary-token-8d1e "$BRIDLE" run --agent "$T/agent-f.yaml" --journal "$JOURNAL" "Remote"
assert_rc 0 "(f) with it the run completes"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(f) echo over streamable HTTP; mcp.connected where http" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
c = of("mcp.connected")
ok = f["h1"]["ok"] and f["h1"]["output_item"]["output"] == "Echo: over http" and c[0]["data"]["where"] == "http"
why = (f, c)'
assert_not_contains "$(cat "$T/events.jsonl")" "canary-token-8d1e" "(f) the token is not in the journal"
assert_contains "$(cat "$T/events.jsonl")" 'Bearer ${MCP_TEST_TOKEN}' "(f) the agent is journaled as written"

##############################################################################
say "# (g) a call's time limit, and a server's tools narrowed with tools:"
cat >"$T/g.yaml" <<'EOF'
- - {type: function_call, name: t__slow, call_id: g1, arguments: {text: "two"}}
- - {type: function_call, name: t__add, call_id: g2, arguments: {a: 1, b: 1}}
  - {type: function_call, name: t__note, call_id: g3, arguments: {text: "not offered"}}
- - {type: message, content: "g done"}
EOF
magent "$T/agent-g.yaml" "$T/g.yaml" "$T/allow-all.yaml" "mcp_servers:" \
        "  - {name: t, command: [$NODE, $TOOLS], trusted: true, timeout: 1.5, tools: [slow, add, sloow], env: {NOTE_FILE: \"$T/notes.log\"}}"
: >"$T/notes.log"
run timeout 120 "$BRIDLE" run --agent "$T/agent-g.yaml" --journal "$JOURNAL" "Time limits"
assert_rc 0 "(g) the run completes"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(g) t__slow over its 1.5 s limit: an error naming the time; the server still answers t__add" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = not f["g1"]["ok"] and "no answer in 1500 ms" in f["g1"]["output_item"]["output"] and f["g2"]["ok"] and f["g2"]["output_item"]["output"] == "2"
why = f'
pycheck "(g) tools: [slow, add] offers only those: t__note is an unknown tool" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = not f["g3"]["ok"] and "t__note" in f["g3"]["output_item"]["output"]
why = f["g3"]'
assert_not_contains "$(cat "$T/notes.log")" "not offered" "(g) the tool left out never ran"
pycheck "(g) a name in tools: that the server does not offer is a run.warning" '
w = [e["data"]["message"] for e in of("run.warning")]
ok = any("has no tool \x27sloow\x27" in m for m in w)
why = w'

##############################################################################
say "# (h) servers that do not start"
magent "$T/agent-h1.yaml" "$T/g.yaml" "$T/allow-all.yaml" "mcp_servers:" \
        "  - {name: mute, command: [$NODE, $SRC/tests/mcp-client/scripted.mjs, silent], trusted: true, startup_timeout: 1}"
run timeout 60 "$BRIDLE" run --agent "$T/agent-h1.yaml" --journal "$JOURNAL" "Silent"
assert_rc 3 "(h) a server that never answers initialize: the run stops, resumable (exit 3)"
assert_contains "$ERR" "mcp server 'mute'" "(h) ... naming the server"
assert_contains "$ERR" "no answer in 1000 ms" "(h) ... and its start-up time limit"
magent "$T/agent-h2.yaml" "$T/g.yaml" "$T/allow-all.yaml" "mcp_servers:" \
        "  - {name: gone, command: [/no/such/server, stdio]}"
run timeout 60 "$BRIDLE" run --agent "$T/agent-h2.yaml" --journal "$JOURNAL" "Missing"
assert_rc 3 "(h) a sandbox server whose command is not in the sandbox: the run stops (exit 3)"
assert_contains "$ERR" "mcp server 'gone'" "(h) ... naming the server"
assert_contains "$ERR" "(in the sandbox) could not be started (status 127" "(h) ... and that it could not start in the sandbox"
assert_contains "$ERR" "bridle resume" "(h) ... and says how to go on once it is fixed"

##############################################################################
say "# (i) a server that says its tools changed, then cannot be started again"
cat >"$T/i.yaml" <<'EOF'
- - {type: function_call, name: t__vanish, call_id: v1, arguments: {}}
- - {type: function_call, name: t__add, call_id: v2, arguments: {a: 1, b: 2}}
- - {type: message, content: "i done"}
EOF
magent "$T/agent-i.yaml" "$T/i.yaml" "$T/allow-all.yaml" "mcp_servers:" "$T_SERVER"
: >"$T/notes.log"
rm -f "$T/notes.log.gone"
run timeout 120 "$BRIDLE" run --agent "$T/agent-i.yaml" --journal "$JOURNAL" "Vanish"
assert_rc 0 "(i) the run goes on without the server's tools, and completes"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(i) a run.warning names the server that could not be listed again; its tool is then unknown" '
w = [e["data"]["message"] for e in of("run.warning")]
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = any("refusing to start" in m for m in w) and f["v1"]["ok"] and not f["v2"]["ok"] and "t__add" in f["v2"]["output_item"]["output"]
why = (w, f)'

##############################################################################
say "# (j) recovery.server_lost: stop"
printf 'default: allow\nrecovery: {server_lost: stop}\n' >"$T/pol-j.yaml"
magent "$T/agent-j.yaml" "$T/c.yaml" "$T/pol-j.yaml" "mcp_servers:" "$T_SERVER"
: >"$T/notes.log"
rm -f "$T/notes.log.gone"
run timeout 120 "$BRIDLE" run --agent "$T/agent-j.yaml" --journal "$JOURNAL" "Crash and stop"
assert_rc 3 "(j) a server that died under a call stops the run (exit 3, resumable)"
RUN=$(run_id_of "$ERR")
assert_contains "$ERR" "mcp server 't' died under 't__crash'" "(j) ... saying which server and call"
assert_contains "$ERR" "recovery.server_lost: stop" "(j) ... and the rule"
assert_eq "$(grep -c started "$T/notes.log")" 1 "(j) it was not started again in that process"
resume "$RUN"
assert_rc 0 "(j) resume starts the server again and completes"
events "$RUN"
pycheck "(j) after the resume t__add ran (42) on a server started afresh" '
f = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = not f["d1"]["ok"] and f["d2"]["ok"] and f["d2"]["output_item"]["output"] == "42" and len(of("mcp.connected")) == 2
why = f'

bugs_end
