/* SPDX-License-Identifier: MIT */
/* Living sandboxes' state under $BRIDLE_HOME (living.c). */
#pragma once

#include <stddef.h>

#include "bridle/sandbox.h"
#include "util/rmtree.h"

/* $BRIDLE_HOME, or ~/.local/share/bridle. */
int bridle__home(char *out, size_t cap, bridle_error *err);
/* An id or a name -> the 12-character id. */
int bridle__sandbox_resolve(const char *ref, char out[16], bridle_error *err);
/* Connect to a living sandbox's socket (it must be alive). Returns the fd. */
int bridle__sandbox_connect(const char *id, bridle_error *err);

/* A living sandbox's state file (living.c). */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
struct bridle__sb_state {
        pid_t pid;
        unsigned long long start;
        int64_t created;
        char name[64];
        char cg_mem[256], cg_pids[256];
        int overlay;             /* 1: /workspace is an overlay over upper/ (snapshots are layers) */
        char cg_freezer[256];    /* v1 freezer cgroup for quiescing, or empty */
        char restored_from[65];  /* the snapshot it was restored from, or empty */
        char root[256];          /* the workspace's path inside */
};
/* $BRIDLE_HOME/sandboxes/<id>[/leaf] */
int bridle__sandbox_path(char *out, size_t cap, const char *id, const char *leaf, bridle_error *err);
/* A sandbox left frozen by a snapshot whose process died (its "quiesced"
 * marker unlocked) is thawed; otherwise nothing (living_snapshot.c). */
void bridle__sandbox_thaw_stale(const char *id);
int bridle__sandbox_state_read(const char *id, struct bridle__sb_state *st, bridle_error *err);
int bridle__sandbox_state_write(const char *id, const struct bridle__sb_state *st, bridle_error *err);
bool bridle__sandbox_alive(const struct bridle__sb_state *st);
int bridle__mkdirs(const char *path, mode_t mode);
/* 12 random hex characters. */
int bridle__make_id(char out[16]);
/* create, optionally on lower layers extracted from a chain of snapshot
 * archives, topmost first (restore; at most 32). The sandbox records what it
 * was made from in sandboxes/<id>/spec.json: spec_json as given (restore
 * passes the snapshot's, so the record survives any number of restores), or
 * spec serialised when it is NULL. */
int bridle__sandbox_create_ex(const bridle_sandbox_spec *spec, const char *name, const char *const *chain,
                              size_t n_chain, const char *snapshot_id, const char *spec_json, char **ret_id,
                              bridle_error *err);
/* sandboxes/<id>/spec.json into *ret_json (caller frees), or NULL when the
 * sandbox has none (made before sandboxes recorded it). */
int bridle__sandbox_spec_read(const char *id, char **ret_json, bridle_error *err);
