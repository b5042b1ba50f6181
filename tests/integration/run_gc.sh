#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle gc (docs/durability.md, "Retention") over real snapshots and a
# journal made by mkjournal (runs) and python's sqlite3 (events naming the
# snapshots): nothing goes by default while everything is young; with the
# clock 10 days on ($BRIDLE_GC_NOW) and --keep-last 1, a completed run loses
# its checkpoints, sandbox and egress directory, a stopped run keeps its
# latest checkpoint and the one its pending call needs, a checkpoint a kept
# one builds on is reported kept, one a living sandbox was restored from is
# kept until that sandbox goes, an orphan goes, snapshots of runs this
# journal does not know and unlabelled ones stay; --dry-run removes nothing
# and says the same; --json; --max-size; retention.yaml; usage errors.
. "$(dirname "$0")/lib.sh"

MKJOURNAL=${1:?usage: run_gc.sh MKJOURNAL}
need_python
export BRIDLE_HOME="$T/home"
DB=$BRIDLE_HOME/journal.db
destroy_all() {
        local i
        for i in $("$BRIDLE" sandbox list 2>/dev/null | cut -f1); do
                "$BRIDLE" sandbox destroy "$i" >/dev/null 2>&1 || true
        done
}
at_exit destroy_all

# ---- usage ----
run "$BRIDLE" gc --older-than
assert_rc 2 "--older-than without a value is a usage error"
run "$BRIDLE" gc --max-size lots
assert_rc 2 "a bad --max-size is a usage error"
assert_contains "$ERR" "lots" "the message names the bad size"
run "$BRIDLE" gc --bogus
assert_rc 2 "an unknown option"
run "$BRIDLE" gc --help
assert_rc 0 "--help"
run "$BRIDLE" gc
assert_rc 0 "gc without a journal"
assert_eq "$OUT" "freed 0 items, 0 B" "nothing to do"

# ---- sandboxes and snapshots ----
run "$BRIDLE" sandbox create
assert_rc 0 "create the work sandbox"
S1=$OUT
if ! grep -qx 'overlay=1' "$BRIDLE_HOME/sandboxes/$S1/state"; then
        skip "overlay cannot be mounted in a user namespace here (snapshots would have no parents)"
fi
mkdir -p "$T/in"
printf '{"new_run":"a"}\n{"new_run":"b"}\n{"new_run":"c"}\n' >"$T/runs.jsonl"
run_in "$T/runs.jsonl" "$MKJOURNAL" "$DB"
assert_rc 0 "mkjournal: three runs"
A=$(printf '%s\n' "$OUT" | sed -n 1p)
B=$(printf '%s\n' "$OUT" | sed -n 2p)
C=$(printf '%s\n' "$OUT" | sed -n 3p)
assert_match "$C" '^[0-9a-f]{32}$' "run ids"

# snap SANDBOX LABEL: write a file, snapshot; prints the id.
snap() {
        "$BRIDLE" sandbox exec "$1" -- sh -c "head -c 20000 /dev/urandom > f-\$\$" >/dev/null ||
                fail "write in $1"
        "$BRIDLE" sandbox snapshot "$1" --label "$2" || fail "snapshot $1"
}
cA1=$(snap "$S1" "bridle-run:$A")
R=$("$BRIDLE" sandbox restore "$cA1") || fail "restore $cA1"
cA2=$(snap "$R" "bridle-run:$A") # builds on cA1
cB1=$(snap "$S1" "bridle-run:$B")
RB=$("$BRIDLE" sandbox restore "$cB1") || fail "restore $cB1"
cB3=$(snap "$RB" "bridle-run:$B") # builds on cB1
"$BRIDLE" sandbox destroy "$RB" >/dev/null
cB2=$(snap "$S1" "bridle-run:$B")
cO=$(snap "$S1" "bridle-run:$B") # no event names it
cF=$(snap "$S1" "bridle-run:ffffffffffffffffffffffffffffffff")
cU=$(snap "$S1" "mine")
cC1=$(snap "$S1" "bridle-run:$C")
SA=$("$BRIDLE" sandbox create) || fail "create run a's sandbox"
mkdir -p "$BRIDLE_HOME/egress/$A" "$BRIDLE_HOME/egress/$B"
head -c 5000 /dev/urandom >"$BRIDLE_HOME/egress/$A/log"
head -c 5000 /dev/urandom >"$BRIDLE_HOME/egress/$B/log"
say "snapshots: A $cA1 $cA2, B $cB1 $cB2 $cB3, orphan $cO, foreign $cF, mine $cU, C $cC1"

