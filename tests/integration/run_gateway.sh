#!/bin/bash
# SPDX-License-Identifier: MIT
# The gateway end to end (issue 5), the real CLI with the scripted model and
# tools in a real sandbox:
# (a) deferred approvals: a call that asks stops the run (exit 4,
#     awaiting_approval); `bridle approvals` lists it with its rule and
#     arguments; `bridle approve` from another process; `bridle resume`
#     completes it and the call ran exactly once; answers to calls or runs
#     that are not waiting are refused (exit 1); a resume without an answer
#     waits again without asking twice; `--all`;
# (b) `bridle deny RUN CALL --reason` reaches the model (the fake server's
#     request log) as the call's output, and the run completes;
# (c) a policy deny: the refusal (rule and reason) is the call's output, the
#     file is still there, the run completes; stop_on_deny: 1 stops (exit 3);
# (d) --approvals deny: asks become refusals, no exit 4 (also on resume);
# (e) a malformed policy is exit 2 with FILE:LINE:COL; a rule for a tool the
#     agent does not have is a run.warning;
# (f) native Responses items (apply_patch_call, shell_call) are decided too:
#     approved, denied by a person and by the policy, in their own shapes.
# The asking call is `sh out/append.sh WORD` (a command rule, no redirection
# in the command string): it appends WORD to out/log.txt, out/ a host folder
# bound read-write, so the host sees how often it ran.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

# ws NAME: a host folder $T/NAME-out with append.sh, and a manifest
# $T/NAME-manifest.yaml binding it at out/ read-write.
ws() {
        local name=$1
        mkdir -p "$T/$name-out"
        chmod 777 "$T/$name-out"
        # shellcheck disable=SC2016 # expanded by sh in the sandbox
        printf '#!/bin/sh\necho "$1" >> "$(dirname "$0")/log.txt"\n' >"$T/$name-out/append.sh"
        cat >"$T/$name-manifest.yaml" <<EOF
version: 1
entries:
  - {type: local_dir, path: out, source: $T/$name-out}
  - {type: file, path: README.md, content: "the workspace of a gateway test\n"}
network: none
limits: {timeout: 120, memory: 256M, pids: 64}
EOF
}
# log_of NAME: the lines out/append.sh wrote (empty when it never ran).
log_of() { cat "$T/$1-out/log.txt" 2>/dev/null || true; }

# gw_agent NAME POLICY_FILE SCRIPT_FILE [EXTRA YAML LINES...]: a scripted agent
# $T/NAME.yaml with exec_command, read_file, write_file, the workspace of ws NAME.
gw_agent() {
        local name=$1 policy=$2 script=$3
        shift 3
        ws "$name"
        {
                printf 'name: %s\nmodel: test-model\nprovider: scripted\n' "$name"
                printf 'script: %s\n' "$script"
                printf 'instructions: Do the task.\n'
                printf 'tools: [exec_command, read_file, write_file]\n'
                printf 'manifest: %s\n' "$T/$name-manifest.yaml"
                [ -n "$policy" ] && printf 'policy: %s\n' "$policy"
                printf 'max_turns: 10\n'
                local l
                for l in "$@"; do printf '%s\n' "$l"; done
        } >"$T/$name.yaml"
}

# status_of RUN: the run's status in `bridle runs --json`.
status_of() {
        "$BRIDLE" runs --json --journal "$JOURNAL" 2>/dev/null | "$PY" -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        r = json.loads(l)
        if r.get("id") == sys.argv[1]:
            print(r.get("status")); break' "$1"
}

# The policy of (a), (b), (d): ask by default; appending asks (a rule with a
# reason); npm install asks; reading is allowed.
cat >"$T/policy.yaml" <<'EOF'
default: ask
tools:
  read_file: allow
commands:
  - {prefix: [sh, out/append.sh], decision: ask, reason: "appends a line"}
  - {prefix: [npm, install], decision: ask}
EOF
RULE_APPEND='commands[0] prefix [sh out/append.sh]'

