#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A policy command rule's `timeout` is applied to the command (exit 124 when it
# runs over); commands no such rule matches run without it.
. "$(dirname "$0")/lib.sh"
need_python
run "$BRIDLE" sandbox run -- true
[ "$RC" = 0 ] || skip "no sandbox here (user namespaces?): ${ERR:0:300}"
export BRIDLE_HOME=$T/home
unset OPENAI_API_KEY
cat >"$T/policy.yaml" <<'P'
default: allow
commands:
  - {prefix: [sleep], decision: allow, timeout: 1}
P
cat >"$T/script.yaml" <<'S'
- - {type: function_call, name: exec_command, arguments: {cmd: "sleep 30; echo not-reached", yield_time_ms: 20000}}
  - {type: function_call, name: exec_command, arguments: {cmd: "echo quick", yield_time_ms: 20000}}
- - {type: message, content: "done"}
S
run "$BRIDLE" run --script "$T/script.yaml" --policy "$T/policy.yaml" "sleep"
[ "$RC" = 0 ] || fail "the run exited $RC: $ERR"
ID=$(sed -n 's/^run //p' <<<"$ERR")
run "$BRIDLE" runs show "$ID" --json
printf '%s\n' "$OUT" >"$T/ev.jsonl"
python3 - "$T/ev.jsonl" <<'PY' || fail "outputs"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
outs = [e["data"]["output_item"]["output"] for e in ev if e["type"] == "tool.finished"]
assert "Process exited with code 124" in outs[0] and "not-reached" not in outs[0], outs[0]
assert "Process exited with code 0" in outs[1] and "quick" in outs[1], outs[1]
dec = [e["data"] for e in ev if e["type"] == "gateway.decision"]
assert dec[0]["rule"].startswith("commands[0]"), dec
PY
ok "the rule's timeout ended 'sleep 30' with 124; the other command ran unlimited"