# ev RUN TYPE DATA: append an event as the journal does.
ev() {
        "$PY" - "$DB" "$@" <<'PY' || fail "append $2"
import sqlite3, sys, time
db, run, typ, data = sys.argv[1:5]
c = sqlite3.connect(db)
c.execute("INSERT INTO events(run_id, seq, ts_ms, type, data) SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM events WHERE run_id = ?1",
          (run, int(time.time() * 1000), typ, data))
c.commit()
PY
}
ck() { printf '{"snapshot_id":"%s","sandbox_id":"%s","reason":"%s"%s,"calls":1,"ms":3,"bytes":100}' "$1" "$S1" "$2" "${3:+,\"call_id\":\"$3\"}"; }
call() { printf '{"type":"function_call","id":"fc_%s","call_id":"%s","name":"shell","arguments":"{}"}' "$1" "$1"; }
resp() { printf '{"turn":%s,"output":[%s],"usage":{"input_tokens":10,"cached_tokens":0,"output_tokens":2,"reasoning_tokens":0},"cost_usd":0}' "$1" "$2"; }
fin() { printf '{"turn":%s,"call_id":"%s","name":"shell","ok":true,"output_item":{"type":"function_call_output","call_id":"%s","output":"ok"},"duration_ms":1}' "$1" "$2" "$2"; }

# A: completed, its sandbox kept.
ev "$A" run.started '{"task":"a","agent":"a"}'
ev "$A" sandbox.created "{\"sandbox_id\":\"$SA\"}"
ev "$A" model.response "$(resp 1 "$(call a1)")"
ev "$A" checkpoint "$(ck "$cA1" before_call a1)"
ev "$A" tool.finished "$(fin 1 a1)"
ev "$A" checkpoint "$(ck "$cA2" interval)"
ev "$A" run.status '{"status":"completed","final_output":"done"}'
# B: stopped; b1 finished, b9 pending (its checkpoint cB2), then cB3 (on cB1) the latest.
ev "$B" run.started '{"task":"b","agent":"b"}'
ev "$B" sandbox.created "{\"sandbox_id\":\"$S1\"}"
ev "$B" model.response "$(resp 1 "$(call b1)")"
ev "$B" checkpoint "$(ck "$cB1" before_call b1)"
ev "$B" tool.finished "$(fin 1 b1)"
ev "$B" model.response "$(resp 2 "$(call b9)")"
ev "$B" checkpoint "$(ck "$cB2" before_call b9)"
ev "$B" checkpoint "$(ck "$cB3" interval)"
ev "$B" run.status '{"status":"stopped","where":"model","reason":"server gone"}'
# C: completed, the newest run.
ev "$C" run.started '{"task":"c","agent":"c"}'
ev "$C" checkpoint "$(ck "$cC1" interval)"
ev "$C" run.status '{"status":"completed","final_output":"done"}'

exists() { [ -e "$BRIDLE_HOME/snapshots/$1.tar.zst" ]; }
count_snaps() { find "$BRIDLE_HOME/snapshots" -name '*.tar.zst' | wc -l; }
ALL=$(count_snaps)
assert_eq "$ALL" 9 "nine snapshots"

# ---- today: all young, nothing goes ----
run "$BRIDLE" gc
assert_rc 0 "gc now"
assert_eq "$OUT" "freed 0 items, 0 B" "nothing is old enough (the orphan is younger than an hour)"
assert_eq "$(count_snaps)" "$ALL" "every snapshot is still there"