# =============================================================================
# (a) deferred: stop, list, approve from another process, resume
# =============================================================================
cat >"$T/a.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_a1, arguments: {cmd: "sh out/append.sh once"}}
- - {type: message, content: "appended once"}
EOF
gw_agent defer "$T/policy.yaml" "$T/a.yaml"
# stdin is not a terminal (run's </dev/null): the default is defer
run "$BRIDLE" run --agent "$T/defer.yaml" --journal "$JOURNAL" "Append a line"
assert_rc 4 "(a) a call that asks, stdin not a terminal: the run waits (exit 4)"
RUN=$(run_id_of "$ERR")
assert_match "$RUN" '^[0-9a-f]{32}$' "(a) 'run <id>' on stderr"
assert_contains "$ERR" "bridle approvals $RUN" "(a) stderr says how to see the pending calls"
assert_eq "$OUT" "" "(a) nothing on stdout"
assert_eq "$(status_of "$RUN")" "awaiting_approval" "(a) bridle runs --json: awaiting_approval"
assert_eq "$(log_of defer)" "" "(a) the call did not run"
events "$RUN"
pycheck "(a) journal: gateway.decision ask with the rule, approval.requested, run.status awaiting_approval, no tool.finished" '
d = [e["data"] for e in of("gateway.decision")]
rq = [e["data"] for e in of("approval.requested")]
ok = len(d) == 1 and d[0]["call_id"] == "call_a1" and d[0]["decision"] == "ask" and d[0]["rule"] == args[0]
ok = ok and len(rq) == 1 and rq[0]["call_id"] == "call_a1" and rq[0]["rule"] == args[0]
ok = ok and last_status().get("status") == "awaiting_approval" and not of("tool.finished") and not of("tool.started")
why = (d, rq, types())' "$RULE_APPEND"

run "$BRIDLE" approvals --json --journal "$JOURNAL"
assert_rc 0 "(a) bridle approvals --json"
pycheck "(a) bridle approvals --json lists the call with its tool, rule, reason and arguments" '
rows = [json.loads(l) for l in out.splitlines() if l.strip()]
mine = [r for r in rows if r["run_id"] == args[1]]
ok = len(mine) == 1 and mine[0]["call_id"] == "call_a1" and mine[0]["tool"] == "exec_command"
ok = ok and mine[0]["rule"] == args[0] and mine[0]["reason"] == "appends a line"
ok = ok and json.loads(mine[0]["arguments"]) == {"cmd": "sh out/append.sh once"} and mine[0]["asked_at"] > 0
why = rows' "$RULE_APPEND" "$RUN"
run "$BRIDLE" approvals "$RUN" --journal "$JOURNAL"
assert_rc 0 "(a) bridle approvals RUN (text)"
assert_contains "$OUT" "call_a1" "(a) the text listing names the call"
assert_contains "$OUT" "$RULE_APPEND" "(a) the text listing names the rule"
assert_contains "$OUT" "sh out/append.sh once" "(a) the text listing shows the arguments"

# A resume without an answer: still waiting, nothing ran, not asked twice.
resume "$RUN"
assert_rc 4 "(a) resume with no answer: waits again (exit 4)"
assert_eq "$(log_of defer)" "" "(a) ... and the call did not run"
events "$RUN"
pycheck "(a) ... one approval.requested, one model.response (the model was not asked again)" '
ok = len(of("approval.requested")) == 1 and len(of("model.response")) == 1
ok = ok and last_status().get("status") == "awaiting_approval"
why = types()'

run "$BRIDLE" approve "$RUN" call_nope --journal "$JOURNAL"
assert_rc 1 "(a) approve a call id the run does not wait for: refused"
run "$BRIDLE" approve --journal "$JOURNAL" "$RUN" call_a1
assert_rc 0 "(a) bridle approve RUN CALL_ID (another process)"
run "$BRIDLE" approve --journal "$JOURNAL" "$RUN" call_a1
assert_rc 1 "(a) approving the same call again (no longer pending): refused"
run "$BRIDLE" deny --journal "$JOURNAL" "$RUN" call_a1 --reason late
assert_rc 1 "(a) denying an answered call: refused"
run "$BRIDLE" approvals --json --journal "$JOURNAL" "$RUN"
assert_rc 0 "(a) approvals after the answer"
assert_not_contains "$OUT" "call_a1" "(a) the answered call is no longer listed"
assert_eq "$(log_of defer)" "" "(a) approving did not run the call (resume does)"

