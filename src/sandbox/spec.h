/* SPDX-License-Identifier: MIT */
/* The sandbox spec's layout, private to src/sandbox/. */
#pragma once

#include "bridle/sandbox.h"

enum spec_entry_kind {
        SPEC_BIND,
        SPEC_FILE,
        SPEC_DIR,
        SPEC_COPY,
};

struct spec_entry {
        enum spec_entry_kind kind;
        char *host;   /* BIND, COPY: host path */
        char *path;   /* target: absolute, or relative to the workspace root */
        unsigned flags;
        char *data;   /* FILE */
        size_t len;
};

struct bridle_sandbox_spec {
        char *workspace; /* host dir or NULL for tmpfs */
        char *root;      /* "/workspace" */
        char *cwd;       /* NULL: root */
        struct spec_entry *entries;
        size_t n_entries, cap_entries;
        char **env; /* "NAME=VALUE" */
        size_t n_env;
        enum bridle_net net;
        enum bridle_isolation isolation;
        bridle_limits limits;
        /* Living sandboxes without a workspace: a host directory holding l0/ ..
         * l<n-1>/ (lower layers, topmost first), upper/ and work/ for an overlay
         * /workspace (borrowed, never freed here). */
        const char *overlay;
        unsigned overlay_lowers;
        /* BRIDLE_NET_ALLOWLIST: the host directory holding the egress proxy's
         * socket (BRIDLE_EGRESS_SOCKET), or NULL. */
        char *egress_dir;
        /* Path rules (bridle_sandbox_spec_protect): globs relative to the workspace. */
        struct spec_protect *protect;
        size_t n_protect;
};

struct spec_protect {
        char *glob;
        bool deny_read; /* else deny_write */
};

#define SPEC_MAX_PROTECT 256

#define SPEC_MAX_ENTRIES 10000
#define SPEC_MAX_ENV 4096

/*
 * spec_json.c: a spec's serialisable parts as one JSON object (format in
 * docs/snapshot.md, "The recorded spec"): root, cwd, workspace, entries
 * (file, dir, local_file, local_dir), environment, limits, network,
 * isolation. Not the living-sandbox fields (overlay, overlay_lowers). A living
 * sandbox records it in $BRIDLE_HOME/sandboxes/<id>/spec.json; snapshots
 * carry it as their "manifest"; restore rebuilds the sandbox from it.
 */
/* Cap on the JSON text, both ways (a snapshot's metadata holds at most 8 MiB). */
#define BRIDLE__SPEC_JSON_MAX ((size_t)4 << 20)
/* File contents beyond this total are recorded by length only ("length"). */
#define BRIDLE__SPEC_JSON_MAX_CONTENT ((size_t)1 << 20)

enum bridle__spec_json_flags {
        /* Leave out the entries whose result lives in the workspace's layers
         * (file, dir, local_file) and the host workspace: what restore wants. */
        BRIDLE__SPEC_JSON_RESTORE = 1u << 0,
};

/* *ret_json (caller frees): compact JSON, NUL-terminated. BRIDLE_E_LIMIT when
 * it would exceed BRIDLE__SPEC_JSON_MAX. */
int bridle__spec_to_json(const bridle_sandbox_spec *s, char **ret_json, bridle_error *err);
/* Parse what bridle__spec_to_json() wrote into a new spec (*ret: caller frees
 * with bridle_sandbox_spec_free). Bad JSON or a bad value is
 * BRIDLE_E_INVALID, the message naming the key ("spec: entries[2].source:
 * ..."); caps are BRIDLE_E_LIMIT. flags: enum bridle__spec_json_flags. */
int bridle__spec_from_json(const char *json, size_t len, unsigned flags, bridle_sandbox_spec **ret,
                           bridle_error *err);
