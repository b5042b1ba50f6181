/* SPDX-License-Identifier: MIT */
/* Shared between the snapshot module's files; not used elsewhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "snapshot/archive_dl.h"
#include <jansson.h>

#include "snapshot/snapshot.h"

#define SNAP_BUF_SIZE       ((size_t)128 << 10)
#define SNAP_ZSTD_LEVEL     3
#define SNAP_FORMAT_NAME    "bridle-snapshot"
#define SNAP_FORMAT_VERSION 1

/* Overlayfs' opaque-directory marker, by xattr namespace. */
#define SNAP_XATTR_TRUSTED "trusted.overlay.opaque"
#define SNAP_XATTR_USER    "user.overlay.opaque"
enum snap_opaque { SNAP_OPAQUE_NONE = 0, SNAP_OPAQUE_TRUSTED, SNAP_OPAQUE_USER };
extern const char *const bridle__snap_opaque_xattr[3]; /* [NONE] is NULL */

/* ---- zstdio.c: a zstd stream on an fd, as libarchive client callbacks ---- */
struct snap_zout;
struct snap_zin;
/* Open a libarchive pax writer whose output is compressed onto fd. */
/* size_hint: about how many bytes the tar stream holds (0: unknown); a small
 * archive then gets small compression tables. */
int bridle__snap_zout_open(int fd, uint64_t size_hint, struct archive **ret_a, struct snap_zout **ret_z,
                           bridle_error *err);
/* Finish the archive and the zstd frame; frees a. */
int bridle__snap_zout_close(struct archive *a, struct snap_zout *z, bridle_error *err);
void bridle__snap_zout_free(struct archive *a, struct snap_zout *z);
/* Open a libarchive tar reader on the zstd frame read from fd; takes fd (closed by free). */
int bridle__snap_zin_open(int fd, struct archive **ret_a, struct snap_zin **ret_z,
                          bridle_error *err);
/* After the tar end: the frame must end (checksum verified) with nothing after it. */
int bridle__snap_zin_finish(struct snap_zin *z, bridle_error *err);
void bridle__snap_zin_free(struct archive *a, struct snap_zin *z);
/* Turn a libarchive failure into an error, preferring the zstd layer's own. */
int bridle__snap_zin_error(struct archive *a, struct snap_zin *z, const char *what,
                           bridle_error *err);

/* ---- meta.c ---- */
int bridle__snap_meta_prepare(struct bridle__snapshot_meta *m, bridle_error *err);
/* JSON text of m (malloc'd, NUL-terminated). */
int bridle__snap_meta_encode(const struct bridle__snapshot_meta *m, char **ret, size_t *ret_len,
                             bridle_error *err);
int bridle__snap_meta_decode(const char *buf, size_t len, struct bridle__snapshot_meta *ret,
                             bridle_error *err);

/* ---- read.c ---- */
/* Open path, check the zstd frame header and read the metadata entry. */
int bridle__snap_open_read(const char *path, struct archive **ret_a, struct snap_zin **ret_z,
                           struct bridle__snapshot_meta *ret_meta, bridle_error *err);

/* ---- path.c ---- */
/* Open rel (may be "" for root itself) beneath rootfd without following any symlink. */
int bridle__snap_open_beneath(int rootfd, const char *rel, int flags);
/* Check an archive entry name; strips one trailing '/' (directories) into ret (caller frees). */
int bridle__snap_check_name(const char *name, bool is_dir, char **ret, bridle_error *err);
/* Split rel into parent ("" for top level) and last component; returns last's offset. */
size_t bridle__snap_basename_off(const char *rel);
/* A directory's names (without . and ..), sorted. */
struct snap_names {
        char **v;
        size_t n;
};
int bridle__snap_list(int fd, struct snap_names *ret);
void bridle__snap_names_release(struct snap_names *ns);
/* Join a and b with '/' ("" a gives b). NULL on ENOMEM. */
char *bridle__snap_join(const char *a, const char *b);

/* ---- walk.c: the tree to archive ---- */
struct snap_entry {
        char *path; /* relative, no leading or trailing '/' */
        char *link; /* symlink target */
        mode_t mode;
        struct timespec mtime;
        off_t size;
        uint8_t opaque; /* enum snap_opaque */
        bool mount_root; /* a directory another mount sits on: kept, not entered */
};
struct snap_tree {
        struct snap_entry *v;
        size_t n, cap;
        uint64_t bytes;
};
int bridle__snap_walk(int rootfd, struct snap_tree *ret, bridle_error *err);
void bridle__snap_tree_release(struct snap_tree *t);

/* ---- place.c: staging directory and moving its entries into place ---- */
/* Make sure dirfd is empty and make a hidden staging directory in it. */
int bridle__snap_stage_new(int dirfd, char *ret_name, size_t size, int *ret_fd, bridle_error *err);
/* Move every entry of staging into dirfd, then remove staging; all or nothing. */
int bridle__snap_stage_commit(int dirfd, const char *name, int stagefd, bridle_error *err);
