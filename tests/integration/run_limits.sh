#!/bin/bash
# SPDX-License-Identifier: MIT
# Limits and errors of bridle run, end to end: max_turns stops a run (exit 3,
# status stopped) that `bridle resume RUN --max-turns 10` completes without
# asking the model a turn twice; a token budget stops a run (exit 3, the
# reason); a scripted run past its script's end fails (exit 1, the turn named);
# bad agent files (exit 2, FILE:LINE:COL) and usage errors (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

# Five turns, each with usage 100 in / 50 out: four commands, then an answer.
cat >"$T/script.json" <<'EOF'
[
 {"items": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "echo t1 >> log.txt"}}],
  "usage": {"input_tokens": 100, "output_tokens": 50}},
 {"items": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "echo t2 >> log.txt"}}],
  "usage": {"input_tokens": 100, "output_tokens": 50}},
 {"items": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "echo t3 >> log.txt"}}],
  "usage": {"input_tokens": 100, "output_tokens": 50}},
 {"items": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "cat log.txt"}}],
  "usage": {"input_tokens": 100, "output_tokens": 50}},
 {"items": [{"type": "message", "content": "done"}],
  "usage": {"input_tokens": 100, "output_tokens": 50}}
]
EOF

# ---- max_turns: 2 ----
agent "$T/turns.yaml" stepper openai-responses "exec_command, read_file" \
        "manifest: $T/manifest.yaml" "max_turns: 2"
start_server turns "$T/script.json"
run "$BRIDLE" run --agent "$T/turns.yaml" --base-url "$URL" --journal "$JOURNAL" "Append lines"
assert_rc 3 "max_turns 2: the run stops"
RUN=$(run_id_of "$ERR")
assert_match "$RUN" '^[0-9a-f]{32}$' "max_turns: 'run <id>' on stderr"
assert_contains "$ERR" "max_turns" "max_turns: the message says why"
assert_contains "$ERR" "bridle resume $RUN" "max_turns: the message says how to continue"
assert_eq "$OUT" "" "max_turns: nothing on stdout"
assert_eq "$(wc -l <"$LOG")" 2 "max_turns: the server got 2 requests"
run "$BRIDLE" runs --json --journal "$JOURNAL"
json_check "j['id'] == '$RUN' and j['status'] == 'stopped' and j['turns'] == 2" "max_turns: runs shows it stopped after 2 turns"
events "$RUN"
pycheck "max_turns: run.status stopped, with the reason" '
s = last_status()
ok = s.get("status") == "stopped" and "max_turns" in s.get("reason", "")
why = s'

resume "$RUN" --max-turns 10
assert_rc 0 "resume --max-turns 10: the run completes"
assert_eq "$OUT" "done" "resume: the final answer on stdout"
assert_eq "$(run_id_of "$ERR")" "$RUN" "resume: prints the same run id"
pycheck "resume: 5 requests in all, no turn asked twice (request k carries exactly the k-1 earlier outputs)" '
ok = len(req) == 5
for n, r in enumerate(req):
    outs = [i["call_id"] for i in r["body"]["input"] if i.get("type") == "function_call_output"]
    if outs != ["call_%d" % k for k in range(1, n + 1)]:
        ok = False
        why += "request %d carries %s; " % (n + 1, outs)'
events "$RUN"
pycheck "resume: each call ran once; the sandbox kept its files (log.txt has t1 t2 t3 once)" '
fin = of("tool.finished")
ids = [f["data"]["output_item"]["call_id"] for f in fin]
ok = ids == ["call_1", "call_2", "call_3", "call_4"]
cat = fin[-1]["data"]["output_item"]["output"] if fin else ""
lines = [l for l in cat.split("Output:")[-1].splitlines() if l.strip()]
ok = ok and lines == ["t1", "t2", "t3"]
ok = ok and len(of("run.resumed")) == 1 and last_status().get("status") == "completed" and len(of("model.response")) == 5
why = (ids, cat, types())'
run "$BRIDLE" runs --json --journal "$JOURNAL"
json_check "j['id'] == '$RUN' and j['status'] == 'completed' and j['turns'] == 5 and j['input_tokens'] == 500 and j['output_tokens'] == 250" \
        "resume: runs shows it completed, 5 turns, the tokens of 5 responses"
