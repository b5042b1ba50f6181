#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle run end to end with both HTTP providers (openai-responses and
# openai-chat) against the fake OpenAI server, streaming in 3-byte deltas,
# with the tools running in a real sandbox: exec_command writes answer.txt,
# read_file reads 42 back, apply_patch edits it, then the model answers.
# Checks the final answer on stdout, the tool outputs in the journal, that each
# request carries the outputs of the previous calls, the tool definitions, and
# --json (one event per line, each with run_id and type).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

cat >"$T/script.json" <<'EOF'
[
 [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "echo $((6*7)) > answer.txt"}}],
 [{"type": "function_call", "name": "read_file", "arguments": {"path": "answer.txt"}}],
 [{"type": "function_call", "name": "apply_patch",
   "arguments": {"patch": "*** Begin Patch\n*** Update File: answer.txt\n@@\n-42\n+forty-two\n*** End Patch\n"}}],
 [{"type": "function_call", "name": "read_file", "arguments": {"path": "answer.txt"}}],
 [{"type": "message", "content": "The answer is 42."}]
]
EOF

for provider in openai-responses openai-chat; do
        say "# provider $provider"
        agent "$T/agent.yaml" solver openai-responses \
                "exec_command, read_file, write_file, list_dir, search, apply_patch" \
                "manifest: $T/manifest.yaml" "max_turns: 10"
        start_server "$provider" "$T/script.json" --chunk 3

        run "$BRIDLE" run --agent "$T/agent.yaml" --provider "$provider" --base-url "$URL" \
                --journal "$JOURNAL" "What is six times seven?"
        assert_rc 0 "$provider: the run completes"
        assert_eq "$OUT" "The answer is 42." "$provider: the final answer (streamed in 3-byte deltas) on stdout"
        RUN=$(run_id_of "$ERR")
        assert_match "$RUN" '^[0-9a-f]{32}$' "$provider: 'run <id>' on stderr"

        events "$RUN"
        pycheck "$provider: the run's events: started, 5 requests and responses, 4 tools, completed" '
t = types()
ok = (t[0] == "run.started" and t.count("model.request") == 5
      and t.count("model.response") == 5 and t.count("tool.started") == 4 and t.count("tool.finished") == 4
      and t.count("sandbox.created") == 1 and t.count("run.status") == 1
      and last_status()["status"] == "completed" and last_status()["final_output"] == "The answer is 42."
      and ev[0]["data"]["agents"]["agents"]["solver"]["provider"] == args[0]
      and all(e["run_id"] == args[1] for e in ev))
why = t' "$provider" "$RUN"
        pycheck "$provider: the sandbox ran the command: exec ok, read_file gives 42, apply_patch, read_file gives forty-two" '
fin = of("tool.finished")
names = [f["data"]["name"] for f in fin]
outs = [f["data"]["output_item"]["output"] for f in fin]
ok = (names == ["exec_command", "read_file", "apply_patch", "read_file"]
      and all(f["data"]["ok"] is True for f in fin)
      and "exited with code 0" in outs[0]
      and outs[1].strip() == "42"
      and "answer.txt" in outs[2]
      and outs[3].strip() == "forty-two"
      and all(f["data"]["output_item"]["type"] == "function_call_output" for f in fin))
why = list(zip(names, outs))'

        # The server: 5 requests, each carrying the outputs of every earlier call.
        if [ "$provider" = openai-responses ]; then
                pycheck "$provider: each request carries the previous calls and their function_call_output items" '
ok = len(req) == 5 and all(r["path"] == "/v1/responses" and r["body"].get("stream") is True for r in req)
for n, r in enumerate(req):
    inp = r["body"]["input"]
    outs = {i["call_id"]: i["output"] for i in inp if i.get("type") == "function_call_output"}
    calls = [i["call_id"] for i in inp if i.get("type") == "function_call"]
    want = ["call_%d" % k for k in range(1, n + 1)]
    if calls != want or sorted(outs) != sorted(want):
        ok = False
        why += "request %d: calls %s outputs %s; " % (n + 1, calls, sorted(outs))
    # each output follows its call
    for k, i in enumerate(inp):
        if i.get("type") == "function_call_output":
            prev = inp[k - 1]
            if prev.get("type") != "function_call" or prev["call_id"] != i["call_id"]:
                ok = False
                why += "request %d: output %s not after its call; " % (n + 1, i["call_id"])
ok = ok and "42" in [i for i in req[2]["body"]["input"] if i.get("call_id") == "call_2" and i["type"] == "function_call_output"][0]["output"]
ok = ok and req[0]["body"]["input"][0]["role"] == "user" and "six times seven" in json.dumps(req[0]["body"]["input"][0])
ok = ok and "You are solver" in req[0]["body"].get("instructions", "")'
                pycheck "$provider: the tools offered are the agent's six" '
