#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The no-key demo (examples/review, what `make demo` runs) and a first run into a
# BRIDLE_HOME that does not exist yet: the journal and its folder are made,
# owner-only.
. "$(dirname "$0")/lib.sh"
SRC=${BRIDLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
run "$BRIDLE" sandbox run -- true
[ "$RC" = 0 ] || skip "no sandbox here (user namespaces?): ${ERR:0:300}"

export BRIDLE_HOME=$T/not/yet/home
unset OPENAI_API_KEY
# A copy of the example, so the report lands in the test's own folder.
cp -r "$SRC/examples/review" "$T/review"
rm -f "$T/review/out/report.md"
run "$BRIDLE" run --agent "$T/review/agent.yaml" "Review the repository in /workspace/repo"
[ "$RC" = 0 ] || fail "the demo exited $RC: $ERR"
[ "$OUT" = "Reviewed repo/: 3 tests pass; report in out/report.md." ] || fail "final answer: '$OUT'"
grep -q "^run [0-9a-f]\{32\}$" <<<"$ERR" || fail "no 'run <id>' on stderr: $ERR"
grep -q '3 tests, all pass' "$T/review/out/report.md" || fail "the report was not written: $(cat "$T/review/out/report.md" 2>&1)"
[ "$(stat -c %a "$BRIDLE_HOME")" = 700 ] || fail "BRIDLE_HOME mode $(stat -c %a "$BRIDLE_HOME")"
[ "$(stat -c %a "$BRIDLE_HOME/journal.db")" = 600 ] || fail "journal mode $(stat -c %a "$BRIDLE_HOME/journal.db")"
# The run's test output came from the sandbox, through exec_command.
run "$BRIDLE" runs show "$(sed -n 's/^run //p' <<<"$ERR")" --json
[ "$RC" = 0 ] || fail "runs show exited $RC: $ERR"
grep -q 'ok   extra spaces' <<<"$OUT" || fail "the tests' output is not in the events"
grep -q '"type":"sandbox.destroyed"' <<<"$OUT" || fail "the sandbox was not destroyed at the end"
ok "demo: answer, report, modes, events, sandbox destroyed"
