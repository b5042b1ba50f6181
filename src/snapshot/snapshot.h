/* SPDX-License-Identifier: MIT */
/*
 * Snapshot archives: a directory tree (an overlayfs upper layer with its
 * whiteouts and opaque directories, or a whole workspace) as one
 * `.tar.zst` file and back. Format: docs/snapshot.md.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bridle/common.h"

/* Caps on what an archive may hold (the writer refuses trees beyond them too). */
#define BRIDLE__SNAPSHOT_MAX_ENTRIES 1000000u
#define BRIDLE__SNAPSHOT_MAX_PATH    4096u
#define BRIDLE__SNAPSHOT_MAX_META    ((size_t)8 << 20)
#define BRIDLE__SNAPSHOT_META_NAME   ".bridle-snapshot.json"

struct bridle__snapshot_meta {
        char id[65];         /* [A-Za-z0-9_-], 1..64 chars; write makes a random one if empty */
        char label[256];     /* UTF-8, may be empty */
        int64_t created;     /* unix seconds; write uses the current time if 0 */
        bool full;           /* true: a whole tree, false: an overlay upper layer with whiteouts */
        char *manifest_json; /* the manifest the sandbox started from (JSON object or NULL); owned
                              */
        uint64_t files;      /* entries in the tree (every type), filled by write */
        uint64_t bytes;      /* bytes of regular-file content, filled by write */
        bool no_sync;        /* write: no fsync (a run's checkpoint: as durable as the journal) */
};

/* Write the tree under dirfd to path. path must not exist: the archive is
 * written to "path.tmp" (O_EXCL), fsync'd and renamed to path without
 * replacing anything. meta is read (label, full, manifest_json, and id and
 * created when set) and completed (id, created, files, bytes). Refuses
 * device nodes other than 0/0 whiteouts, fifos and sockets, naming the path.
 * On failure nothing is left at path or path.tmp. */
int bridle__snapshot_write(int dirfd, const char *path, struct bridle__snapshot_meta *meta,
                           bridle_error *err);

/* Read only the metadata (the first entry). Does not verify the rest of the
 * archive; extract does. On success *ret is filled and owns manifest_json. */
int bridle__snapshot_read_meta(const char *path, struct bridle__snapshot_meta *ret,
                               bridle_error *err);

/* Free what m owns and zero it. Accepts NULL. */
void bridle__snapshot_meta_release(struct bridle__snapshot_meta *m);

/* Extract the archive at path into dirfd, which must be an empty directory.
 * All or nothing: entries are created in a hidden staging directory inside
 * dirfd and moved into place only once the whole archive has been read and
 * verified (zstd checksum, tar structure, metadata counts); on any error
 * dirfd is left empty. Hostile entries (absolute, "..", through a symlink,
 * hard links, devices, duplicates, caps exceeded) refuse the whole archive. */
int bridle__snapshot_extract(const char *path, int dirfd, bridle_error *err);