LATER=$(($(date +%s) + 10 * 86400))
export BRIDLE_GC_NOW=$LATER
run "$BRIDLE" gc --dry-run
assert_rc 0 "dry run, 10 days on, default keep-last 20"
assert_contains "$OUT" "would free orphan snapshot $cO of run ${B:0:12} (stopped, 10 days)" "only the orphan (every run is among the last 20)"
assert_contains "$OUT" "would free 1 item," "one item"

# ---- the dry run says what the real one does ----
run "$BRIDLE" gc --dry-run --keep-last 1
assert_rc 0 "dry run --keep-last 1"
DRY=$(printf '%s\n' "$OUT" | sed 's/^would free /freed /')
assert_eq "$(count_snaps)" "$ALL" "the dry run removed no snapshot"
assert_eq "$("$BRIDLE" sandbox list | cut -f1 | grep -c "$SA")" 1 "the dry run destroyed no sandbox"
[ -d "$BRIDLE_HOME/egress/$A" ] || fail "the dry run removed an egress directory"

run "$BRIDLE" gc --keep-last 1
assert_rc 0 "gc --keep-last 1"
say "$OUT"
assert_eq "$OUT" "$DRY" "the real run reports what the dry run said"
assert_contains "$OUT" "freed sandbox $SA of run ${A:0:12} (completed, 10 days)" "run a's sandbox"
assert_contains "$OUT" "freed egress directory of run ${A:0:12} (completed, 10 days)" "run a's egress directory"
assert_contains "$OUT" "freed checkpoint $cA2 of run ${A:0:12} (completed, 10 days)" "run a's checkpoint on top"
assert_contains "$OUT" "kept checkpoint $cA1 of run ${A:0:12} (completed, 10 days): snapshot '$cA1' is in use: a sandbox" "a living sandbox was restored from it"
assert_contains "$OUT" "kept checkpoint $cB1 of run ${B:0:12} (stopped, 10 days): snapshot '$cB1' is in use: snapshot '$cB3' builds on it" "a kept checkpoint builds on it"
assert_contains "$OUT" "freed orphan snapshot $cO" "the orphan"
assert_not_contains "$OUT" "$cB2" "the pending call's checkpoint is not touched"
assert_not_contains "$OUT" "checkpoint $cB3" "the latest checkpoint of a stopped run is not touched"
assert_contains "$OUT" "freed 4 items," "four items"
exists "$cA1" || fail "cA1 is gone"
! exists "$cA2" || fail "cA2 is still there"
exists "$cB2" || fail "cB2 (pending call) is gone"
exists "$cB3" || fail "cB3 (latest) is gone"
exists "$cB1" || fail "cB1 (cB3 builds on it) is gone"
! exists "$cO" || fail "the orphan is still there"
exists "$cF" || fail "a foreign run's snapshot is gone"
exists "$cU" || fail "an unlabelled snapshot is gone"
exists "$cC1" || fail "the newest run's checkpoint is gone"
[ ! -e "$BRIDLE_HOME/egress/$A" ] || fail "run a's egress directory is still there"
[ -d "$BRIDLE_HOME/egress/$B" ] || fail "run b's egress directory is gone (stopped: resumable)"
[ ! -e "$BRIDLE_HOME/snapshots/$cA2.parent" ] || fail "cA2's parent marker stays"
ok "what went and what stayed"
if "$BRIDLE" sandbox list | cut -f1 | grep -q "$SA"; then fail "run a's sandbox is still listed"; fi
"$BRIDLE" sandbox list | cut -f1 | grep -q "$S1" || fail "run b's sandbox was destroyed"
ok "sandboxes"

# ---- the restored sandbox goes: its snapshot is free ----
"$BRIDLE" sandbox destroy "$R" >/dev/null
run "$BRIDLE" gc --keep-last 1 --json
assert_rc 0 "gc --json"
json_check 'j["count"] == 1 and j["items"][0]["id"] == "'"$cA1"'" and j["items"][0]["action"] == "freed" and j["items"][0]["kind"] == "checkpoint"' "cA1 goes once its sandbox is gone"
json_check 'j["keep_last"] == 1 and j["older_than_days"] == 7 and j["bytes"] > 0 and j["dry_run"] is False' "the settings and totals"
! exists "$cA1" || fail "cA1 is still there"

