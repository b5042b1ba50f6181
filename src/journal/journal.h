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

/* path NULL: $BRIDLE_HOME/journal.db (directories made, mode 0700/0600).
 * A new file is created with mode 0600 (its -wal and -shm files follow). */
int bridle__journal_open(const char *path, bridle__journal **ret, bridle_error *err);
bridle__journal *bridle__journal_close(bridle__journal *j);
/* $BRIDLE_HOME/journal.db (nothing is created). */
int bridle__journal_default_path(char *out, size_t cap, bridle_error *err);
/* The file the handle has open. */
const char *bridle__journal_path(const bridle__journal *j);

/* A run id: 32 random hex digits. */
int bridle__journal_make_id(char out[33], bridle_error *err);
/* The runs row of a run whose id the caller made (in a batch, say). */
int bridle__journal_add_run(bridle__journal *j, const char *id, const char *agent, bridle_error *err);
/* A new run: a random id (32 hex digits) in out, its row in runs. */
int bridle__journal_new_run(bridle__journal *j, const char *agent, char out[33], bridle_error *err);

/* Append one event; returns its seq (1, 2, ...) and, if ret_ts_ms, its time
 * (unix ms). type is [a-z0-9._-]{1,64}; data a JSON object (NULL: {}), stored
 * compact, at most 16 MiB. -ENOENT "no run 'ID'" when the run does not exist.
 * Durable against a crash of the process when it returns (see above). */
int64_t bridle__journal_append(bridle__journal *j, const char *run_id, const char *type,
                               const json_t *data, int64_t *ret_ts_ms, bridle_error *err);

/* Group appends (and new runs) into one transaction: one write lock, one
 * commit, ~3x the appends per second. They become durable (and visible to
 * other handles) only when commit returns; rollback, a failed commit or close
 * drops them. Other writers wait while it is open (busy timeout 5 s): keep
 * batches short (the runner buffers events itself and writes a batch at
 * once, never holding the lock across a model call or a tool). */
int bridle__journal_begin(bridle__journal *j, bridle_error *err);
int bridle__journal_commit(bridle__journal *j, bridle_error *err);
int bridle__journal_rollback(bridle__journal *j);

/* Every event of a run in order, as an array of {"run_id","seq","ts","type","data"}.
 * -ENOENT (message "no run 'ID'") when the run does not exist. A run id may be
 * given by a unique prefix of at least 4 characters; out_id gets the full id. */
int bridle__journal_events(bridle__journal *j, const char *run_ref, char out_id[33], json_t **ret,
                           bridle_error *err);

/* A run id or a unique prefix (>= 4 hex digits, any case) -> the full id.
 * -EINVAL: too short; -ENOENT "no run 'REF'"; BRIDLE_E_INVALID: ambiguous
 * (the message names the prefix and two of its runs). */
int bridle__journal_resolve(bridle__journal *j, const char *run_ref, char out_id[33],
                            bridle_error *err);

/* Every event's "ts" is unix milliseconds. */

/* Run ids, newest first (at most max; 0: all), with agent and created_at:
 * an array of {"id","agent","created_at"} (created_at: unix ms). */
int bridle__journal_runs(bridle__journal *j, size_t max, json_t **ret, bridle_error *err);

/* An event as it is handed out: {"run_id","seq","ts","type","data"} (new reference). */
/* Content-addressed blobs (a run's manifest): put is idempotent (the hash
 * names the content); get gives a malloc'd, NUL-terminated copy, -ENOENT
 * when there is none. At most 8 MiB. */
int bridle__journal_put_blob(bridle__journal *j, const char *hash, const void *data, size_t len, bridle_error *err);
int bridle__journal_get_blob(bridle__journal *j, const char *hash, char **ret, size_t *ret_len, bridle_error *err);

json_t *bridle__journal_event_json(const char *run_id, int64_t seq, int64_t ts_ms, const char *type,
                                   const json_t *data);