resume "$RUN"
assert_rc 0 "(a) bridle resume RUN: completes"
assert_eq "$OUT" "appended once" "(a) the final answer"
assert_eq "$(log_of defer)" "once" "(a) the approved call ran exactly once"
assert_eq "$(status_of "$RUN")" "completed" "(a) bridle runs --json: completed"
events "$RUN"
pycheck "(a) journal: approval.given by cli, the call started and finished once (ok), completed" '
g = [e["data"] for e in of("approval.given")]
st = [e["data"]["call_id"] for e in of("tool.started")]
fin = [e["data"] for e in of("tool.finished")]
ok = len(g) == 1 and g[0]["call_id"] == "call_a1" and g[0]["decision"] == "approve" and g[0]["by"] == "cli"
ok = ok and st == ["call_a1"] and len(fin) == 1 and fin[0]["ok"] and not fin[0].get("denied")
ok = ok and last_status().get("status") == "completed" and len(of("model.response")) == 2
why = (g, st, fin, types())'

# Answers to a run that is not waiting: refused, and nothing changes.
run "$BRIDLE" approve --journal "$JOURNAL" "$RUN" --all
assert_rc 1 "(a) approve --all on a completed run: refused"
assert_contains "$ERR" "not awaiting approval" "(a) ... saying the run is not awaiting approval"
run "$BRIDLE" deny --journal "$JOURNAL" "$RUN" call_a1 --reason no
assert_rc 1 "(a) deny on a completed run: refused"
# A run that does not exist: refused with a message (approve, deny, approvals).
NORUN=0123456789abcdef0123456789abcdef
for cmd in "approve $NORUN call_a1" "approve $NORUN --all" "deny $NORUN call_a1" "approvals $NORUN"; do
        # shellcheck disable=SC2086 # the words of cmd
        run "$BRIDLE" $cmd --journal "$JOURNAL"
        if [ "$RC" -gt 128 ]; then
                say "  'bridle $cmd': exit $RC"
                norun_crash=${norun_crash:-$cmd}
                continue
        fi
        assert_rc 1 "(a) 'bridle ${cmd%% *}' on a run that does not exist: refused"
        assert_contains "$ERR" "$NORUN" "(a) ... the message names the run"
done
if [ -n "${norun_crash:-}" ]; then
        known_bug "'bridle $norun_crash' (and approve --all, deny, approvals RUN) for a run that does not exist crashes (SIGSEGV) instead of exit 1: src/runner/approvals.c fold_run() fails in bridle__journal_events() before bridle__run_state_fold() initialises the bridle__run_state, and bridle_approval_answer()/bridle_approvals_list() then call bridle__run_state_clear() on the uninitialised struct (json_decref of stack garbage; state.c:423). Fix: zero-initialise 'st' (bridle__run_state st = {0};) or clear it only after a successful fold"
fi
resume "$RUN"
if [ "$RC" = 0 ] || [ "$RC" = 4 ]; then fail "(a) resuming a completed run: exit $RC"; fi
ok "(a) resuming the completed run is refused (exit $RC)"
assert_eq "$(log_of defer)" "once" "(a) after all that, the call still ran once"
run "$BRIDLE" approve "$RUN" --journal "$JOURNAL" call_a1 --all
assert_rc 2 "(a) approve with both CALL_ID and --all: usage error"

# Two calls asking in one turn, approved with --all; a call that is allowed
# in the same turn waits with them and runs once.
cat >"$T/a2.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_b1, arguments: {cmd: "sh out/append.sh first"}}
  - {type: function_call, name: read_file, call_id: call_b2, arguments: {path: README.md}}
  - {type: function_call, name: exec_command, call_id: call_b3, arguments: {cmd: "sh out/append.sh second"}}
- - {type: message, content: "both appended"}
EOF
gw_agent all "$T/policy.yaml" "$T/a2.yaml"
run "$BRIDLE" run --agent "$T/all.yaml" --approvals defer --journal "$JOURNAL" "Append two lines"
assert_rc 4 "(a) --all: two asking calls, --approvals defer: exit 4"
RUN=$(run_id_of "$ERR")
run "$BRIDLE" approvals --json --journal "$JOURNAL" "$RUN"
pycheck "(a) --all: both asking calls are listed, the allowed read_file is not" '
ids = sorted(json.loads(l)["call_id"] for l in out.splitlines() if l.strip())
ok = ids == ["call_b1", "call_b3"]
why = ids'
run "$BRIDLE" approve --journal "$JOURNAL" "$RUN" --all
assert_rc 0 "(a) bridle approve RUN --all"
resume "$RUN"
assert_rc 0 "(a) --all: resume completes"
assert_eq "$(log_of all)" $'first\nsecond' "(a) --all: each approved call ran once, in order"
events "$RUN"
pycheck "(a) --all: three calls finished once each (read_file too), two approvals given" '
fin = [e["data"]["call_id"] for e in of("tool.finished")]
g = sorted(e["data"]["call_id"] for e in of("approval.given"))
ok = fin == ["call_b1", "call_b2", "call_b3"] and g == ["call_b1", "call_b3"]
ok = ok and "the workspace of a gateway test" in of("tool.finished")[1]["data"]["output_item"]["output"]
why = (fin, g)'

