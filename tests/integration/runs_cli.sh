#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle runs / runs show over a journal made by mkjournal (the journal
# module itself): the table, --json, show (human and --json), prefixes,
# an unknown run (exit 1), usage errors (exit 2), a missing journal.
. "$(dirname "$0")/lib.sh"

MKJOURNAL=${1:?usage: runs_cli.sh MKJOURNAL}
DB=$T/journal.db
BRIDLE_HOME=$T/home
export BRIDLE_HOME TZ=UTC

cat >"$T/events.jsonl" <<'JSONL'
{"new_run":"first"}
{"type":"run.started","data":{"task":"count the files","agent":"planner","agent_file":"a.yaml","agents":{},"options":{"max_turns":5}}}
{"type":"sandbox.created","data":{"sandbox_id":"sb1"}}
{"type":"model.response","data":{"turn":1,"agent":"planner","response_id":"r1","output":[{"type":"function_call","id":"fc_1","call_id":"c1","name":"list_files","arguments":"{\"path\":\".\"}"}],"usage":{"input_tokens":1200,"cached_tokens":200,"output_tokens":34,"reasoning_tokens":8},"cost_usd":0.0125,"retries":0}}
{"type":"tool.finished","data":{"turn":1,"call_id":"c1","name":"list_files","ok":true,"output_item":{"type":"function_call_output","call_id":"c1","output":"a.txt\nb.txt"},"duration_ms":4}}
{"type":"handoff","data":{"from":"planner","to":"coder","call_id":"c2"}}
{"type":"model.response","data":{"turn":2,"output":[{"type":"message","role":"assistant","id":"m1","content":[{"type":"output_text","text":"There are 2 files.","annotations":[]}]}],"usage":{"input_tokens":1300,"cached_tokens":1000,"output_tokens":12,"reasoning_tokens":0},"cost_usd":0.0025}}
{"type":"run.status","data":{"status":"completed","final_output":"There are 2 files."}}
{"new_run":"second"}
{"type":"run.started","data":{"task":"fail","agent":"second"}}
{"type":"run.status","data":{"status":"failed","where":"model","reason":"auth: bad key"}}
JSONL
run_in "$T/events.jsonl" "$MKJOURNAL" "$DB"
assert_rc 0 "mkjournal"
A=$(printf '%s\n' "$OUT" | sed -n 1p)
B=$(printf '%s\n' "$OUT" | sed -n 2p)
assert_match "$A" '^[0-9a-f]{32}$' "first run id"
assert_match "$B" '^[0-9a-f]{32}$' "second run id"

# ---- the table ----
run "$BRIDLE" runs --journal "$DB"
assert_rc 0 "runs"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 3 "runs: a header and two rows"
assert_match "$(printf '%s\n' "$OUT" | sed -n 1p)" '^ID +AGENT +STATUS +TURNS +IN +OUT +COST +STARTED' "runs: header"
assert_match "$(printf '%s\n' "$OUT" | sed -n 2p)" "^${B:0:12} +second +failed +0 " "runs: newest first"
assert_match "$(printf '%s\n' "$OUT" | sed -n 3p)" "^${A:0:12} +coder +completed +2 +2500 +46 +0\.0150 +20[0-9-]+ [0-9:]+$" "runs: the fold (agent after handoff, sums)"

# ---- --json ----
run "$BRIDLE" runs --json --journal="$DB"
assert_rc 0 "runs --json"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 2 "runs --json: one line per run"
OUT=$(printf '%s\n' "$OUT" | sed -n 2p)
json_check "j['id'] == '$A' and j['agent'] == 'coder' and j['status'] == 'completed' and j['turns'] == 2" "runs --json: id, agent, status, turns"
json_check "j['input_tokens'] == 2500 and j['output_tokens'] == 46 and j['cached_tokens'] == 1200 and j['reasoning_tokens'] == 8" "runs --json: tokens"
json_check "abs(j['cost_usd'] - 0.015) < 1e-9" "runs --json: cost"
json_check "len(j['started_at']) == 20 and j['started_at'].endswith('Z') and j['started_at'][10] == 'T'" "runs --json: started_at in ISO 8601 UTC"

# ---- show ----
run "$BRIDLE" runs show "${A:0:6}" --journal "$DB"
assert_rc 0 "runs show PREFIX"
assert_contains "$OUT" "run      $A" "show: the full id"
assert_contains "$OUT" "status   completed" "show: status"
assert_contains "$OUT" "tokens   2500 in (1200 cached), 46 out (8 reasoning)" "show: tokens"
assert_match "$OUT" $'\n    1  [0-9:]{8}\\.[0-9]{3}  run\\.started +agent=planner task=count the files' "show: run.started line"
assert_contains "$OUT" 'output=[list_files({"path":"."})] usage=1200/34' "show: a call in a response"
assert_contains "$OUT" 'output=[message "There are 2 files."]' "show: a message in a response"
assert_contains "$OUT" "handoff          from=planner to=coder" "show: handoff"
assert_contains "$OUT" "output_item=a.txt b.txt" "show: a tool's output on one line"
assert_eq "$(printf '%s\n' "$OUT" | grep -cE '^ +[0-9]+  [0-9:]{8}\.')" 7 "show: one line per event"

run "$BRIDLE" runs show "$B" --json --journal "$DB"
assert_rc 0 "runs show --json"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 2 "show --json: one line per event"
OUT=$(printf '%s\n' "$OUT" | sed -n 2p)
json_check "j['run_id'] == '$B' and j['seq'] == 2 and j['type'] == 'run.status' and j['data']['where'] == 'model' and isinstance(j['ts'], int)" "show --json: an event"

# ---- errors ----
run "$BRIDLE" runs show ffffffffffff --journal "$DB"
assert_rc 1 "show: unknown run"
assert_contains "$ERR" "no run 'ffffffffffff'" "show: unknown run is named"
assert_eq "$OUT" "" "show: unknown run prints nothing on stdout"
run "$BRIDLE" runs show abc --journal "$DB"
assert_rc 1 "show: a prefix under 4 characters"
run "$BRIDLE" runs show --journal "$DB"
assert_rc 2 "show without a run"
run "$BRIDLE" runs --bogus
assert_rc 2 "runs --bogus"
run "$BRIDLE" runs show "$A" extra --journal "$DB"
assert_rc 2 "show with two runs"
run "$BRIDLE" runs --help
assert_rc 0 "runs --help"
assert_contains "$OUT" "usage: bridle runs" "runs --help prints usage"

# ---- the default journal ($BRIDLE_HOME/journal.db), missing: no runs, nothing made ----
run "$BRIDLE" runs --json
assert_rc 0 "runs with no journal"
assert_eq "$OUT" "" "runs with no journal: no runs"
[ ! -e "$BRIDLE_HOME/journal.db" ] || fail "reading made a journal"
ok "reading made no journal"
run "$BRIDLE" runs show "$A"
assert_rc 1 "show with no journal"
