#!/bin/bash
# SPDX-License-Identifier: MIT
# OTLP/HTTP export, received by a real OTLP receiver (tests/otlp/receiver.mjs:
# OpenTelemetry's protobuf definitions decode and check every request):
#  - a scripted run through `bridle run` (fake-openai, a canary API key, a tool
#    whose output is longer than the attribute cap), then
#    `bridle trace RUN --export otlp --endpoint URL`: one valid request, the
#    run's spans (one trace, one root, parents known), the long output cut and
#    the cut said, --header sent;
#  - OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS without flags,
#    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT used as is; --gzip;
#  - retries after 503 (the receiver fails twice, the export succeeds);
#    a collector that keeps failing: exit 1, the status said;
#  - a run whose agent file has trace: {export: otlp, ...} exports by itself
#    (gzip, its headers), at the end of each part of it (stopped, resumed);
#    one whose collector is down completes with a
#    run.warning;
#  - the canary key reaches no request (bodies and headers).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

RECEIVER=$SRC/tests/otlp/receiver.mjs
[ -d "$SRC/tests/otlp/node_modules" ] ||
        skip "tests/otlp/node_modules is missing (run scripts/install-deps or: cd tests/otlp && npm ci)"
export BRIDLE_OTLP_BACKOFF_MS=1
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_HEADERS \
        OTEL_EXPORTER_OTLP_TRACES_HEADERS OTEL_EXPORTER_OTLP_COMPRESSION OTEL_EXPORTER_OTLP_TRACES_COMPRESSION

RAND=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ ${#RAND} = 32 ] || fail "no random canary: '$RAND'"
KEY=sk-canary-$RAND

# start_receiver NAME [RECEIVER OPTIONS...]: sets RPID, RPORT, RURL, ROUT.
start_receiver() {
        local name=$1
        shift
        ROUT=$T/$name.jsonl
        : >"$ROUT"
        node "$RECEIVER" --out "$ROUT" --port 0 "$@" >"$T/$name.port" 2>"$T/$name.err" &
        RPID=$!
        at_exit "kill $RPID 2>/dev/null"
        if ! wait_until 15 grep -q '^listening [0-9][0-9]*$' "$T/$name.port"; then
                cat "$T/$name.err" >&2
                fail "the OTLP receiver ($name) did not print 'listening PORT'"
        fi
        RPORT=$(sed -n 's/^listening //p' "$T/$name.port")
        RURL=http://127.0.0.1:$RPORT
}
stop_receiver() {
        kill "$RPID" 2>/dev/null || true
        wait "$RPID" 2>/dev/null || true
}

# rcheck WHAT FILE PYTHON [ARGS...]: python with recs = the receiver's lines of
# FILE, good = those it accepted (ok), spans = the spans of the last good one,
# args; the code must leave ok true (why: the reason).
rcheck() {
        local what=$1 file=$2 code=$3
        shift 3
        if ! "$PY" - "$file" "$@" >"$T/.pyout" 2>&1 <<PYEOF; then
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
args = sys.argv[2:]
good = [r for r in recs if r.get("ok")]
def spans_of(r):
    return [s for rs in r["request"]["resourceSpans"] for ss in rs.get("scopeSpans", []) for s in ss.get("spans", [])]
spans = spans_of(good[-1]) if good else []
def attrs(s):
    return {a["key"]: a["value"] for a in s.get("attributes", [])}
why = ""
ok = False
$code
if not ok:
    print("why:", why)
    print("receiver:", [{k: r.get(k) for k in ("n", "ok", "failed", "error", "encoding", "path")} for r in recs])
    sys.exit(1)
PYEOF
                say "  python: $(cat "$T/.pyout")"
                fail "$what"
        fi
        ok "$what"
}

no_canary() {
        local what=$1 f
        shift
        for f in "$@"; do
                if grep -a -q -e "$RAND" "$f"; then
                        fail "$what: the canary is in $f: $(grep -a -o ".\{0,60\}$RAND.\{0,20\}" "$f" | head -n 3)"
                fi
        done
        ok "$what"
}

# ---- a run to export: a long tool output, the key echoed by the model ----
cat >"$T/script.json" <<EOF
[
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "head -c 6000 /dev/zero | tr '\\\\0' x; echo; echo TOOL-DONE"}}],
 [{"type": "message", "content": "Done. Your key was $KEY, I will not say it."}]
]
EOF
agent "$T/agent.yaml" exporter openai-responses "exec_command, read_file" "manifest: $T/manifest.yaml" "max_turns: 5"
start_server run1 "$T/script.json" --require-key "$KEY"
set +e
OPENAI_API_KEY=$KEY "$BRIDLE" run --agent "$T/agent.yaml" --base-url "$URL" --journal "$JOURNAL" "Print a lot" \
        >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out")
