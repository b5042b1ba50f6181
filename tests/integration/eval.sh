#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle eval end to end: the suite of tests/eval (three tasks: write a file,
# review a file it must not modify, refuse a deletion the policy blocks) run
# against the fake OpenAI server with tools in real sandboxes. First with a
# script where every task passes: exit 0, results.json's fields, the table,
# report.html parses as HTML and holds the chart. Then with a script where
# the review task edits the file and misses the bug, against the first
# results.json as baseline: exit 1, that task failed and marked as a
# regression, the others not. Last, a bad suite: exit 2 with FILE:LINE:COL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

SUITE=$SRC/tests/eval/suite.yaml

# ---- 1: every task passes -------------------------------------------------
start_server good "$SRC/tests/eval/server-good.json"
run "$BRIDLE" eval "$SUITE" --base-url "$URL" --out "$T/out1"
assert_rc 0 "eval: every task passes (exit 0)"
assert_contains "$OUT" "3 of 3 tasks passed" "eval: the table's closing line"
assert_match "$OUT" 'write-hello +1/1 +100%' "eval: the table has a row per task"
assert_match "$ERR" 'review #1 [0-9a-f]{32} pass' "eval: progress on stderr"
awk 'length($0) > 100 { bad = 1 } END { exit bad }' <<<"$OUT" || fail "eval: the table is wider than 100 columns"
ok "eval: the table fits 100 columns"
[ -f "$T/out1/results.json" ] && [ -f "$T/out1/report.html" ] && [ -f "$T/out1/journal.db" ] ||
        fail "eval: --out holds results.json, report.html and journal.db"
ok "eval: --out holds results.json, report.html and journal.db"
stop_server

cp "$T/out1/results.json" "$T/.out"
pycheck "results.json: per task and total figures" '
r = json.loads(out)
t = {x["name"]: x for x in r["tasks"]}
tot = r["totals"]
w, v, f = t["write-hello"], t["review"], t["refuse"]
ok = (r["suite"] == "small" and r["repeat"] == 1 and r["baseline"] is None
      and list(t) == ["write-hello", "review", "refuse"]
      and all(x["ok"] and x["pass_rate"] == 1 and x["completion_rate"] == 1 and x["n_runs"] == 1 for x in t.values())
      and w["calls"] == 2 and w["repeated_calls"] == 1 and w["turns"] == 3
      and f["blocked"] == 1 and f["violations"] == 0 and v["blocked"] == 0
      and tot["tasks"] == 3 and tot["tasks_passed"] == 3 and tot["runs"] == 3 and tot["blocked"] == 1
      and tot["calls"] == 4 and tot["pass_rate"] == 1
      and all(len(x["runs"][0]["run_id"]) == 32 for x in t.values()))
checks = {c["what"]: c for c in w["runs"][0]["checks"]}
ok = ok and all(k in checks for k in ["status", "must_run[0]", "must_flag[0]", "files.hello.txt.exists",
    "files.hello.txt.contains", "files.missing.txt.exists", "max_turns", "max_cost", "judge"])
ok = ok and all(c["ok"] for c in checks.values())
fc = {c["what"]: c for c in f["runs"][0]["checks"]}
ok = ok and fc["judge"]["ok"] and fc["judge"]["got"].startswith("PASS") and fc["must_not_modify"]["ok"]
why = json.dumps(r)[:3000]'

pycheck "report.html parses as HTML, with the summary, the chart (a bar per task) and the table" '
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.ids = set(); s.stack = []; s.bars = 0; s.bad = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if "id" in a: s.ids.add(a["id"])
        if tag == "rect" and a.get("class") == "bar-pass": s.bars += 1
        if tag not in ("meta", "rect", "br"): s.stack.append(tag)
    def handle_startendtag(s, tag, attrs):
        a = dict(attrs)
        if tag == "rect" and a.get("class") == "bar-pass": s.bars += 1
    def handle_endtag(s, tag):
        if tag in ("meta", "rect", "br"): return
        if not s.stack or s.stack[-1] != tag: s.bad.append(tag)
        else: s.stack.pop()
p = P(); p.feed(open(args[0], encoding="utf-8").read()); p.close()
ok = {"summary", "chart", "tasks"} <= p.ids and p.bars == 3 and not p.bad and not p.stack
why = (p.ids, p.bars, p.bad, p.stack)' "$T/out1/report.html"

# ---- 2: the review task fails: a regression against the first results --------
start_server bad "$SRC/tests/eval/server-bad.json"
run "$BRIDLE" eval "$SUITE" --base-url "$URL" --out "$T/out2" --baseline "$T/out1/results.json" --json
assert_rc 1 "eval: a failing task against the baseline exits 1"
printf '%s' "$OUT" >"$T/.out"
pycheck "--json prints results.json: review failed and regressed (pass rate, violations), the others not" '
r = json.loads(out)
t = {x["name"]: x for x in r["tasks"]}
v = t["review"]
regs = {g["metric"]: g for g in v["regressions"]}
checks = {c["what"]: c for c in v["runs"][0]["checks"]}
ok = (r["baseline"]["file"] == args[0] and not v["ok"] and v["regressed"]
      and regs["pass_rate"]["baseline"] == 1 and regs["pass_rate"]["value"] == 0
      and "violations" in regs and v["violations"] == 1
      and not checks["must_not_modify"]["ok"] and "src/calc.c changed" in checks["must_not_modify"]["got"]
      and not checks["must_flag[0]"]["ok"] and checks["must_run[0]"]["ok"]
      and not t["write-hello"]["regressed"] and not t["refuse"]["regressed"]
      and t["write-hello"]["ok"] and t["refuse"]["ok"]
      and r["totals"]["regressed_tasks"] == 1 and r["totals"]["tasks_failed"] == 1)
why = json.dumps(v)[:2000]' "$T/out1/results.json"
cmp -s <(printf '%s\n' "$OUT") "$T/out2/results.json" || fail "--json prints what results.json holds"
ok "--json prints what results.json holds"
# The host's fixture is untouched: the input folder was copied.
grep -q 'i <= n' "$SRC/tests/eval/fixtures/src/calc.c" || fail "the fixture on the host was changed"
ok "the run changed its copy of the inputs, not the host's"

# The table of the same: the failure and the regression named (the script again from its start).
stop_server
start_server bad2 "$SRC/tests/eval/server-bad.json"
run "$BRIDLE" eval "$SUITE" --base-url "$URL" --out "$T/out3" --baseline "$T/out1/results.json"
assert_rc 1 "eval (table): exit 1"
assert_match "$OUT" 'review +0/1 .*REGRESSED' "eval (table): review's row is marked REGRESSED"
assert_contains "$OUT" "FAIL review: " "eval (table): the failure is named"
assert_contains "$OUT" "2 of 3 tasks passed, 1 regressed" "eval (table): the closing line"
stop_server

# ---- 3: a bad suite --------------------------------------------------------
printf 'agent: %s/tests/eval/agent.yaml\ntasks:\n  - name: a\n    task: t\n    expect: {must_flag: [{regex: "("}]}\n' \
        "$SRC" >"$T/bad.yaml"
run "$BRIDLE" eval "$T/bad.yaml" --out "$T/out4"
assert_rc 2 "eval: a bad suite exits 2"
assert_match "$ERR" "bad.yaml:5:[0-9]+: tasks\\[0\\]\\.expect\\.must_flag\\[0\\]: not a regular expression" \
        "eval: the error names FILE:LINE:COL and the key"
