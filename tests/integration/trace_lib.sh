# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A real run for the trace tests (trace.sh, trace_html.sh): the scripted
# model (no server), tools in a real sandbox, an own BRIDLE_HOME and journal.
# The run asks once (a deferred approval, approved, resumed), is denied once,
# writes a file (a checkpoint before the next writing call), prints an
# escape sequence and markup, and its model passes a GitHub-shaped token.
# Source it after lib.sh; then `trace_run` sets RUN.

need_python
run "$BRIDLE" sandbox run -- true
[ "$RC" = 0 ] || skip "no sandbox here (user namespaces?): bridle sandbox run -- true exited $RC: ${ERR:0:300}"

BRIDLE_HOME=$T/home
JOURNAL=$T/journal.db
mkdir -p "$BRIDLE_HOME"
export BRIDLE_HOME
unset OPENAI_API_KEY BRIDLE_PRICES

# GitHub-shaped, made up: must never show in a trace.
TOKEN=ghp_$(printf 'Zq7Xk2Lm9Pw4Rt6Yv8Bn3Hs5Jd1Fg0Ca2Qe')

trace_run() {
        cat >"$T/policy.yaml" <<'EOF2'
default: allow
safe_commands: true
commands:
  - {prefix: [rm], decision: deny, reason: "nothing is deleted here"}
  - {prefix: [touch], decision: ask, reason: "touching needs a person"}
EOF2
        cat >"$T/manifest.yaml" <<'EOF2'
version: 1
entries:
  - {type: file, path: README.md, content: "the workspace of a trace test\n"}
network: none
limits: {timeout: 120, memory: 256M, pids: 64}
EOF2
        "$PY" - "$T/script.json" "$TOKEN" <<'EOF2'
import json, sys
tok = sys.argv[2]
def fc(name, **args):
    return {"type": "function_call", "name": name, "arguments": args}
turns = [
    {"items": [fc("exec_command", cmd="printf '\\033[31mred\\033[0m <script>alert(1)</script><img src=x onerror=alert(2)>\\n'; ls")],
     "usage": {"input_tokens": 1200, "cached_tokens": 200, "output_tokens": 40}},
    {"items": [fc("write_file", path="notes.txt", content="token " + tok + "\n")],
     "usage": {"input_tokens": 1300, "output_tokens": 50}},
    {"items": [fc("exec_command", cmd="touch done.txt")], "usage": {"input_tokens": 1400, "output_tokens": 30}},
    {"items": [fc("exec_command", cmd="rm -rf notes.txt")], "usage": {"input_tokens": 1500, "output_tokens": 20}},
    {"items": [{"type": "message", "content": "Done: notes.txt written, done.txt touched."}],
     "usage": {"input_tokens": 1600, "output_tokens": 25}},
]
json.dump(turns, open(sys.argv[1], "w"))
EOF2
        cat >"$T/agent.yaml" <<EOF2
name: tracer
model: gpt-4o-mini
provider: scripted
script: $T/script.json
instructions: Do the task.
tools: [exec_command, read_file, write_file]
manifest: $T/manifest.yaml
policy: $T/policy.yaml
max_turns: 10
EOF2
        run "$BRIDLE" run --agent "$T/agent.yaml" --journal "$JOURNAL" --approvals defer "Write the notes"
        [ "$RC" = 4 ] || fail "the run should wait for an approval (exit 4), got $RC: ${ERR:0:500}"
        RUN=$(printf '%s\n' "$ERR" | sed -n 's/^run \([0-9a-f]\{32\}\)$/\1/p' | head -n 1)
        [ -n "$RUN" ] || fail "no 'run <id>' on stderr: ${ERR:0:300}"
        run "$BRIDLE" approve "$RUN" --all --journal "$JOURNAL"
        [ "$RC" = 0 ] || fail "approve --all: $RC ${ERR:0:300}"
        run "$BRIDLE" resume "$RUN" --journal "$JOURNAL"
        [ "$RC" = 0 ] || fail "resume: $RC ${ERR:0:500}"
        ok "a scripted run that asked, was approved and completed ($RUN)"
}
