/* SPDX-License-Identifier: MIT */
/*
 * The journal: an append-only SQLite store of runs and their events
 * (docs/harness.md, "Events"). One file, $BRIDLE_HOME/journal.db by default,
 * WAL mode, busy timeout; several processes may open it at once.
 *
 * Event data is a JSON object; the journal stores it as text and never looks
 * inside. Every append is one committed transaction: with WAL and
 * synchronous=NORMAL it survives a crash of the process (kill -9) when it
 * returns; $BRIDLE_JOURNAL_SYNC=full makes it survive power loss too (an
 * fsync per append).
 *
 * Ownership: returned json_t are new references for the caller.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "bridle/common.h"

typedef struct bridle__journal bridle__journal;

/* path NULL: $BRIDLE_HOME/journal.db (directories made, mode 0700/0600). */
int bridle__journal_open(const char *path, bridle__journal **ret, bridle_error *err);
bridle__journal *bridle__journal_close(bridle__journal *j);

/* A new run: a random id (32 hex digits) in out, its row in runs. */
int bridle__journal_new_run(bridle__journal *j, const char *agent, char out[33], bridle_error *err);

/* Append one event; returns its seq (1, 2, ...) and, if ret_ts_ms, its time. */
int64_t bridle__journal_append(bridle__journal *j, const char *run_id, const char *type,
                               const json_t *data, int64_t *ret_ts_ms, bridle_error *err);

/* Every event of a run in order, as an array of {"run_id","seq","ts","type","data"}.
 * -ENOENT (message "no run 'ID'") when the run does not exist. A run id may be
 * given by a unique prefix of at least 4 characters; out_id gets the full id. */
int bridle__journal_events(bridle__journal *j, const char *run_ref, char out_id[33], json_t **ret,
                           bridle_error *err);

/* Run ids, newest first (at most max; 0: all), with agent and created_at:
 * an array of {"id","agent","created_at"}. */
int bridle__journal_runs(bridle__journal *j, size_t max, json_t **ret, bridle_error *err);

/* An event as it is handed out: {"run_id","seq","ts","type","data"} (new reference). */
json_t *bridle__journal_event_json(const char *run_id, int64_t seq, int64_t ts_ms, const char *type,
                                   const json_t *data);
