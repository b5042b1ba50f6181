#!/bin/bash
# SPDX-License-Identifier: MIT
# --json: one JSON object with every field of the contract, output captured,
# --max-output keeps head and tail with a cut marker and sets *_truncated.
. "$(dirname "$0")/lib.sh"
need_python

sb --json -- sh -c 'printf "out-line\n"; printf "err-line\n" >&2; exit 5'
assert_rc 5 "--json keeps the exit status"
json_check 'isinstance(j, dict)' "stdout is one JSON object"
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] || fail "--json printed more than one line: $OUT"
ok "exactly one line"
json_check 'type(j["exit_code"]) is int and j["exit_code"] == 5' "exit_code is an int"
json_check 'type(j["signal"]) is int and j["signal"] == 0' "signal is an int (0)"
json_check 'j["timed_out"] is False' "timed_out is a bool"
json_check 'j["stdout"] == "out-line\n"' "stdout captured"
json_check 'j["stderr"] == "err-line\n"' "stderr captured"
json_check 'j["stdout_truncated"] is False and j["stderr_truncated"] is False' "*_truncated are bools"
for k in wall_ms cpu_ms max_rss_kb; do
        json_check "type(j['$k']) is int and j['$k'] >= 0" "$k is a non-negative int"
done
json_check 'j["max_rss_kb"] > 0' "max_rss_kb measured"
json_check 'isinstance(j.get("warnings", []), list)' "warnings is a list"
assert_not_contains "$ERR" "err-line" "captured stderr does not also stream"

# signal
sb --json -- sh -c 'kill -TERM $$'
assert_rc 143 "--json signal status"
json_check 'j["signal"] == 15 and j["exit_code"] is None' "signal 15, exit_code null"

# timeout
sb --json --timeout 0.5 -- sleep 30
assert_rc 124 "--json timeout status"
json_check 'j["timed_out"] is True' "timed_out true"

# 127
sb --json -- no-such-command-bridle-test
assert_rc 127 "--json command not found"
json_check 'j.get("status") == 127' "status 127 in json"

# cpu_ms counts work done
sb --json -- sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'
assert_rc 0 "busy loop"
json_check 'j["cpu_ms"] > 0 and j["wall_ms"] > 0' "cpu_ms and wall_ms measured"

# binary-safe, JSON-escaped output
sb --json -- printf 'a"b\\c\001\n\ttab\303\251'
assert_rc 0 "odd bytes"
json_check 'j["stdout"] == "a\"b\\c\x01\n\ttab\u00e9"' "quotes, backslashes, control chars and UTF-8 survive"

# --max-output: head and tail kept, cut marked
sb --json --max-output 1024 -- sh -c 'echo HEAD-MARK; i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done; echo TAIL-MARK; echo E-HEAD >&2; i=0; while [ $i -lt 3000 ]; do echo err-$i >&2; i=$((i+1)); done; echo E-TAIL >&2'
assert_rc 0 "flood with --max-output"
json_check 'j["stdout_truncated"] is True and j["stderr_truncated"] is True' "both *_truncated set"
json_check 'j["stdout"].startswith("HEAD-MARK\n")' "stdout head kept"
json_check 'j["stdout"].endswith("TAIL-MARK\n")' "stdout tail kept"
json_check 'j["stderr"].startswith("E-HEAD\n") and j["stderr"].endswith("E-TAIL\n")' "stderr head and tail kept"
json_check 'len(j["stdout"].encode()) <= 1024 + 200' "stdout bounded near the cap"
json_check '"line-1500\n" not in j["stdout"]' "the middle was cut"
# The marker is "\n[... bridle cut N bytes ...]\n" and head + N + tail is everything.
if ! printf '%s' "$OUT" | "$PY" -c '
import json, re, sys
s = json.load(sys.stdin)["stdout"]
want = "HEAD-MARK\n" + "".join("line-%d\n" % i for i in range(3000)) + "TAIL-MARK\n"
m = re.search(r"\n\[\.\.\. bridle cut (\d+) bytes \.\.\.\]\n", s)
assert m, "no cut marker"
head, tail = s[:m.start()], s[m.end():]
assert want.startswith(head) and want.endswith(tail), "head/tail are not the real head/tail"
assert len(head) + int(m.group(1)) + len(tail) == len(want), "cut count is wrong"
'; then
        fail "the cut marker does not account for the bytes cut"
fi
ok "the cut is marked with the number of bytes cut"

# exactly at the cap: not truncated
sb --json --max-output 1024 -- head -c 1000 /dev/zero
json_check 'j["stdout_truncated"] is False and len(j["stdout"]) == 1000' "1000 bytes under a 1024 cap kept whole"

say "all $_checks checks passed"