ERR=$(cat "$T/.err")
assert_rc 0 "the scripted run completes"
RUN=$(run_id_of "$ERR")
assert_match "$RUN" '^[0-9a-f]{32}$' "'run <id>' on stderr"
stop_server

# ---- bridle trace RUN --export otlp --endpoint URL --header K=V ----
start_receiver flag
export OPENAI_API_KEY=$KEY
run "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --export otlp --endpoint "$RURL" --header "X-Bridle-Test=flag-$RPORT"
assert_rc 0 "bridle trace --export otlp --endpoint"
stop_receiver
rcheck "one request, decoded by the OpenTelemetry protobuf definitions, plain JSON, /v1/traces, the header" "$ROUT" '
r = recs[0] if recs else {}
ok = len(recs) == 1 and r.get("ok") and r["path"] == "/v1/traces" and r["encoding"] is None
ok = ok and r["headers"].get("x-bridle-test") == "flag-" + args[0] and r["headers"]["content-type"].startswith("application/json")
why = recs' "$RPORT"
rcheck "the run's spans: one trace (the run id), one root named run, every parent known, kinds and times" "$ROUT" '
ids = {s["spanId"] for s in spans}
roots = [s for s in spans if not s.get("parentSpanId")]
ok = len(spans) >= 3 and {s["traceId"] for s in spans} == {args[0]} and len(roots) == 1 and roots[0]["name"] == "run"
ok = ok and all(s["parentSpanId"] in ids for s in spans if s.get("parentSpanId")) and len(ids) == len(spans)
ok = ok and all(int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]) > 1600000000 * 10**9 for s in spans)
ok = ok and all(s["kind"] in (1, 3) for s in spans)
rs = good[0]["request"]["resourceSpans"][0]
res = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
ok = ok and res["service.name"]["stringValue"] == "bridle" and rs["scopeSpans"][0]["scope"]["name"] == "bridle"
why = [(s["name"], s["spanId"], s.get("parentSpanId")) for s in spans]' "$RUN"
rcheck "a model span (client, gen_ai.* attributes) and the tool span" "$ROUT" '
chats = [s for s in spans if s["kind"] == 3]
tools = [s for s in spans if any(k.startswith("gen_ai.tool") for k in attrs(s)) or s["name"].startswith("tool")]
ok = len(chats) >= 2 and any("gen_ai.request.model" in attrs(s) or "gen_ai.response.model" in attrs(s) for s in chats) and tools
why = [(s["name"], s["kind"], sorted(attrs(s))) for s in spans]'
rcheck "the 6000-byte tool output is cut to the cap (4096 bytes) and the cut is said" "$ROUT" '
cut = []
for s in spans:
    a = attrs(s)
    for k, v in a.items():
        if "stringValue" in v and "TOOL-DONE" not in v["stringValue"] and v["stringValue"].count("x") >= 4000:
            cut.append((s["name"], k, len(v["stringValue"].encode()), k + ".truncated" in a and a[k + ".truncated"].get("boolValue")))
ok = cut and all(n <= 4096 and said for (_, _, n, said) in cut)
longest = max((len(v.get("stringValue", "").encode()) for s in spans for v in attrs(s).values()), default=0)
ok = ok and longest <= 4096
why = (cut, longest)'
rcheck "a control for the canary checks: the model's answer that held the key is in the trace, the key redacted" "$ROUT" '
said = [v["stringValue"] for s in spans for v in attrs(s).values() if "Your key was" in v.get("stringValue", "")]
ok = said and all("[REDACTED" in t and args[0] not in t for t in said)
why = said' "$RAND"

# ---- the environment: OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS; --gzip ----
start_receiver env
run env OTEL_EXPORTER_OTLP_ENDPOINT="$RURL/" OTEL_EXPORTER_OTLP_HEADERS="x-tenant=t%20one,x-other=2" \
        "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --export otlp --gzip
assert_rc 0 "bridle trace --export otlp with OTEL_EXPORTER_OTLP_ENDPOINT and --gzip"
run env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="$RURL/v1/traces" OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9/none \
        "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --export otlp