# =============================================================================
# (b) deny with a reason: it reaches the model (the fake server's log)
# =============================================================================
cat >"$T/b.json" <<'EOF'
[
 [{"type": "function_call", "name": "exec_command", "call_id": "call_npm", "arguments": {"cmd": "npm install left-pad"}}],
 [{"type": "function_call", "name": "exec_command", "call_id": "call_after", "arguments": {"cmd": "sh out/append.sh after"}}],
 [{"type": "message", "content": "used yarn instead"}]
]
EOF
ws deny
cat >"$T/deny.yaml" <<EOF
name: denier
model: test-model
provider: openai-responses
instructions: Do the task.
tools: [exec_command, read_file]
manifest: $T/deny-manifest.yaml
policy: $T/policy.yaml
EOF
start_server deny "$T/b.json"
run "$BRIDLE" run --agent "$T/deny.yaml" --base-url "$URL" --approvals defer --journal "$JOURNAL" "Add left-pad"
assert_rc 4 "(b) npm install asks: the run waits (exit 4)"
RUN=$(run_id_of "$ERR")
run "$BRIDLE" deny "$RUN" call_npm --reason "use yarn" --journal "$JOURNAL"
assert_rc 0 "(b) bridle deny RUN CALL_ID --reason 'use yarn'"
run "$BRIDLE" deny "$RUN" call_npm --journal "$JOURNAL"
assert_rc 1 "(b) denying it again: refused (no longer pending)"
resume "$RUN"
assert_rc 4 "(b) resume: the denial goes back, the next call asks again (exit 4)"
pycheck "(b) the model's next request carries 'denied by a person: use yarn' as call_npm's output" '
outs = [i for i in req[-1]["body"]["input"] if i.get("type") == "function_call_output"]
ok = len(req) == 2 and len(outs) == 1 and outs[0]["call_id"] == "call_npm"
ok = ok and outs[0]["output"] == "denied by a person: use yarn"
why = [r["body"]["input"] for r in req]'
events "$RUN"
pycheck "(b) journal: approval.given deny with the reason; tool.finished denied, its output_item the refusal; npm never started" '
g = [e["data"] for e in of("approval.given")]
fin = [e["data"] for e in of("tool.finished") if e["data"]["call_id"] == "call_npm"]
ok = len(g) == 1 and g[0]["decision"] == "deny" and g[0]["reason"] == "use yarn"
ok = ok and len(fin) == 1 and fin[0].get("denied") is True and fin[0]["ok"] is False
ok = ok and fin[0]["output_item"] == {"type": "function_call_output", "call_id": "call_npm", "output": "denied by a person: use yarn"}
ok = ok and "call_npm" not in [e["data"]["call_id"] for e in of("tool.started")]
why = (g, fin)'
run "$BRIDLE" approve "$RUN" call_after --journal "$JOURNAL"
assert_rc 0 "(b) approve the next call"
resume "$RUN"
assert_rc 0 "(b) the run goes on to complete"
assert_eq "$OUT" "used yarn instead" "(b) the final answer"
assert_eq "$(log_of deny)" "after" "(b) the approved call ran once"
assert_eq "$(wc -l <"$LOG")" 3 "(b) the server was asked 3 times in all (no turn twice)"
stop_server

# deny without --reason: the refusal says a person denied it, and nothing more
cat >"$T/b2.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_nr, arguments: {cmd: "sh out/append.sh never"}}
- - {type: message, content: "ok, not appended"}
EOF
gw_agent noreason "$T/policy.yaml" "$T/b2.yaml"
run "$BRIDLE" run --agent "$T/noreason.yaml" --journal "$JOURNAL" "Append"
assert_rc 4 "(b) no reason: waits"
RUN=$(run_id_of "$ERR")
run "$BRIDLE" deny "$RUN" call_nr --journal "$JOURNAL"
assert_rc 0 "(b) bridle deny RUN CALL_ID (no reason)"
resume "$RUN"
assert_rc 0 "(b) no reason: the run completes"
assert_eq "$(log_of noreason)" "" "(b) the denied call never ran"
events "$RUN"
pycheck "(b) no reason: the output is 'denied by a person'" '
fin = [e["data"] for e in of("tool.finished")]
ok = len(fin) == 1 and fin[0]["output_item"]["output"] == "denied by a person" and fin[0].get("denied") is True
why = fin'

