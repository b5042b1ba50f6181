#!/bin/bash
# SPDX-License-Identifier: MIT
# A handoff end to end: the triage agent (read-only tools, handoffs:
# [fixer.yaml]) calls transfer_to_fixer; the fixer (other instructions, other
# tools) runs a command in the sandbox and answers. Checks the handoff event,
# that the requests after it carry the fixer's instructions and tools (server
# log), and that it is all one run in one journal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

mkdir -p "$T/agents"
agent "$T/agents/triage.yaml" triage openai-responses "read_file, list_dir" \
        "manifest: $T/manifest.yaml" "handoffs: [fixer.yaml]" "max_turns: 10"
agent "$T/agents/fixer.yaml" fixer openai-responses "exec_command, write_file" \
        "manifest: $T/manifest.yaml" "handoff_description: Fixes things with commands." "max_turns: 10"

cat >"$T/script.json" <<'EOF'
[
 [{"type": "function_call", "name": "list_dir", "arguments": {"path": "."}}],
 [{"type": "function_call", "name": "transfer_to_fixer", "arguments": {}}],
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "echo fixed-by-$((40+2)) > fixed.txt; cat fixed.txt"}}],
 [{"type": "message", "content": "Fixed."}]
]
EOF
start_server handoff "$T/script.json" --chunk 5

# Run from another folder: handoffs are found relative to the agent file.
cd "$T/home" || fail "cd $T/home"
run "$BRIDLE" run --agent "$T/agents/triage.yaml" --base-url "$URL" --journal "$JOURNAL" "Fix the workspace"
assert_rc 0 "the run with a handoff completes"
assert_eq "$OUT" "Fixed." "the fixer's answer on stdout"
RUN=$(run_id_of "$ERR")
assert_match "$RUN" '^[0-9a-f]{32}$' "'run <id>' on stderr"

events "$RUN"
pycheck "one handoff event: triage -> fixer, for the transfer call" '
h = of("handoff")
ok = len(h) == 1 and h[0]["data"]["from"] == "triage" and h[0]["data"]["to"] == "fixer" and h[0]["data"]["call_id"] == "call_2"
why = h'
pycheck "the requests name their agent: triage twice, then fixer twice, after the handoff" '
t = types()
agents = [e["data"]["agent"] for e in of("model.request")]
hi = t.index("handoff")
after = [e["data"]["agent"] for e in ev[hi:] if e["type"] == "model.request"]
ok = agents == ["triage", "triage", "fixer", "fixer"] and after == ["fixer", "fixer"]
ok = ok and all(e["run_id"] == args[0] for e in ev) and last_status().get("status") == "completed"
why = (agents, t)' "$RUN"
pycheck "the fixer's command ran in the sandbox" '
fin = [e["data"] for e in of("tool.finished") if e["data"]["name"] == "exec_command"]
ok = len(fin) == 1 and fin[0]["ok"] is True and "fixed-by-42" in fin[0]["output_item"]["output"]
why = fin'
pycheck "run.started holds both agent definitions" '
a = ev[0]["data"]["agents"]
ok = ev[0]["type"] == "run.started" and "triage" in json.dumps(a) and "fixer" in json.dumps(a) and "Fixes things with commands." in json.dumps(a)
why = a'

# The server's view: instructions and tools switch at the handoff.
pycheck "4 requests: the first two with the triage agent's instructions and tools" '
def tools(r):
    return sorted(t["name"] for t in r["body"].get("tools", []))
ok = len(req) == 4
for r in req[:2]:
    ok = ok and "You are triage" in r["body"]["instructions"] and "You are fixer" not in r["body"]["instructions"]
    ok = ok and tools(r) == ["list_dir", "read_file", "transfer_to_fixer"]
why = [(r["body"].get("instructions", "")[:60], tools(r)) for r in req]'
pycheck "the requests after the handoff carry the fixer's instructions and tools" '
def tools(r):
    return sorted(t["name"] for t in r["body"].get("tools", []))
ok = len(req) == 4
for r in req[2:]:
    ok = ok and "You are fixer" in r["body"]["instructions"] and "You are triage" not in r["body"]["instructions"]
    ok = ok and tools(r) == ["exec_command", "write_file"]
why = [(r["body"].get("instructions", "")[:60], tools(r)) for r in req]'
pycheck "the transfer call gets an output, and the conversation continues (same history)" '
inp = req[2]["body"]["input"]
outs = [i for i in inp if i.get("type") == "function_call_output"]
ok = [o["call_id"] for o in outs] == ["call_1", "call_2"] and inp[0].get("role") == "user" and "Fix the workspace" in json.dumps(inp[0])
ok = ok and [i["call_id"] for i in req[3]["body"]["input"] if i.get("type") == "function_call_output"] == ["call_1", "call_2", "call_3"]
why = inp'
pycheck "a transfer offered description comes from handoff_description" '
d = [t for t in req[0]["body"]["tools"] if t["name"] == "transfer_to_fixer"][0]
ok = "Fixes things with commands." in d.get("description", "")
why = d'

# One run in the journal; its agent is now the fixer.
run "$BRIDLE" runs --json --journal "$JOURNAL"
assert_rc 0 "runs --json"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "one run in the journal"
json_check "j['id'] == '$RUN' and j['agent'] == 'fixer' and j['status'] == 'completed' and j['turns'] == 4" \
        "runs: the run's current agent is the fixer, 4 turns"

# A transfer to an agent that is not in handoffs is a tool error for the model, not a handoff.
stop_server
cat >"$T/script2.json" <<'EOF'
[
 [{"type": "function_call", "name": "transfer_to_nobody", "arguments": {}}],
 [{"type": "message", "content": "Could not transfer."}]
]
EOF
start_server unknown "$T/script2.json"
run "$BRIDLE" run --agent "$T/agents/triage.yaml" --base-url "$URL" --journal "$JOURNAL" "Try"
assert_rc 0 "an unknown transfer does not crash the run"
assert_eq "$OUT" "Could not transfer." "the model answers after the failed transfer"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "no handoff event; the call got an error output" '
fin = [e["data"] for e in of("tool.finished")]
ok = of("handoff") == [] and len(fin) == 1 and fin[0]["ok"] is False and fin[0]["output_item"]["call_id"] == "call_1"
why = (types(), fin)'