names = sorted(t["name"] for t in req[0]["body"]["tools"])
ok = names == sorted(["exec_command", "read_file", "write_file", "list_dir", "search", "apply_patch"])
ok = ok and all(t["type"] == "function" for t in req[0]["body"]["tools"])
why = names'
        else
                pycheck "$provider: each request carries the previous tool_calls and their role tool messages" '
ok = len(req) == 5 and all(r["path"] == "/v1/chat/completions" and r["body"].get("stream") is True for r in req)
for n, r in enumerate(req):
    msgs = r["body"]["messages"]
    tools = {m["tool_call_id"]: m["content"] for m in msgs if m.get("role") == "tool"}
    calls = [c["id"] for m in msgs if m.get("role") == "assistant" for c in (m.get("tool_calls") or [])]
    want = ["call_%d" % k for k in range(1, n + 1)]
    if calls != want or sorted(tools) != sorted(want):
        ok = False
        why += "request %d: calls %s tool messages %s; " % (n + 1, calls, sorted(tools))
    for k, m in enumerate(msgs):
        if m.get("role") == "tool":
            prev = [c["id"] for c in (msgs[k - 1].get("tool_calls") or [])] if msgs[k - 1].get("role") == "assistant" else []
            if m["tool_call_id"] not in prev and msgs[k - 1].get("role") != "tool":
                ok = False
                why += "request %d: tool message %s not after its call; " % (n + 1, m["tool_call_id"])
c2 = [m for m in req[2]["body"]["messages"] if m.get("role") == "tool" and m["tool_call_id"] == "call_2"]
ok = ok and len(c2) == 1 and "42" in json.dumps(c2[0]["content"])
ok = ok and req[0]["body"]["messages"][0]["role"] == "system" and "You are solver" in json.dumps(req[0]["body"]["messages"][0])
ok = ok and any(m["role"] == "user" and "six times seven" in json.dumps(m) for m in req[0]["body"]["messages"])
ok = ok and req[0]["body"].get("stream_options", {}).get("include_usage") is True'
                pycheck "$provider: the tools offered are the agent's six" '
names = sorted(t["function"]["name"] for t in req[0]["body"]["tools"])
ok = names == sorted(["exec_command", "read_file", "write_file", "list_dir", "search", "apply_patch"])
why = names'
        fi

        # --json: the same run again, one JSON event per line on stdout.
        stop_server
        start_server "$provider-json" "$T/script.json" --chunk 3
        run "$BRIDLE" run --json --agent "$T/agent.yaml" --provider "$provider" --base-url "$URL" \
                --journal "$JOURNAL" "What is six times seven?"
        assert_rc 0 "$provider --json: the run completes"
        RUN=$(run_id_of "$ERR")
        assert_match "$RUN" '^[0-9a-f]{32}$' "$provider --json: 'run <id>' on stderr"
        pycheck "$provider --json: one event per line, each with run_id and type; deltas rebuild the answer" '
evs = [json.loads(l) for l in out.splitlines()]
ok = len(evs) > 0 and all(isinstance(e, dict) and e.get("run_id") == args[0] and isinstance(e.get("type"), str) for e in evs)
t = [e["type"] for e in evs]
st = [e["data"]["status"] for e in evs if e["type"] == "run.status"]
ok = ok and t[0] == "run.started" and st == ["completed"]
ok = ok and t.count("tool.finished") == 4 and t.count("model.response") == 5
deltas = [e["data"]["text"] for e in evs if e["type"] == "model.delta"]
ok = ok and "".join(deltas) == "The answer is 42." and len(deltas) >= 6 and all(len(d.encode()) <= 3 for d in deltas)
why = (t, deltas)' "$RUN"
        # journaled events in the --json output match the journal
        cp "$T/.out" "$T/json.out"
        events "$RUN"
        pycheck "$provider --json: the journaled events printed are the journal's" '
printed = [json.loads(l) for l in out.splitlines()]
printed = [e for e in printed if e.get("seq", 0) != 0]
ok = [(e["seq"], e["type"]) for e in printed] == [(e["seq"], e["type"]) for e in ev]
why = ([(e["seq"], e["type"]) for e in printed], [(e["seq"], e["type"]) for e in ev])'
        stop_server
done

# Both runs of both providers are in the journal, completed.
run "$BRIDLE" runs --json --journal "$JOURNAL"
assert_rc 0 "runs --json"
assert_eq "$(printf '%s\n' "$OUT" | grep -c '"status": *"completed"')" 4 "runs: four completed runs"