# =============================================================================
# (c) a policy deny; stop_on_deny
# =============================================================================
cat >"$T/deny-policy.yaml" <<'EOF'
default: allow
commands:
  - {prefix: [rm, -rf], decision: deny, reason: destructive}
EOF
cat >"$T/c.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_rm, arguments: {cmd: "rm -rf out/victim.txt"}}
- - {type: function_call, name: exec_command, call_id: call_ls, arguments: {cmd: "ls out"}}
- - {type: message, content: "could not delete"}
EOF
gw_agent pdeny "$T/deny-policy.yaml" "$T/c.yaml"
echo "keep me" >"$T/pdeny-out/victim.txt"
run "$BRIDLE" run --agent "$T/pdeny.yaml" --journal "$JOURNAL" "Delete victim.txt"
assert_rc 0 "(c) policy deny: the run goes on and completes"
assert_eq "$OUT" "could not delete" "(c) the final answer"
assert_eq "$(cat "$T/pdeny-out/victim.txt")" "keep me" "(c) the file is still there"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(c) gateway.decision deny (rule, reason); the call's output is the refusal with both; the next call ran" '
d = {e["data"]["call_id"]: e["data"] for e in of("gateway.decision")}
fin = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
rm = fin.get("call_rm", {})
text = rm.get("output_item", {}).get("output", "")
ok = d["call_rm"]["decision"] == "deny" and d["call_rm"]["rule"] == "commands[0] prefix [rm -rf]"
ok = ok and d["call_rm"]["reason"] == "destructive"
ok = ok and rm.get("denied") is True and rm.get("ok") is False
ok = ok and "commands[0] prefix [rm -rf]" in text and "destructive" in text and text.startswith("denied by policy")
ok = ok and "call_rm" not in [e["data"]["call_id"] for e in of("tool.started")]
ok = ok and "victim.txt" in fin.get("call_ls", {}).get("output_item", {}).get("output", "")
ok = ok and d["call_ls"]["decision"] == "allow" and not of("approval.requested")
why = (d, fin)'

# stop_on_deny: 1 -> the first denial stops the run (exit 3)
printf 'stop_on_deny: 1\n' | cat "$T/deny-policy.yaml" - >"$T/stop-policy.yaml"
gw_agent stop "$T/stop-policy.yaml" "$T/c.yaml"
echo "keep me" >"$T/stop-out/victim.txt"
run "$BRIDLE" run --agent "$T/stop.yaml" --journal "$JOURNAL" "Delete victim.txt"
assert_rc 3 "(c) stop_on_deny: 1: the run stops (exit 3)"
assert_contains "$ERR" "stop_on_deny" "(c) stop_on_deny: stderr says why"
RUN=$(run_id_of "$ERR")
assert_eq "$(status_of "$RUN")" "stopped" "(c) stop_on_deny: bridle runs --json: stopped"
assert_eq "$(cat "$T/stop-out/victim.txt")" "keep me" "(c) stop_on_deny: the file is still there"
events "$RUN"
pycheck "(c) stop_on_deny: the refusal was recorded, the model was not asked again" '
s = last_status()
ok = s.get("status") == "stopped" and "stop_on_deny" in s.get("reason", "")
ok = ok and len(of("model.response")) == 1 and [e["data"].get("denied") for e in of("tool.finished")] == [True]
why = (s, types())'