assert_rc 0 "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is, before OTEL_EXPORTER_OTLP_ENDPOINT"
stop_receiver
rcheck "gzip on the wire, the headers of OTEL_EXPORTER_OTLP_HEADERS (percent-decoded), then plain JSON" "$ROUT" '
ok = len(recs) == 2 and all(r.get("ok") for r in recs) and recs[0]["encoding"] == "gzip" and recs[1]["encoding"] is None
ok = ok and recs[0]["headers"].get("x-tenant") == "t one" and recs[0]["headers"].get("x-other") == "2"
ok = ok and recs[0]["wire_bytes"] < len(recs[0]["raw"].encode()) and recs[0]["raw"] == recs[1]["raw"]
why = [(r.get("encoding"), r.get("wire_bytes"), r.get("headers")) for r in recs]'
run "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --export otlp
[ "$RC" != 0 ] || fail "an export without an endpoint succeeded"
assert_contains "$ERR" "OTEL_EXPORTER_OTLP_ENDPOINT" "no endpoint: an error naming the variable"

# ---- retries: 503 twice, then accepted; a collector that keeps failing ----
start_receiver retry --fail 2
run "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --export otlp --endpoint "$RURL"
assert_rc 0 "the export succeeds after two 503s"
stop_receiver
rcheck "three requests: 503, 503, accepted" "$ROUT" '
ok = [bool(r.get("failed")) for r in recs] == [True, True, False] and recs[2]["ok"]
why = recs'
start_receiver down --fail 100
run "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --export otlp --endpoint "$RURL"
stop_receiver
assert_rc 1 "a collector answering 503 every time: exit 1"
assert_contains "$ERR" "503" "the message says the status"
rcheck "bounded retries: 5 attempts in all" "$ROUT" '
ok = len(recs) == 5
why = len(recs)'

no_canary "the canary key is in no request (bodies, headers)" "$T"/flag.jsonl "$T"/env.jsonl "$T"/retry.jsonl
no_canary "nor on the output of bridle trace" "$T/.out" "$T/.err"

# ---- live export: trace: {export: otlp} in the agent file ----
start_receiver live
agent "$T/live.yaml" live openai-responses "exec_command" "manifest: $T/manifest.yaml" "max_turns: 5" \
        "trace: {export: otlp, endpoint: \"$RURL\", gzip: true, headers: {x-live: yes-$RPORT, x-token: \"Bearer \${COLLECTOR_TOKEN}\"}}"
start_server run2 "$T/script.json" --require-key "$KEY"
set +e
COLLECTOR_TOKEN=collector-secret-$RPORT OPENAI_API_KEY=$KEY "$BRIDLE" run --agent "$T/live.yaml" --base-url "$URL" --journal "$JOURNAL" "Print a lot" \
        >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out")
ERR=$(cat "$T/.err")
stop_server
stop_receiver
assert_rc 0 "a run with trace: {export: otlp} completes"
LIVE=$(run_id_of "$ERR")
rcheck "the run exported its own trace at its end: gzip, its headers, its spans, the run span ok" "$ROUT" '
r = good[-1] if good else {}
ok = len(recs) == 1 and r.get("encoding") == "gzip" and r["headers"].get("x-live") == "yes-" + args[1]
ok = ok and r["headers"].get("x-token") == "Bearer collector-secret-" + args[1]
ok = ok and {s["traceId"] for s in spans} == {args[0]}
run = [s for s in spans if s["name"] == "run"]
ok = ok and len(run) == 1 and run[0].get("status", {}).get("code") == 1
why = (recs and recs[-1].get("error"), [(s["name"], s.get("status")) for s in spans])' "$LIVE" "$RPORT"
no_canary "the live export does not hold the canary either" "$T/live.jsonl"
events "$LIVE"
pycheck "a header given as \${COLLECTOR_TOKEN} is expanded when sent, never journaled" '
ok = "collector-secret" not in json.dumps(ev) and "${COLLECTOR_TOKEN}" in json.dumps(ev)
why = "the journal holds the secret, or not the template"'
pycheck "no run.warning when the export worked" '
ok = [e for e in of("run.warning") if e["data"].get("where") == "trace"] == [] and last_status().get("status") == "completed"
why = types()'

