#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bridle run with a policy whose network is an allowlist: the sandbox reaches
# an allowed host through the harness's proxy (a local HTTP server stands in
# for it through the proxy's test map, BRIDLE_TESTING=1 only), a host not listed
# gets the proxy's 403, and every connection is an egress.connection event.
. "$(dirname "$0")/lib.sh"
need_python
run "$BRIDLE" sandbox run -- true
[ "$RC" = 0 ] || skip "no sandbox here (user namespaces?): ${ERR:0:300}"
run "$BRIDLE" sandbox run -- sh -c 'command -v curl'
[ "$RC" = 0 ] || skip "curl is not installed (the sandbox uses the host's /usr)"

export BRIDLE_HOME=$T/home
unset OPENAI_API_KEY
mkdir -p "$T/www"
echo "hello from the allowed origin" >"$T/www/index.html"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$T/www" >"$T/http.out" 2>&1 &
HTTP=$!
at_exit "kill $HTTP 2>/dev/null"
wait_until 10 grep -q 'Serving HTTP on' "$T/http.out" || fail "the origin did not start: $(cat "$T/http.out")"
PORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.out" | head -1)
[ -n "$PORT" ] || fail "no port: $(cat "$T/http.out")"

cat >"$T/policy.yaml" <<'P'
default: allow
network: {mode: allowlist, allow: ["example.test", "*.allowed.test"]}
P
cat >"$T/script.yaml" <<'S'
- - {type: function_call, name: exec_command, arguments: {cmd: "curl -s http://example.test/index.html"}}
  - {type: function_call, name: exec_command, arguments: {cmd: "curl -s -o /dev/null -w 'code=%{http_code}' http://other.test/"}}
  - {type: function_call, name: exec_command, arguments: {cmd: "curl -s --noproxy '*' -m 3 http://127.0.0.1:1/ || echo direct-failed"}}
- - {type: message, content: "fetched"}
S
export BRIDLE_TESTING=1 BRIDLE_EGRESS_TEST_MAP="example.test=127.0.0.1:$PORT"
run "$BRIDLE" run --script "$T/script.yaml" --policy "$T/policy.yaml" "fetch the page"
[ "$RC" = 0 ] || fail "the run exited $RC: $ERR"
[ "$OUT" = fetched ] || fail "answer: $OUT"
ok "the run completes"
ID=$(sed -n 's/^run //p' <<<"$ERR")
run "$BRIDLE" runs show "$ID" --json
[ "$RC" = 0 ] || fail "runs show: $ERR"
printf '%s\n' "$OUT" >"$T/events.jsonl"
python3 - "$T/events.jsonl" <<'PY' || fail "events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
outs = [e["data"]["output_item"]["output"] for e in ev if e["type"] == "tool.finished"]
assert any("hello from the allowed origin" in o for o in outs), outs
assert any("code=403" in o for o in outs), outs
assert any("direct-failed" in o for o in outs), outs
conns = [e["data"] for e in ev if e["type"] == "egress.connection"]
hosts = {c["host"]: c for c in conns}
assert hosts["example.test"]["allowed"] is True and hosts["example.test"]["bytes_down"] > 0, conns
assert hosts["other.test"]["allowed"] is False and hosts["other.test"]["status"] == 403, conns
assert "127.0.0.1" not in [c["host"] for c in conns], conns   # the direct try never reached the proxy
PY
ok "allowed host reached, other host 403, direct connection has no route, every proxy connection journaled"
[ ! -e "$BRIDLE_HOME/egress/$ID" ] || fail "the finished run's egress directory is still there"
ok "egress directory removed at the end"