# stop_on_deny: 2 counts denials across turns (the first goes back to the model)
cat >"$T/c2.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_rm1, arguments: {cmd: "rm -rf out/victim.txt"}}
- - {type: function_call, name: exec_command, call_id: call_rm2, arguments: {cmd: "ls && rm -rf out"}}
- - {type: message, content: "never reached"}
EOF
printf 'stop_on_deny: 2\n' | cat "$T/deny-policy.yaml" - >"$T/stop2-policy.yaml"
gw_agent stop2 "$T/stop2-policy.yaml" "$T/c2.yaml"
echo "keep me" >"$T/stop2-out/victim.txt"
run "$BRIDLE" run --agent "$T/stop2.yaml" --journal "$JOURNAL" "Delete things"
assert_rc 3 "(c) stop_on_deny: 2: stops at the second denial (exit 3)"
assert_eq "$(cat "$T/stop2-out/victim.txt")" "keep me" "(c) stop_on_deny: 2: the file is still there"
events "$(run_id_of "$ERR")"
pycheck "(c) stop_on_deny: 2: two model responses, two denied calls" '
ok = len(of("model.response")) == 2 and [e["data"].get("denied") for e in of("tool.finished")] == [True, True]
why = types()'

# A turn with a denied call and a call that waits: the denial counts once,
# though the turn's calls are decided again when the run resumes.
cat >"$T/c3.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_rm3, arguments: {cmd: "rm -rf out/victim.txt"}}
  - {type: function_call, name: exec_command, call_id: call_ap3, arguments: {cmd: "sh out/append.sh mixed"}}
- - {type: message, content: "one denied, one appended"}
EOF
cat >"$T/mixed-policy.yaml" <<'EOF'
default: allow
commands:
  - {prefix: [rm, -rf], decision: deny, reason: destructive}
  - {prefix: [sh, out/append.sh], decision: ask}
stop_on_deny: 2
EOF
gw_agent mixed "$T/mixed-policy.yaml" "$T/c3.yaml"
echo "keep me" >"$T/mixed-out/victim.txt"
run "$BRIDLE" run --agent "$T/mixed.yaml" --journal "$JOURNAL" "Delete and append"
assert_rc 4 "(c) mixed turn (a deny and an ask), stop_on_deny: 2: waits (exit 4)"
RUN=$(run_id_of "$ERR")
run "$BRIDLE" approve "$RUN" call_ap3 --journal "$JOURNAL"
assert_rc 0 "(c) mixed turn: approve the asking call"
resume "$RUN"
assert_eq "$(log_of mixed)" "mixed" "(c) mixed turn: the approved call ran once"
assert_eq "$(cat "$T/mixed-out/victim.txt")" "keep me" "(c) mixed turn: the file is still there"
if [ "$RC" = 3 ] && [[ $ERR == *"2 denied call"* ]]; then
        known_bug "one denied call counts twice toward stop_on_deny: a turn with a policy-denied call and a call that asks is deferred (exit 4) after gateway.decision deny was journaled (state.c counts it: denials=1); on resume bridle__run_gate() decides the denied call again and journals a second gateway.decision deny (denials=2), so with stop_on_deny: 2 the run stops ('stopped after 2 denied call(s)', exit 3) after a single denial. Expected: exit 0, the run completes. Repro: the 'mixed turn' block of run_gateway.sh. Fix idea: on resume, reuse the journaled decision of a call that has one (or count a call's denial once, by call_id)"
else
        assert_rc 0 "(c) mixed turn: the run completes (one denial is not two)"
        assert_eq "$OUT" "one denied, one appended" "(c) mixed turn: the final answer"
fi
events "$RUN"
pycheck "(c) mixed turn: the denied call finished once (denied), the approved one once (ok)" '
fin = [(e["data"]["call_id"], bool(e["data"].get("denied"))) for e in of("tool.finished")]
ok = fin == [("call_rm3", True), ("call_ap3", False)]
why = fin'

# =============================================================================
# (d) --approvals deny: asks become refusals, no exit 4
# =============================================================================
cat >"$T/d.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: call_d1, arguments: {cmd: "sh out/append.sh nope"}}
  - {type: function_call, name: exec_command, call_id: call_d2, arguments: {cmd: "cat README.md"}}
- - {type: message, content: "refused as expected"}
EOF
gw_agent adeny "$T/policy.yaml" "$T/d.yaml"
run "$BRIDLE" run --agent "$T/adeny.yaml" --approvals deny --journal "$JOURNAL" "Append"
assert_rc 0 "(d) --approvals deny: no exit 4, the run completes"
assert_eq "$OUT" "refused as expected" "(d) the final answer"
assert_eq "$(log_of adeny)" "" "(d) the asking call did not run"
events "$(run_id_of "$ERR")"
pycheck "(d) the asking call is refused (the rule named), the safe one ran, nothing was requested" '
fin = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
t = fin["call_d1"]["output_item"]["output"]
ok = fin["call_d1"].get("denied") is True and "approvals are set to deny" in t and args[0] in t
ok = ok and not fin["call_d2"].get("denied") and "the workspace of a gateway test" in fin["call_d2"]["output_item"]["output"]
ok = ok and not of("approval.requested") and not of("approval.given")
why = fin' "$RULE_APPEND"

