#!/bin/bash
# SPDX-License-Identifier: MIT
# Path rules end to end (issue 5, "Policy"): `bridle run` hands the policy's
# paths.deny_write / deny_read to the sandbox, which enforces them with mounts
# and in its file operations, whatever the gateway decided:
# (a) a policy with deny_write [".git/**"] and deny_read ["secrets/**"], every
#     call allowed: a command writing .git/config fails (read-only), src/a.c is
#     written, the secret is not read, write_file to .git/config and read_file
#     of secrets/key.txt are refused naming the rule;
# (b) no deny_write in the policy: .git and .agents are read-only by default.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

cat >"$T/manifest.yaml" <<'EOF'
version: 1
entries:
  - {type: file, path: .git/config, content: "[core]\n"}
  - {type: file, path: .agents/x, content: "agents\n"}
  - {type: file, path: secrets/key.txt, content: "topsecret\n"}
  - {type: file, path: src/a.c, content: "int a;\n"}
network: none
limits: {timeout: 120, memory: 256M, pids: 64}
EOF

# agent NAME POLICY SCRIPT
paths_agent() {
        printf 'name: %s\nmodel: test-model\nprovider: scripted\nscript: %s\n' "$1" "$3" >"$T/$1.yaml"
        printf 'instructions: Do the task.\ntools: [exec_command, read_file, write_file]\n' >>"$T/$1.yaml"
        printf 'manifest: %s\npolicy: %s\nmax_turns: 10\n' "$T/manifest.yaml" "$2" >>"$T/$1.yaml"
}

# =============================================================================
# (a) the policy's rules
# =============================================================================
cat >"$T/policy.yaml" <<'EOF'
default: allow
paths:
  deny_write: [".git/**"]
  deny_read: ["secrets/**"]
EOF
cat >"$T/a.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: c_git, arguments: {cmd: "cp src/a.c .git/config; cat .git/config"}}
  - {type: function_call, name: exec_command, call_id: c_src, arguments: {cmd: "cp .agents/x src/a.c; cat src/a.c"}}
  - {type: function_call, name: exec_command, call_id: c_sec, arguments: {cmd: "cat secrets/key.txt; ls -A secrets; echo end"}}
  - {type: function_call, name: exec_command, call_id: c_um, arguments: {cmd: "umount .git; umount -l secrets; cp src/a.c .git/config; cat secrets/key.txt; cat .git/config"}}
  - {type: function_call, name: write_file, call_id: c_w, arguments: {path: .git/config, content: "x"}}
  - {type: function_call, name: read_file, call_id: c_r, arguments: {path: secrets/key.txt}}
- - {type: message, content: "done"}
EOF
paths_agent pa "$T/policy.yaml" "$T/a.yaml"
run "$BRIDLE" run --agent "$T/pa.yaml" --journal "$JOURNAL" "Try the paths"
assert_rc 0 "(a) the run completes"
assert_eq "$OUT" "done" "(a) the final answer"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(a) .git read-only, src writable, the secret unread, mounts locked, file operations refused naming the rule" '
fin = {e["data"]["call_id"]: e["data"].get("output_item", {}).get("output", "") for e in of("tool.finished")}
ok = "Read-only file system" in fin.get("c_git", "") and "[core]" in fin.get("c_git", "")
ok = ok and "agents" in fin.get("c_src", "")
ok = ok and "topsecret" not in fin.get("c_sec", "x") and "end" in fin.get("c_sec", "")
ok = ok and "topsecret" not in fin.get("c_um", "x") and "[core]" in fin.get("c_um", "")
ok = ok and "Read-only file system" in fin.get("c_um", "")
ok = ok and "refused by the path rule" in fin.get("c_w", "") and ".git/**" in fin.get("c_w", "")
ok = ok and "refused by the path rule" in fin.get("c_r", "") and "secrets/**" in fin.get("c_r", "")
ok = ok and "topsecret" not in fin.get("c_r", "x")
why = fin'

# =============================================================================
# (b) the defaults: .git and .agents
# =============================================================================
cat >"$T/policy-b.yaml" <<'EOF'
default: allow
EOF
cat >"$T/b.yaml" <<'EOF'
- - {type: function_call, name: exec_command, call_id: c_git, arguments: {cmd: "cp src/a.c .git/config; cp src/a.c .agents/x; cp .git/config src/b.c; cat src/b.c secrets/key.txt"}}
- - {type: message, content: "done"}
EOF
paths_agent pb "$T/policy-b.yaml" "$T/b.yaml"
run "$BRIDLE" run --agent "$T/pb.yaml" --journal "$JOURNAL" "Try the defaults"
assert_rc 0 "(b) the run completes"
RUN=$(run_id_of "$ERR")
events "$RUN"
pycheck "(b) without deny_write: .git and .agents read-only, the rest as usual" '
out = of("tool.finished")[0]["data"]["output_item"]["output"]
ok = out.count("Read-only file system") == 2 and "[core]" in out and "topsecret" in out
why = out'
