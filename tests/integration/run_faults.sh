#!/bin/bash
# SPDX-License-Identifier: MIT
# Faults of the model's server, end to end, with both providers: 429
# (Retry-After), 500, a reset mid-stream and a truncated stream are retried and
# the run completes, each retry journaled as model.retry (turn, attempt, class,
# message, delay_ms); a 400, a "failed" response, a malformed stream and too many
# 5xx fail the run (exit 1, where=model, model.error with its class), without
# blind retries. BRIDLE_MODEL_BACKOFF_MS=1 (run_lib.sh) keeps the backoff short.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

agent "$T/agent.yaml" sturdy openai-responses "exec_command, read_file" \
        "manifest: $T/manifest.yaml" "max_turns: 10"

cat >"$T/recover.json" <<'EOF'
[
 {"items": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "echo survived-$((20+3))"}}],
  "faults": [{"type": "429", "retry_after": "0"}, "500", "reset", "truncate"]},
 {"items": [{"type": "function_call", "name": "read_file", "arguments": {"path": "README.md"}}],
  "faults": ["503", {"type": "429", "retry_after": "1"}]},
 {"items": [{"type": "message", "content": "Recovered from every fault."}],
  "faults": ["reset"]}
]
EOF

for provider in openai-responses openai-chat; do
        say "# provider $provider"
        start_server "recover-$provider" "$T/recover.json" --chunk 3
        run "$BRIDLE" run --agent "$T/agent.yaml" --provider "$provider" --base-url "$URL" --journal "$JOURNAL" "Survive"
        assert_rc 0 "$provider: the run completes through 429, 500, reset, truncate, 503"
        assert_eq "$OUT" "Recovered from every fault." "$provider: the final answer on stdout"
        RUN=$(run_id_of "$ERR")
        events "$RUN"
        pycheck "$provider: each fault is a model.retry event with its class, attempt and turn" '
r = [(e["data"]["turn"], e["data"]["attempt"], e["data"]["class"]) for e in of("model.retry")]
want = [(0, 1, "rate_limit"), (0, 2, "server"), (0, 3, "network"), (0, 4, "truncated"),
        (1, 1, "server"), (1, 2, "rate_limit"), (2, 1, "network")]
ok = r == want and all(isinstance(e["data"]["message"], str) and e["data"]["message"] and isinstance(e["data"]["delay_ms"], int) for e in of("model.retry"))
why = r'
        pycheck "$provider: Retry-After is honoured (delay_ms 1000 for retry_after 1; 0 for 0)" '
d = [(e["data"]["turn"], e["data"]["class"], e["data"]["delay_ms"]) for e in of("model.retry")]
ok = (0, "rate_limit", 0) in d and (1, "rate_limit", 1000) in d
why = d'
        pycheck "$provider: the responses count their retries; the tools ran; completed" '
resp = [e["data"]["retries"] for e in of("model.response")]
fin = [e["data"] for e in of("tool.finished")]
ok = resp == [4, 2, 1] and [f["ok"] for f in fin] == [True, True] and "survived-23" in fin[0]["output_item"]["output"]
ok = ok and "the workspace of an e2e test" in fin[1]["output_item"]["output"]
ok = ok and last_status().get("status") == "completed" and of("model.error") == []
why = (resp, fin)'
        pycheck "$provider: the server got 3 + 7 requests (each fault takes one)" 'ok = len(req) == 10; why = len(req)'
        run "$BRIDLE" runs --json --journal "$JOURNAL"
        OUT=$(printf '%s\n' "$OUT" | head -n 1)
        json_check "j['id'] == '$RUN' and j['status'] == 'completed' and j['turns'] == 3" "$provider: runs: completed, 3 turns"
        stop_server

        # ---- faults that fail the run ----
        # fails NAME FAULT_JSON CLASS REQUESTS [STATUS]: one entry behind the fault(s);
        # the run ends in the model with CLASS after REQUESTS requests: failed, or
        # stopped (resumable) when the class is transient (docs/durability.md, "Faults").
        fails() {
                local name=$1 faults=$2 class=$3 nreq=$4 status=${5:-failed} rc=1
                [ "$status" = stopped ] && rc=3
                printf '[{"items": [{"type": "message", "content": "never"}], "faults": %s}]\n' "$faults" >"$T/$name.json"
                start_server "$name-$provider" "$T/$name.json"
                run "$BRIDLE" run --agent "$T/agent.yaml" --provider "$provider" --base-url "$URL" \
                        --journal "$JOURNAL" "Fail with $name"
                assert_rc "$rc" "$provider $name: the run ends $status"
                if [ "$status" = failed ]; then
                        assert_contains "$ERR" "failed (model)" "$provider $name: the message says where: model"
                else
                        assert_contains "$ERR" "bridle resume" "$provider $name: the message says how to go on"
                fi
                assert_eq "$OUT" "" "$provider $name: nothing on stdout"
                RUN=$(run_id_of "$ERR")
                events "$RUN"
                pycheck "$provider $name: model.error class $class, run.status $status where=model, $nreq request(s)" '
me = [e["data"]["class"] for e in of("model.error")]
s = last_status()
ok = me == [args[0]] and s.get("status") == args[2] and s.get("where") == "model" and s.get("reason")
ok = ok and len(req) == int(args[1]) and len(of("model.retry")) == int(args[1]) - 1
ok = ok and of("model.response") == [] and of("tool.started") == []
why = (me, s, len(req), types())' "$class" "$nreq" "$status"
                stop_server
        }
        fails bad_request '["400"]' bad_request 1
        fails failed '["failed"]' server 1 stopped
        fails malformed '["malformed"]' protocol 1
        fails many_500 '["500", "500", "500", "500", "500", "500"]' server 5 stopped
done

# Every run is in the journal with its final status.
run "$BRIDLE" runs --json --journal "$JOURNAL"
assert_eq "$(printf '%s\n' "$OUT" | grep -c '"status": *"failed"')" 4 "runs: the 4 failed runs are failed"
assert_eq "$(printf '%s\n' "$OUT" | grep -c '"status": *"stopped"')" 4 "runs: the 4 runs the server failed are stopped (resumable)"
assert_eq "$(printf '%s\n' "$OUT" | grep -c '"status": *"completed"')" 2 "runs: the 2 recovered runs completed"