# a deferred run resumed with --approvals deny: the waiting call is refused
gw_agent rdeny "$T/policy.yaml" "$T/d.yaml"
run "$BRIDLE" run --agent "$T/rdeny.yaml" --journal "$JOURNAL" "Append"
assert_rc 4 "(d) deferred first (exit 4)"
RUN=$(run_id_of "$ERR")
resume "$RUN" --approvals deny
assert_rc 0 "(d) resume --approvals deny: completes without an answer"
assert_eq "$(log_of rdeny)" "" "(d) resume --approvals deny: the call did not run"
events "$RUN"
pycheck "(d) resume --approvals deny: the waiting call got a refusal" '
fin = {e["data"]["call_id"]: e["data"] for e in of("tool.finished")}
ok = fin.get("call_d1", {}).get("denied") is True and last_status().get("status") == "completed"
why = fin'

run "$BRIDLE" run --agent "$T/rdeny.yaml" --approvals maybe --journal "$JOURNAL" "Append"
assert_rc 2 "(d) --approvals maybe: usage error"

# =============================================================================
# (e) a malformed policy; a rule for a tool the agent does not have
# =============================================================================
printf 'default: ask\ntools:\n  read_file: yes\n' >"$T/bad-policy.yaml"
gw_agent bad "$T/bad-policy.yaml" "$T/a.yaml"
run "$BRIDLE" run --agent "$T/bad.yaml" --journal "$JOURNAL" "Append"
assert_rc 2 "(e) a malformed policy (agent's policy:): exit 2"
assert_contains "$ERR" "bad-policy.yaml:3:14:" "(e) the message names FILE:LINE:COL"
assert_contains "$ERR" "tools.read_file" "(e) the message names the key path"
assert_eq "$(log_of bad)" "" "(e) nothing ran"
run "$BRIDLE" run --agent "$T/defer.yaml" --policy "$T/bad-policy.yaml" --journal "$JOURNAL" "Append"
assert_rc 2 "(e) a malformed --policy: exit 2"
assert_contains "$ERR" "bad-policy.yaml:3:14:" "(e) --policy: FILE:LINE:COL"
printf 'defualt: ask\n' >"$T/bad2-policy.yaml"
run "$BRIDLE" run --agent "$T/defer.yaml" --policy "$T/bad2-policy.yaml" --journal "$JOURNAL" "Append"
assert_rc 2 "(e) an unknown policy key: exit 2"
assert_contains "$ERR" "bad2-policy.yaml:1:1: defualt" "(e) ... named with its place"
run "$BRIDLE" run --agent "$T/defer.yaml" --policy "$T/does-not-exist.yaml" --journal "$JOURNAL" "Append"
[ "$RC" = 1 ] || [ "$RC" = 2 ] || fail "(e) a missing --policy file: exit $RC"
assert_contains "$ERR" "does-not-exist.yaml" "(e) a missing --policy file is named (exit $RC)"

cat >"$T/warn-policy.yaml" <<'EOF'
default: allow
tools:
  apply_patch: ask
  read_file: allow
EOF
cat >"$T/e.yaml" <<'EOF'
- - {type: message, content: "nothing to do"}
EOF
gw_agent warn "$T/warn-policy.yaml" "$T/e.yaml"
run "$BRIDLE" run --agent "$T/warn.yaml" --journal "$JOURNAL" "Nothing"
assert_rc 0 "(e) a rule for a tool the agent does not have: the run still runs"
events "$(run_id_of "$ERR")"
pycheck "(e) a run.warning names the rule (apply_patch) and no warning for read_file" '
w = [e["data"] for e in of("run.warning")]
ok = len(w) == 1 and "tools.apply_patch" in w[0]["message"] and "does not have" in w[0]["message"]
ok = ok and "warn-policy.yaml:3:" in w[0]["message"] and w[0]["agent"] == "warn"
why = w'
# --policy overrides the agent's own policy (and is recorded in run.started)
gw_agent override "$T/warn-policy.yaml" "$T/a.yaml"
run "$BRIDLE" run --agent "$T/override.yaml" --policy "$T/policy.yaml" --journal "$JOURNAL" "Append"
assert_rc 4 "(e) --policy replaces the agent's allow-all policy: the call asks"
assert_eq "$(log_of override)" "" "(e) --policy: the call did not run"