# each part of a run exports the trace so far: stopped by max_turns, then resumed
start_receiver parts
agent "$T/parts.yaml" parts openai-responses "exec_command" "manifest: $T/manifest.yaml" "max_turns: 1" \
        "trace: {export: otlp, endpoint: \"$RURL\"}"
start_server run4 "$T/script.json" --require-key "$KEY"
set +e
OPENAI_API_KEY=$KEY "$BRIDLE" run --agent "$T/parts.yaml" --base-url "$URL" --journal "$JOURNAL" "Print a lot" \
        >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out")
ERR=$(cat "$T/.err")
assert_rc 3 "max_turns 1: the run stops"
PARTS=$(run_id_of "$ERR")
OPENAI_API_KEY=$KEY resume "$PARTS" --max-turns 5
assert_rc 0 "the resumed run completes"
stop_server
stop_receiver
rcheck "two exports, one per part: the first the spans that had ended, the second the rest (run, agent, turns); none twice" "$ROUT" '
ok = len(recs) == 2 and all(r.get("ok") for r in recs)
a, b = (spans_of(r) for r in recs) if ok else ([], [])
ida, idb = {s["spanId"] for s in a}, {s["spanId"] for s in b}
ok = ok and {s["traceId"] for s in a + b} == {args[0]} and ida.isdisjoint(idb) and len(ida) == len(a) and len(idb) == len(b)
ok = ok and a and not any(s["name"] == "run" or s["name"].startswith(("agent ", "turn ")) for s in a)
ok = ok and [s["name"] for s in b].count("run") == 1
why = [[s["name"] for s in x] for x in (a, b)]' "$PARTS"
events "$PARTS"
pycheck "trace.exported records how far each export got" '
t = [e["data"]["upto_seq"] for e in of("trace.exported")]
ok = len(t) == 2 and t[0] < t[1]
why = t'

# interval: 0 sends the spans that ended at every step, each span once
start_receiver steps
agent "$T/steps.yaml" steps openai-responses "exec_command" "manifest: $T/manifest.yaml" "max_turns: 5" \
        "trace: {export: otlp, endpoint: \"$RURL\", interval: 0}"
start_server run5 "$T/script.json" --require-key "$KEY"
set +e
OPENAI_API_KEY=$KEY "$BRIDLE" run --agent "$T/steps.yaml" --base-url "$URL" --journal "$JOURNAL" "Print a lot" \
        >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out")
ERR=$(cat "$T/.err")
stop_server
stop_receiver
assert_rc 0 "a run exporting as it goes completes"
STEPS=$(run_id_of "$ERR")
rcheck "exports as it goes: several requests, the last with the run span, every span exactly once" "$ROUT" '
ok = len(recs) >= 3 and all(r.get("ok") for r in recs)
ids = [s["spanId"] for r in recs for s in spans_of(r)]
ok = ok and len(ids) == len(set(ids)) and [s["name"] for s in spans_of(recs[-1])].count("run") == 1
ok = ok and all(s["name"] != "run" for r in recs[:-1] for s in spans_of(r))
why = [[s["name"] for s in spans_of(r)] for r in recs]' "$STEPS"

# a collector that is down: the run still completes, a run.warning says why
agent "$T/dead.yaml" dead openai-responses "exec_command" "manifest: $T/manifest.yaml" "max_turns: 5" \
        "trace: {export: otlp, endpoint: \"http://127.0.0.1:9\"}"
start_server run3 "$T/script.json" --require-key "$KEY"
set +e
OPENAI_API_KEY=$KEY "$BRIDLE" run --agent "$T/dead.yaml" --base-url "$URL" --journal "$JOURNAL" "Print a lot" \
        >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out")
ERR=$(cat "$T/.err")
stop_server
assert_rc 0 "a run whose collector is down still completes"
events "$(run_id_of "$ERR")"
pycheck "a run.warning (where trace) says the export failed" '
w = [e["data"] for e in of("run.warning") if e["data"].get("where") == "trace"]
ok = len(w) == 1 and "OTLP export" in w[0]["message"] and "127.0.0.1:9" in w[0]["message"]
ok = ok and [e for e in of("run.status")][-1]["data"]["status"] == "completed"
why = (types(), w)'

# a bad trace: section is refused before the run starts
agent "$T/bad.yaml" bad openai-responses "exec_command" "trace: {export: zipkin}"
run "$BRIDLE" run --agent "$T/bad.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "trace: {export: zipkin} is refused"
assert_contains "$ERR" "trace" "the message names the key"
