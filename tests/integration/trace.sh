#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle trace on a real run (trace_lib.sh): the text tree fits 80 columns and
# holds no control characters; JSON lines parse, every parent is a span of the
# trace, the tree and the GenAI attributes are there; the token the model
# passed and the escape sequence a tool printed never appear; --out, a run id
# prefix, errors; bridle prices (built-in, an override file, --json).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"

trace_run

# ---- text -----------------------------------------------------------------
run "$BRIDLE" trace "$RUN" --journal "$JOURNAL"
assert_rc 0 "trace RUN (text)"
printf '%s\n' "$OUT" >"$T/trace.txt"
"$PY" - "$T/trace.txt" "$TOKEN" <<'PY' || fail "the text trace: see above"
import sys, unicodedata
text = open(sys.argv[1], encoding="utf-8").read()
def cols(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
bad = [l for l in text.splitlines() if cols(l) > 80]
assert not bad, "lines over 80 columns: %r" % bad
assert not any(ord(c) < 32 and c != "\n" or ord(c) == 127 for c in text), "a control character in the text"
assert sys.argv[2] not in text, "the token is in the text"
for want in ("run completed", "agent tracer (gpt-4o-mini)", "chat gpt-4o-mini", "tool exec_command ok",
             "tool exec_command DENIED", "gateway deny", "approval approve by cli", "sandbox exec",
             "tool write_file ok", "5 turns", "model    gpt-4o-mini: 5 requests"):
    assert want in text, "missing %r in:\n%s" % (want, text)
PY
ok "text: within 80 columns, no control characters, no token; run, agent, chat, tools, gateway, approval"
run "$BRIDLE" trace "$RUN" --journal "$JOURNAL" --width 60
assert_rc 0 "trace --width 60"
"$PY" -c 'import sys; bad=[l for l in sys.stdin.read().splitlines() if len(l) > 60]; sys.exit(1 if bad else 0)' <<<"$OUT" ||
        fail "--width 60: a line is wider"
ok "text: --width 60 is kept"

# ---- JSON lines ---------------------------------------------------------------
run "$BRIDLE" trace "${RUN:0:8}" --format jsonl --journal "$JOURNAL"
assert_rc 0 "trace PREFIX --format jsonl"
printf '%s\n' "$OUT" >"$T/spans.jsonl"
"$PY" - "$T/spans.jsonl" "$RUN" "$TOKEN" <<'PY' || fail "the JSON lines: see above"
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read()
assert sys.argv[3] not in raw, "the token is in the spans"
assert "\\u001b" not in raw and "\x1b" not in raw, "the escape sequence is in the spans"
spans = [json.loads(l) for l in raw.splitlines() if l.strip()]
ids = {s["span_id"]: s for s in spans}
assert len(ids) == len(spans), "span ids repeat"
names = [s["name"] for s in spans]
for s in spans:
    assert s["trace_id"] == sys.argv[2], s
    assert s["end_ms"] >= s["start_ms"], s
    assert "parent_span_id" not in s or s["parent_span_id"] in ids, s
    assert s["status"] in ("ok", "error"), s
root = [s for s in spans if "parent_span_id" not in s]
assert len(root) == 1 and root[0]["name"] == "run", root
def parent(s): return ids[s["parent_span_id"]]["name"]
by = lambda n: [s for s in spans if s["name"] == n]
assert len(by("chat gpt-4o-mini")) == 5 and all(parent(s).startswith("turn ") for s in by("chat gpt-4o-mini"))
assert [s["attributes"]["gen_ai.usage.input_tokens"] for s in by("chat gpt-4o-mini")] == [1200, 1300, 1400, 1500, 1600]
assert all(s["kind"] == "client" and s["attributes"]["gen_ai.request.model"] == "gpt-4o-mini" for s in by("chat gpt-4o-mini"))
tools = by("tool exec_command")
assert len(tools) == 3 and all(parent(s) == "agent tracer" for s in tools), tools
denied = [s for s in tools if s["attributes"].get("bridle.tool.denied")]
assert len(denied) == 1 and denied[0]["status"] == "error", denied
kids = lambda s: [k["name"] for k in spans if k.get("parent_span_id") == s["span_id"]]
asked = [s for s in tools if "approval" in kids(s)]
assert len(asked) == 1 and "sandbox exec" in kids(asked[0]) and "gateway" in kids(asked[0]), [kids(s) for s in tools]
ap = [s for s in spans if s["name"] == "approval"][0]
assert ap["attributes"]["bridle.approval.decision"] == "approve", ap
out = tools[0]["attributes"]["bridle.tool.output"]
assert "<script>alert(1)</script>" in out, out
run = root[0]["attributes"]
assert run["bridle.run.status"] == "completed" and run["gen_ai.usage.input_tokens"] == 7000, run
assert abs(run["bridle.cost_usd"] - sum(s["attributes"]["bridle.cost_usd"] for s in by("chat gpt-4o-mini"))) < 1e-9
assert run["bridle.cost_usd"] > 0, run
assert len(by("sandbox")) == 1 and len(by("agent tracer")) == 1 and "turn 5" in names, names
PY
ok "jsonl: parses; one root; parents exist; 5 chats under turns with usage and cost; 3 exec_command tools, one denied, one approved; no token"

# ---- --out, errors ---------------------------------------------------------------
run "$BRIDLE" trace "$RUN" --format html --out "$T/page.html" --journal "$JOURNAL"
assert_rc 0 "trace --format html --out FILE"
assert_eq "$OUT" "" "--out: nothing on stdout"
grep -q '<section id="summary">' "$T/page.html" || fail "--out: the page has no summary"
ok "--out writes the page"
run "$BRIDLE" trace ffffffffffffffff --journal "$JOURNAL"
assert_rc 1 "an unknown run: exit 1"
assert_contains "$ERR" "no run" "... saying there is no such run"
run "$BRIDLE" trace "$RUN" --format pdf --journal "$JOURNAL"
assert_rc 2 "an unknown format: exit 2"
run "$BRIDLE" trace "$RUN" --gzip --journal "$JOURNAL"
assert_rc 2 "--gzip without --export otlp: exit 2"

# ---- prices ------------------------------------------------------------------------
run "$BRIDLE" prices
assert_rc 0 "prices"
assert_contains "$OUT" "gpt-4o-mini" "prices: the built-in table"
assert_contains "$OUT" "built-in" "prices: where each price comes from"
printf 'gpt-4o-mini: {input: 9, cached_input: 1, output: 99}\nmy-model: {input: 0.5, output: 1.5}\n' >"$T/prices.yaml"
BRIDLE_PRICES=$T/prices.yaml run "$BRIDLE" prices --json
assert_rc 0 "prices --json with \$BRIDLE_PRICES"
"$PY" - "$T/prices.yaml" <<PY || fail "prices --json: $OUT"
import json, sys
t = json.loads('''$OUT''')
m = {r["model"]: r for r in t["models"]}
assert t["file"] == sys.argv[1], t
assert m["gpt-4o-mini"]["input"] == 9 and m["gpt-4o-mini"]["source"] == "file", m["gpt-4o-mini"]
assert m["my-model"]["output"] == 1.5 and m["my-model"]["cached_input"] == 0.5, m["my-model"]
assert m["gpt-5"]["source"] == "built-in"
PY
ok "prices --json: the override file's entries replace and add"