# =============================================================================
# (f) native items (Responses shell_call, apply_patch_call) through the gateway
# =============================================================================
cat >"$T/f.json" <<'EOF'
[
 [{"type": "apply_patch_call", "call_id": "call_p1", "operation": {"type": "create_file", "path": "out/new.txt", "diff": "+hello\n"}}],
 [{"type": "shell_call", "call_id": "call_sh", "action": {"commands": ["rm -rf out"]}}],
 [{"type": "apply_patch_call", "call_id": "call_p2", "operation": {"type": "update_file", "path": "out/new.txt", "diff": "@@\n-hello\n+goodbye\n"}}],
 [{"type": "message", "content": "native done"}]
]
EOF
cat >"$T/native-policy.yaml" <<'EOF'
default: allow
tools:
  apply_patch: ask
commands:
  - {prefix: [rm, -rf], decision: deny, reason: destructive}
EOF
ws native
cat >"$T/native.yaml" <<EOF
name: native
model: test-model
provider: openai-responses
instructions: Do the task.
tools: [read_file]
native_tools: [shell, apply_patch]
manifest: $T/native-manifest.yaml
policy: $T/native-policy.yaml
EOF
start_server native "$T/f.json"
run "$BRIDLE" run --agent "$T/native.yaml" --base-url "$URL" --journal "$JOURNAL" "Patch"
assert_rc 4 "(f) a native apply_patch_call under tools.apply_patch: ask waits (exit 4)"
RUN=$(run_id_of "$ERR")
run "$BRIDLE" approvals --json --journal "$JOURNAL" "$RUN"
pycheck "(f) approvals lists the apply_patch_call with its operation and the rule tools.apply_patch" '
rows = [json.loads(l) for l in out.splitlines() if l.strip()]
ok = len(rows) == 1 and rows[0]["call_id"] == "call_p1" and rows[0]["tool"] == "apply_patch"
ok = ok and rows[0]["rule"] == "tools.apply_patch" and json.loads(rows[0]["arguments"])["path"] == "out/new.txt"
why = rows'
run "$BRIDLE" approve "$RUN" call_p1 --journal "$JOURNAL"
assert_rc 0 "(f) approve the patch"
resume "$RUN"
assert_rc 4 "(f) resume: the patch applies, the shell rm is denied, the next patch waits"
assert_eq "$(cat "$T/native-out/new.txt" 2>/dev/null)" "hello" "(f) the approved patch was applied"
run "$BRIDLE" deny "$RUN" call_p2 --reason "keep hello" --journal "$JOURNAL"
assert_rc 0 "(f) deny the second patch with a reason"
resume "$RUN"
assert_rc 0 "(f) the run completes"
assert_eq "$(cat "$T/native-out/new.txt" 2>/dev/null)" "hello" "(f) the denied patch was not applied, out/ still there"
pycheck "(f) the model got: the patch done, the shell refusal (rule, reason) as a shell_call_output, the person's reason as a failed apply_patch_call_output" '
def outs(r, t):
    return [i for i in r["body"]["input"] if i.get("type") == t]
ok = len(req) == 4
p1 = outs(req[1], "apply_patch_call_output")
ok = ok and len(p1) == 1 and p1[0]["call_id"] == "call_p1" and p1[0]["status"] == "completed"
sh = outs(req[2], "shell_call_output")
ok = ok and len(sh) == 1 and sh[0]["call_id"] == "call_sh"
o = sh[0]["output"][0] if ok else {}
ok = ok and "commands[0] prefix [rm -rf]" in o.get("stderr", "") and "destructive" in o.get("stderr", "")
ok = ok and o.get("outcome", {}).get("exit_code") == 1
p2 = [i for i in outs(req[3], "apply_patch_call_output") if i["call_id"] == "call_p2"]
ok = ok and len(p2) == 1 and p2[0]["status"] == "failed" and p2[0]["output"] == "denied by a person: keep hello"
why = [r["body"]["input"][1:] for r in req]'
events "$RUN"
pycheck "(f) journal: each native call finished once" '
fin = [e["data"]["call_id"] for e in of("tool.finished")]
ok = fin == ["call_p1", "call_sh", "call_p2"]
why = fin'
stop_server

bugs_end
