/* SPDX-License-Identifier: MIT */
/* apply_patch internals: the parsed form, the matching ladder, the beneath-root file helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bridle/patch.h"

#define BRIDLE__PATCH_MAX_LINES ((size_t)8 << 20) /* lines per file */
#define BRIDLE__PATCH_MAX_PATH  4096u

/* A run of bytes that is not NUL-terminated. */
struct bridle__span {
        const char *s;
        size_t len;
};

/* One line of the patch text: NUL-terminated (the text is a private copy), CR stripped. */
struct bridle__pline {
        const char *s;
        size_t len;
        unsigned lineno; /* 1-based, in the text as given */
};

struct bridle__pchunk {
        struct bridle__span ctx; /* the text after "@@ " */
        bool has_ctx;
        size_t first, end; /* body lines [first, end) of the patch's lines */
        bool eof;          /* "*** End of File" */
        unsigned lineno;
};

struct bridle__pop {
        enum bridle_patch_kind kind;
        char *path;                    /* as written (trimmed) */
        char *move_to;                 /* Update only, or NULL */
        size_t first, end;             /* Add: the '+' lines */
        struct bridle__pchunk *chunks; /* Update */
        size_t nchunks;
        unsigned lineno;
};

struct bridle_patch {
        char *text; /* private copy; lines point into it */
        struct bridle__pline *lines;
        size_t nlines;
        struct bridle__pop *ops;
        size_t nops;
};

void bridle__patch_freep(bridle_patch **p);

/* ---- text helpers (match.c) ---- */
/* Byte length of the whitespace character at s (ASCII or Unicode White_Space), 0 if none. */
size_t bridle__patch_space_len(const char *s, size_t n);
/* Trim both ends / the end only. */
struct bridle__span bridle__patch_trim(struct bridle__span x);
struct bridle__span bridle__patch_rtrim(struct bridle__span x);
bool bridle__patch_span_eq(struct bridle__span a, const char *lit);

/*
 * Find pat[0..m) in lines[0..n) at or after start, climbing the ladder
 * (exact, rtrim, trim, fold). With eof, the end of the file is tried first.
 * Returns the index, or -1. An empty pattern matches at start.
 */
long bridle__patch_seek(const struct bridle__span *lines, size_t n, const struct bridle__span *pat,
                        size_t m, size_t start, bool eof);
/* Compare two lines at one rung of the ladder (0 exact .. 3 folded). */
bool bridle__patch_line_eq(struct bridle__span a, struct bridle__span b, int level);

/* ---- paths beneath the root (fsops.c) ---- */
/* Why a patch path is refused (absolute, '..', empty, too long), or NULL when it is fine. */
const char *bridle__patch_path_check(const char *path);
/* openat2(RESOLVE_BENEATH) or a no-symlink walk where openat2 is missing. -EXDEV: escapes. */
int bridle__patch_open_beneath(int rootfd, const char *path, int flags, unsigned mode);
/* mkdir -p of path's parent directories, beneath root. */
int bridle__patch_mkdir_parents(int rootfd, const char *path);
/* unlink path (not a directory), beneath root. */
int bridle__patch_unlink(int rootfd, const char *path);
/* Read a regular file beneath root (cap BRIDLE_PATCH_MAX_FILE); *ret is NUL-terminated. */
int bridle__patch_read(int rootfd, const char *path, char **ret, size_t *ret_len, dev_t *ret_dev,
                       ino_t *ret_ino);
/* Create or truncate path beneath root and write buf; returns the file's dev/ino. */
int bridle__patch_write(int rootfd, const char *path, bool create, const char *buf, size_t len,
                        dev_t *ret_dev, ino_t *ret_ino);
