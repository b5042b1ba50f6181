#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle test end to end: the example scenarios of tests/agent (real sandbox,
# real harness and gateway, scripted models): the passing ones pass, the ones
# under failing/ fail with the right diff, exit codes, the closing line, JUnit
# XML that parses, a bad scenario file (exit 2, FILE:LINE:COL), and --record
# against the local fake server (a NAME.recorded.yaml that replays).
. "$(dirname "$0")/lib.sh"
SRC=${BRIDLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
need_python
run "$BRIDLE" sandbox run -- true
[ "$RC" = 0 ] || skip "no sandbox here (user namespaces?): bridle sandbox run -- true exited $RC: ${ERR:0:300}"
export BRIDLE_HOME=$T/home
mkdir -p "$BRIDLE_HOME"
unset OPENAI_API_KEY
cd "$SRC"

# ---- the examples: 5 pass, 2 must fail ------------------------------------------
run "$BRIDLE" test tests/agent --junit "$T/junit.xml"
assert_rc 1 "bridle test tests/agent exits 1 (the failing/ scenarios fail)"
for f in asks-approved asks-denied handoff refuses-rm writes-file; do
        assert_match "$OUT" "(^|"$'\n'")ok   tests/agent/$f\\.yaml \\([0-9]+ ms\\)" "tests/agent/$f.yaml passes"
done
for f in wrong-decision wrong-output; do
        assert_match "$OUT" "(^|"$'\n'")FAIL tests/agent/failing/$f\\.yaml \\([0-9]+ ms\\)" "failing/$f.yaml fails"
done
assert_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "5 passed, 2 failed" "the closing line on stdout"
# The cases run sorted: asks-approved first, failing/ before handoff.
assert_eq "$(printf '%s\n' "$OUT" | grep -E '^(ok  |FAIL) ' | awk '{print $2}' | tr '\n' ' ')" \
        "tests/agent/asks-approved.yaml tests/agent/asks-denied.yaml tests/agent/failing/wrong-decision.yaml tests/agent/failing/wrong-output.yaml tests/agent/handoff.yaml tests/agent/refuses-rm.yaml tests/agent/writes-file.yaml " \
        "one line per case, in sorted order"

# The diffs: only the expectations that did not hold, expected vs got.
"$PY" - "$T/.out" >"$T/diff.py.out" 2>&1 <<'PY' || { cat "$T/diff.py.out" >&2; fail "the diffs of the failing scenarios"; }
import sys
out = open(sys.argv[1]).read()
def block(name):
    lines = out.split("\n")
    i = next(k for k, l in enumerate(lines) if l.startswith("FAIL " + name))
    b = []
    for l in lines[i + 1:]:
        if not l.startswith("    "):
            break
        b.append(l)
    return "\n".join(b)
wd = block("tests/agent/failing/wrong-decision.yaml")
assert wd == ("    tool_calls[0].decision\n      expected: allow\n      got:      deny\n"
              "    files.repo/README.md.exists\n      expected: does not exist\n      got:      exists"), wd
wo = block("tests/agent/failing/wrong-output.yaml")
assert "    status\n      expected: failed\n      got:      completed" in wo, wo
assert "    tool_calls\n      expected: 1 call\n      got:      2 calls\n" in wo, wo
assert '[1] read_file {"path":"repo/main.c"} -> allow, ok' in wo, wo
assert "    final_output.contains\n      expected: three files\n      got:      There are two files & <no> more." in wo, wo
assert "tool_calls[0].name" not in wo, wo  # it held: not shown
print("ok")
PY
ok "the failing scenarios' diffs name each expectation, with expected and got"

# JUnit XML: well-formed, counts, the failure text escaped and intact.
"$PY" - "$T/junit.xml" <<'PY' || fail "the JUnit XML"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites" and root.get("tests") == "7" and root.get("failures") == "2", root.attrib
cases = root.findall("./testsuite/testcase")
assert len(cases) == 7
failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
assert set(failed) == {"tests/agent/failing/wrong-decision.yaml", "tests/agent/failing/wrong-output.yaml"}, failed
assert "There are two files & <no> more." in failed["tests/agent/failing/wrong-output.yaml"].text
assert all(float(c.get("time")) >= 0 for c in cases)
PY
ok "--junit writes well-formed JUnit XML with 7 cases, 2 failures and the diffs"

# Only the passing ones: exit 0. Files and folders can be mixed; nothing is left behind.
run "$BRIDLE" test tests/agent/refuses-rm.yaml tests/agent/handoff.yaml tests/agent/writes-file.yaml
assert_rc 0 "passing scenarios exit 0"
assert_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "3 passed, 0 failed" "3 passed"
left=$(find "$BRIDLE_HOME/sandboxes" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
assert_eq "$left" 0 "every run's sandbox was destroyed"

# --journal keeps the runs: one per scenario, the gateway's deny in it.
run "$BRIDLE" test --journal "$T/j.db" tests/agent/failing/wrong-decision.yaml
assert_rc 1 "a failing scenario alone exits 1"
assert_match "$OUT" "run [0-9a-f]{32} \\(completed\\)" "with --journal the diff names the run"
run "$BRIDLE" runs --journal "$T/j.db"
assert_contains "$OUT" "reviewer" "the run is in the journal given"

# ---- bad scenario files: exit 2, FILE:LINE:COL, nothing runs ---------------------
mkdir -p "$T/bad"
cat >"$T/bad/typo.yaml" <<'Y'
agent: /nonexistent.yaml
task: t
model: []
expect:
  tool_calls: [{name: x, decison: deny}]
Y
run "$BRIDLE" test "$T/bad" tests/agent/refuses-rm.yaml
assert_rc 2 "a bad scenario file exits 2"
assert_contains "$ERR" "$T/bad/typo.yaml:5:26: expect.tool_calls[0].decison: unknown key" "FILE:LINE:COL: key on stderr"
assert_not_contains "$OUT" "ok   " "nothing ran"
run "$BRIDLE" test
assert_rc 2 "no arguments: usage"
run "$BRIDLE" test "$T/none"
assert_rc 2 "a missing file: usage"
# An agent file that cannot be loaded: the case fails (exit 1) with the loader's message.
cat >"$T/bad/typo.yaml" <<'Y'
agent: nonexistent.yaml
task: t
model: [[{type: message, content: hi}]]
expect: {status: completed}
Y
run "$BRIDLE" test "$T/bad/typo.yaml"
assert_rc 1 "a scenario whose agent file is missing fails"
assert_contains "$OUT" "error: agent file '$T/bad/nonexistent.yaml'" "the error names the agent file"

# ---- --record against the local fake server --------------------------------------
if ! command -v node >/dev/null 2>&1 || [ ! -d "$SRC/tests/server/node_modules" ]; then
        say "the --record part is skipped: no node or tests/server/node_modules"
        exit 0
fi
. "$SRC/tests/integration/run_lib.sh"
cat >"$T/model.json" <<'J'
[
 [{"type": "function_call", "name": "write_file", "arguments": {"path": "hello.txt", "content": "from the model\n"}}],
 [{"type": "message", "content": "Wrote hello.txt."}]
]
J
start_server record "$T/model.json"
mkdir -p "$T/rec"
cat >"$T/rec/greets.yaml" <<Y
# A scenario recorded once from a real model.
agent: $SRC/tests/agents/reviewer.yaml
task: "write hello.txt"
record: true
expect:
  tool_calls: [{name: write_file, decision: allow, ok: true}]
  files: {hello.txt: {equals: "from the model\n"}}
  final_output: {contains: "hello.txt"}
Y
cp "$T/rec/greets.yaml" "$T/greets.orig"
run "$BRIDLE" test "$T/rec/greets.yaml"
assert_rc 1 "without --record, a scenario with no turns fails"
assert_contains "$OUT" "no model turns" "it says to record it"
run "$BRIDLE" test --record --base-url "$URL" "$T/rec/greets.yaml"
assert_rc 0 "--record runs against the server and passes"
assert_contains "$OUT" "[recorded]" "the line says recorded"
assert_eq "$(wc -l <"$LOG")" 2 "two requests reached the server"
[ -f "$T/rec/greets.recorded.yaml" ] || fail "no greets.recorded.yaml"
cmp -s "$T/rec/greets.yaml" "$T/greets.orig" || fail "the scenario was changed"
ok "the recording is a new file; the scenario is untouched"
assert_not_contains "$(cat "$T/rec/greets.recorded.yaml")" "record:" "the recording does not record again"
stop_server
# The recording replays with no server and no network.
run "$BRIDLE" test "$T/rec/greets.recorded.yaml"
assert_rc 0 "the recording replays and passes"
assert_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "1 passed, 0 failed" "1 passed"
"$PY" - "$T/rec/greets.recorded.yaml" <<'PY' || fail "the recording's model turns"
import sys, json, re
text = open(sys.argv[1]).read()
turns = [json.loads(l[4:]) for l in text.split("\n") if l.startswith("  - ")]
assert len(turns) == 2, text
assert turns[0][0]["type"] == "function_call" and turns[0][0]["name"] == "write_file", turns
assert turns[0][0]["arguments"] == {"path": "hello.txt", "content": "from the model\n"}, turns
assert turns[1][0]["type"] == "message", turns
PY
ok "the recording holds the model's two turns, arguments as a mapping"
