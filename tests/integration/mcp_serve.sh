#!/bin/bash
# SPDX-License-Identifier: MIT
# `bridle mcp serve` against the official MCP TypeScript SDK client
# (tests/mcp/client.mjs: every tool, deny, ask through elicitation), raw
# malformed JSON-RPC (tests/mcp/raw.mjs: the error codes) and the inspector's
# CLI mode; no sandbox is left behind. Skips (77) without node or
# tests/mcp/node_modules (scripts/install-deps runs npm ci there).
. "$(dirname "$0")/lib.sh"

dir=$(cd "$(dirname "$0")/../mcp" && pwd)
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps)"
[ -d "$dir/node_modules/@modelcontextprotocol/sdk" ] || skip "tests/mcp/node_modules is missing (run scripts/install-deps)"

BRIDLE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/bridle-mcp-serve.XXXXXX")
export BRIDLE_HOME
at_exit 'rm -rf "$BRIDLE_HOME"'
alive() { "$BRIDLE" sandbox list 2>/dev/null | grep -c . || true; }

run timeout 120 node "$dir/client.mjs" "$BRIDLE" "$T"
assert_rc 0 "the SDK client: every tool, deny, ask, elicitation, errors"
assert_eq "$(alive)" 0 "no sandbox left after the SDK client's sessions"

run timeout 60 node "$dir/raw.mjs" "$BRIDLE"
assert_rc 0 "raw JSON-RPC: malformed input answered with the right codes"

insp=$dir/node_modules/.bin/mcp-inspector
if [ -x "$insp" ]; then
        printf 'version: 1\nentries:\n  - {type: file, path: hello.txt, content: "from the inspector\\n"}\n' >"$T/m.yaml"
        printf 'tools: {read_file: allow}\n' >"$T/p.yaml"
        run timeout 60 "$insp" --cli "$BRIDLE" mcp serve --manifest "$T/m.yaml" --policy "$T/p.yaml" --method tools/list
        assert_rc 0 "inspector --cli tools/list"
        n=$("$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["tools"]))' <<<"$OUT")
        assert_eq "$n" 9 "inspector: nine tools"
        run timeout 60 "$insp" --cli "$BRIDLE" mcp serve --manifest "$T/m.yaml" --policy "$T/p.yaml" \
                --method tools/call --tool-name read_file --tool-arg path=hello.txt
        assert_rc 0 "inspector --cli tools/call read_file"
        assert_contains "$OUT" "from the inspector" "inspector: the file's text"
        run timeout 60 "$insp" --cli "$BRIDLE" mcp serve --manifest "$T/m.yaml" --policy "$T/p.yaml" \
                --method tools/call --tool-name write_file --tool-arg path=x --tool-arg content=y
        assert_contains "$OUT" "cannot be asked" "inspector: a call the policy asks about is refused"
else
        say "inspector not installed: its CLI checks skipped"
fi
assert_eq "$(alive)" 0 "no sandbox left"

# SIGTERM while the client keeps stdin open: the server stops between
# messages and destroys its sandbox.
printf 'version: 1\nentries:\n  - {type: file, path: t.txt, content: "term\\n"}\n' >"$T/mt.yaml"
printf 'tools: {read_file: allow}\n' >"$T/pt.yaml"
cat >"$T/term.py" <<'PYEOF'
import json, signal, subprocess, sys
bridle, m, p = sys.argv[1:4]
c = subprocess.Popen([bridle, "mcp", "serve", "--manifest", m, "--policy", p],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def send(o):
    c.stdin.write((json.dumps(o) + "\n").encode()); c.stdin.flush()
send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
      "params": {"protocolVersion": "2025-11-25", "capabilities": {}}})
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
      "params": {"name": "read_file", "arguments": {"path": "t.txt"}}})
a = [json.loads(c.stdout.readline()) for _ in range(2)]
assert "term" in a[1]["result"]["content"][0]["text"], a
alive = subprocess.run([bridle, "sandbox", "list"], capture_output=True, text=True).stdout.strip()
print("alive-before:%d" % len(alive.splitlines()))
c.send_signal(signal.SIGTERM)
print("exit:%d" % c.wait(timeout=30))
PYEOF
run timeout 60 "$PY" "$T/term.py" "$BRIDLE" "$T/mt.yaml" "$T/pt.yaml"
assert_rc 0 "SIGTERM: the server was driven"
assert_contains "$OUT" "alive-before:1" "SIGTERM: a sandbox while serving"
assert_contains "$OUT" "exit:0" "SIGTERM: the server ends with status 0"
assert_eq "$(alive)" 0 "SIGTERM: its sandbox is destroyed"

# A policy whose network is an allowlist: the server's sandbox reaches the
# listed host through its proxy (a local server stands in for it through the
# proxy's test map, BRIDLE_TESTING=1 only) and nothing else.
if "$BRIDLE" sandbox run -- sh -c 'command -v curl' >/dev/null 2>&1; then
        mkdir -p "$T/www"
        echo "hello from the allowed origin" >"$T/www/index.html"
        "$PY" -m http.server 0 --bind 127.0.0.1 --directory "$T/www" >"$T/http.out" 2>&1 &
        hp=$!
        at_exit "kill $hp 2>/dev/null"
        wait_until 10 grep -q 'Serving HTTP on' "$T/http.out" || fail "egress: the origin did not start"
        port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.out" | head -1)
        printf 'default: allow\nnetwork: {mode: allowlist, allow: [example.test]}\n' >"$T/pe.yaml"
        cat >"$T/egress.py" <<'PYEOF'
import json, subprocess, sys
msgs = [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"}]
for i, url in enumerate(["http://example.test/index.html", "http://other.test/"]):
    msgs.append({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": {"name": "exec_command",
                 "arguments": {"cmd": "curl -s -m 20 -o - -w ' code=%%{http_code}' %s" % url, "yield_time_ms": 30000}}})
p = subprocess.run([sys.argv[1], "mcp", "serve", "--policy", sys.argv[2]], input="".join(json.dumps(m) + "\n" for m in msgs),
                   capture_output=True, text=True, timeout=120)
for l in p.stdout.splitlines():
    m = json.loads(l)
    if m.get("id") in (10, 11):
        print("%d:%s" % (m["id"], m["result"]["content"][0]["text"].replace("\n", " ")))
print("exit:%d" % p.returncode)
PYEOF
        run timeout 150 env BRIDLE_TESTING=1 BRIDLE_EGRESS_TEST_MAP="example.test=127.0.0.1:$port" "$PY" "$T/egress.py" "$BRIDLE" "$T/pe.yaml"
        assert_rc 0 "egress: the server was driven"
        assert_match "$OUT" "10:.*hello from the allowed origin  code=200" "egress: an allowed host is reached through the proxy"
        assert_match "$OUT" "11:.*not in the allowlist  code=403" "egress: another host gets the proxy's 403"
        assert_contains "$OUT" "exit:0" "egress: the server ends with status 0"
else
        say "egress: skipped (no curl in the sandbox: it uses the host's /usr)"
fi

# Usage and a policy that does not load.
run "$BRIDLE" mcp serve --bogus
assert_rc 2 "a bad option"
printf 'defualt: allow\n' >"$T/bad.yaml"
run "$BRIDLE" mcp serve --policy "$T/bad.yaml"
assert_rc 1 "a bad policy"
assert_contains "$ERR" "bad.yaml:1:1" "the policy's error names the place"
say "all $_checks checks passed"
