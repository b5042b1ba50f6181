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
};

#define SPEC_MAX_ENTRIES 10000
#define SPEC_MAX_ENV 4096