# ---- snapshot delete refuses what something builds on ----
run "$BRIDLE" gc --keep-last 1
assert_contains "$OUT" "kept checkpoint $cB1" "cB1 is still kept"

# ---- max size: the oldest collectable go, never the protected ----
run "$BRIDLE" gc --dry-run --keep-last 0 --older-than 30 --max-size 1
assert_rc 0 "dry run --max-size 1"
assert_contains "$OUT" "would free checkpoint $cC1" "over the size: the newest run's checkpoint too"
assert_not_contains "$OUT" "would free checkpoint $cB3" "never the latest of a resumable run"
assert_not_contains "$OUT" "would free checkpoint $cB2" "never a pending call's"
assert_not_contains "$OUT" "$cF" "never a foreign run's"

# ---- retention.yaml ----
printf 'keep_last: 0\nolder_than_days: 30\n' >"$BRIDLE_HOME/retention.yaml"
run "$BRIDLE" gc --dry-run --json
assert_rc 0 "retention.yaml"
json_check 'j["keep_last"] == 0 and j["older_than_days"] == 30 and j["count"] == 0' "its settings are used (nothing is 30 days old)"
run "$BRIDLE" gc --dry-run --json --older-than 1
json_check 'j["older_than_days"] == 1 and any(i["id"] == "'"$cC1"'" for i in j["items"])' "an option wins over the file"
printf 'keep_last: 0\nolder: 3\n' >"$BRIDLE_HOME/retention.yaml"
run "$BRIDLE" gc --dry-run
assert_rc 1 "an unknown key in retention.yaml"
assert_contains "$ERR" "retention.yaml:2:1: unknown key 'older'" "the message names the file, line and key"
printf 'max_size: lots\n' >"$BRIDLE_HOME/retention.yaml"
run "$BRIDLE" gc --dry-run
assert_rc 1 "a bad max_size in retention.yaml"
assert_contains "$ERR" "'max_size' must be a size" "the message says what is wrong"
rm -f "$BRIDLE_HOME/retention.yaml"

# ---- half-written archives (a snapshot's writer killed) ----
printf 'half' >"$BRIDLE_HOME/snapshots/0123456789ab.tar.zst.tmp"
# the clock is $BRIDLE_GC_NOW: one two hours before it, one at it
touch -d "@$((BRIDLE_GC_NOW - 7200))" "$BRIDLE_HOME/snapshots/0123456789ab.tar.zst.tmp"
printf 'being written' >"$BRIDLE_HOME/snapshots/ba9876543210.tar.zst.tmp"
touch -d "@$BRIDLE_GC_NOW" "$BRIDLE_HOME/snapshots/ba9876543210.tar.zst.tmp"
run "$BRIDLE" gc --dry-run --json
json_check 'any(i["kind"] == "partial" and i["id"] == "0123456789ab.tar.zst.tmp" and i["action"] == "would_free" for i in j["items"]) and not any(i["id"] == "ba9876543210.tar.zst.tmp" for i in j["items"])' "an old half-written archive would go, a fresh one (being written) stays"
run "$BRIDLE" gc
assert_rc 0 "gc with a half-written archive"
assert_contains "$OUT" "freed half-written snapshot 0123456789ab.tar.zst.tmp" "it is named as such"
[ ! -e "$BRIDLE_HOME/snapshots/0123456789ab.tar.zst.tmp" ] && [ -e "$BRIDLE_HOME/snapshots/ba9876543210.tar.zst.tmp" ] ||
        fail "the old half-written archive is removed, the fresh one kept"
rm -f "$BRIDLE_HOME/snapshots/ba9876543210.tar.zst.tmp"

say "$_checks checks passed"