resume "$RUN"
assert_rc 2 "resume of a completed run is refused"
assert_contains "$ERR" "nothing to resume" "resume of a completed run: the message"
stop_server

# ---- budget: {tokens: 400}: 3 turns use 450 ----
agent "$T/budget.yaml" saver openai-responses "exec_command" \
        "manifest: $T/manifest.yaml" "max_turns: 10" "budget: {tokens: 400}"
start_server budget "$T/script.json"
run "$BRIDLE" run --agent "$T/budget.yaml" --base-url "$URL" --journal "$JOURNAL" "Spend"
assert_rc 3 "budget: the run stops"
RUN=$(run_id_of "$ERR")
assert_contains "$ERR" "token budget (400)" "budget: the message names the budget"
assert_contains "$ERR" "450" "budget: the message says what was used"
assert_eq "$(wc -l <"$LOG")" 3 "budget: no request after the budget is spent"
events "$RUN"
pycheck "budget: run.status stopped with the reason" '
s = last_status()
ok = s.get("status") == "stopped" and "token budget" in s.get("reason", "") and len(of("model.response")) == 3
why = s'
# Resuming without raising the budget stops again at once, without a request.
resume "$RUN"
assert_rc 3 "budget: resume without a higher budget stops again"
assert_contains "$ERR" "token budget (400)" "budget: resume says why"
assert_eq "$(wc -l <"$LOG")" 3 "budget: resume asked the model nothing"
stop_server

# ---- a scripted run past its script's end ----
cat >"$T/short.yaml" <<'EOF'
- - {type: function_call, name: exec_command, arguments: {cmd: "echo one"}}
EOF
run "$BRIDLE" run --provider scripted --script "$T/short.yaml" --manifest "$T/manifest.yaml" \
        --journal "$JOURNAL" "Run past the end"
assert_rc 1 "past the script's end: the run fails"
RUN=$(run_id_of "$ERR")
assert_contains "$ERR" "turn 2" "past the script's end: the message names the turn"
assert_contains "$ERR" "short.yaml" "past the script's end: the message names the script"
assert_contains "$ERR" "(model)" "past the script's end: where is the model"
events "$RUN"
pycheck "past the script's end: run.status failed, where model, one tool ran" '
s = last_status()
ok = s.get("status") == "failed" and s.get("where") == "model" and "turn 2" in s.get("reason", "")
ok = ok and [f["data"]["ok"] for f in of("tool.finished")] == [True]
why = s'

# ---- bad agent files: exit 2 with FILE:LINE:COL ----
printf 'name: bad\nprovider: scripted\ninstructions: hi\nbogus_key: 1\n' >"$T/bad_key.yaml"
run "$BRIDLE" run --agent "$T/bad_key.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "an unknown key in the agent file"
assert_match "$ERR" "$T/bad_key.yaml:4:[0-9]+: .*bogus_key.*unknown key" "unknown key: FILE:LINE:COL and the key"
printf 'name: bad\nprovider: scripted\nmax_turns: ten\n' >"$T/bad_type.yaml"
run "$BRIDLE" run --agent "$T/bad_type.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "a wrong type in the agent file"
assert_match "$ERR" "$T/bad_type.yaml:3:12: max_turns: " "wrong type: FILE:LINE:COL of the value"
printf 'name: bad\nprovider: scripted\ntools: [exec_command, no_such_tool]\n' >"$T/bad_tool.yaml"
run "$BRIDLE" run --agent "$T/bad_tool.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "an unknown tool in the agent file"
assert_match "$ERR" "$T/bad_tool.yaml:3:[0-9]+: tools\\[1\\]: 'no_such_tool'" "unknown tool: FILE:LINE:COL and the name"
printf 'name: bad\nprovider: scripted\nhandoffs: [missing.yaml]\n' >"$T/bad_handoff.yaml"
run "$BRIDLE" run --agent "$T/bad_handoff.yaml" --journal "$JOURNAL" "x"
# A handoff naming a missing file is a bad agent file: exit 2, with the
# position of the handoff entry (like every other error in the file).
if [ "$RC" = 1 ]; then
        known_bug "a handoff to a missing file exits 1 without FILE:LINE:COL (wanted 2, '$T/bad_handoff.yaml:3:12: handoffs[0]: ...'): $ERR"
