/* SPDX-License-Identifier: MIT */
/* The validated manifest's layout, private to src/manifest/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/manifest.h"

#define MANIFEST_MAX_ENTRIES 10000
#define MANIFEST_MAX_CONTENT ((size_t)1 << 20)
#define MANIFEST_MAX_SIZE ((size_t)4 << 20)
#define MANIFEST_MAX_ENV 4096
#define MANIFEST_MAX_ENV_VALUE (128u * 1024 - 256) /* name=value fits the spec's 128 KiB */
#define MANIFEST_MAX_PATH 1023 /* root + "/" + path, as the spec takes it */
#define MANIFEST_MAX_TIMEOUT_S ((uint64_t)366 * 24 * 3600)
#define MANIFEST_MAX_PIDS ((uint64_t)4194304)

enum manifest_entry_type {
        MANIFEST_FILE,
        MANIFEST_DIR,
        MANIFEST_LOCAL_FILE,
        MANIFEST_LOCAL_DIR,
};

struct manifest_entry {
        enum manifest_entry_type type;
        char *path;    /* normalised, relative to the root: "a/b" */
        char *content; /* file: the bytes (may hold NULs), NUL-terminated */
        size_t content_len;
        int mode;     /* file: 0..0777, or -1 when not given */
        char *source; /* local_file, local_dir: absolute host path */
        bool read_only;
};

struct manifest_env {
        char *name;
        char *value;
};

struct bridle_manifest {
        char *name; /* for messages */
        char *root; /* normalised absolute path, never "/" */
        struct manifest_entry *entries;
        size_t n_entries;
        struct manifest_env *env; /* file order */
        size_t n_env;
        bridle_limits limits;
        enum bridle_net net;
};

const char *bridle__manifest_type_name(enum manifest_entry_type t);