else
        assert_rc 2 "a handoff to a missing file"
        assert_match "$ERR" "$T/bad_handoff.yaml:3:[0-9]+: " "missing handoff: FILE:LINE:COL of the entry"
fi
assert_contains "$ERR" "missing.yaml" "missing handoff: the file is named"
printf 'name: bad\nprovider: scripted\nbudget: {tokens: 5, dollars: 3}\n' >"$T/bad_budget.yaml"
run "$BRIDLE" run --agent "$T/bad_budget.yaml" --journal "$JOURNAL" "x"
assert_rc 2 "an unknown budget key"
assert_match "$ERR" "$T/bad_budget.yaml:3:[0-9]+: .*dollars" "unknown budget key: FILE:LINE:COL"
run "$BRIDLE" run --agent "$T/no_such_agent.yaml" --journal "$JOURNAL" "x"
assert_rc 1 "a missing agent file (an I/O error, not a bad file)"
assert_contains "$ERR" "no_such_agent.yaml" "missing agent file: named"

# None of these started a run.
run "$BRIDLE" runs --json --journal "$JOURNAL"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 3 "bad agent files start no run (3 runs in the journal)"

# ---- usage errors: exit 2 ----
run "$BRIDLE" run --journal "$JOURNAL"
assert_rc 2 "run without a task"
assert_contains "$ERR" "no task" "run without a task: the message"
run "$BRIDLE" run --max-turns 0 --journal "$JOURNAL" "x"
assert_rc 2 "run --max-turns 0"
run "$BRIDLE" run --max-turns many --journal "$JOURNAL" "x"
assert_rc 2 "run --max-turns many"
run "$BRIDLE" run --no-such-flag "x"
assert_rc 2 "run --no-such-flag"
run "$BRIDLE" run --provider bogus --journal "$JOURNAL" "x"
assert_rc 2 "run --provider bogus"
assert_contains "$ERR" "bogus" "--provider bogus: named"
run "$BRIDLE" run --provider openai-responses --journal "$JOURNAL" "x"
# A missing key is a configuration error found before anything runs: exit 2, no run.
if [ "$RC" = 1 ] && [ -n "$(run_id_of "$ERR")" ]; then
        known_bug "a real provider without a key (nor --base-url) starts a run that fails (exit 1, 'failed (internal)', a failed run in the journal that resume refuses); wanted exit 2 before a run starts: $ERR"
        NORUNS=4
else
        assert_rc 2 "a real provider without a key or a base URL"
        NORUNS=3
fi
assert_contains "$ERR" "OPENAI_API_KEY" "no key: the variable is named"
run "$BRIDLE" resume --journal "$JOURNAL"
assert_rc 2 "resume without a run"
run "$BRIDLE" resume --max-turns 0 --journal "$JOURNAL" "$RUN"
assert_rc 2 "resume --max-turns 0"
run "$BRIDLE" resume --journal "$JOURNAL" ffffffffffff
assert_rc 1 "resume of an unknown run"
assert_contains "$ERR" "ffffffffffff" "resume of an unknown run: named"
run "$BRIDLE" runs --json --journal "$JOURNAL"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "$NORUNS" "usage errors start no run"

bugs_end
