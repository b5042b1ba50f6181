/* SPDX-License-Identifier: MIT */
/*
 * bridle: apply_patch, the patch format OpenAI models write.
 *
 *   *** Begin Patch
 *   *** Add File: path            followed by '+' lines (none: an empty file)
 *   *** Delete File: path
 *   *** Update File: path
 *   *** Move to: new/path         optional, right after Update File
 *   @@ optional context line      then ' ' (context), '-' (old) and '+' (new) lines
 *   *** End of File               optional: the chunk ends at the end of the file
 *   *** End Patch
 *
 * Chunks are located with a lenient ladder: exact, then trailing whitespace
 * ignored, then both ends trimmed, then Unicode punctuation folded (dashes,
 * quotes, odd spaces). docs/patch.md has the details.
 *
 * Caps: patch text <= 16 MiB, each file <= 64 MiB and <= 8 Mi lines, <= 10,000
 * operations (BRIDLE_E_LIMIT). Error messages name the patch line and the file:
 *   "patch line 7: update of 'src/a.c': could not find the lines ..."
 */
#pragma once

#include <stddef.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BRIDLE_PATCH_MAX_TEXT ((size_t)16 << 20)
#define BRIDLE_PATCH_MAX_FILE ((size_t)64 << 20)
#define BRIDLE_PATCH_MAX_OPS  10000u

typedef struct bridle_patch bridle_patch;

enum bridle_patch_kind {
        BRIDLE_PATCH_ADD = 1,
        BRIDLE_PATCH_DELETE = 2,
        BRIDLE_PATCH_UPDATE = 3,
};

/*
 * Parse an apply_patch text (len bytes; need not be NUL-terminated). Accepts
 * what Codex accepts: whitespace around the markers, CRLF line ends, and a
 * patch wrapped in a heredoc (<<EOF ... EOF). Paths that are empty, absolute
 * or contain '..' are refused here, so nothing is applied. A patch with no
 * operations parses (applying it fails). *ret is caller-owned: free it with
 * bridle_patch_free().
 */
BRIDLE_EXPORT int bridle_patch_parse(const char *text, size_t len, bridle_patch **ret,
                                     bridle_error *err);
/* Free a parsed patch; accepts NULL, returns NULL. */
BRIDLE_EXPORT bridle_patch *bridle_patch_free(bridle_patch *p);
/* Number of operations (Add, Delete, Update) in the patch. */
BRIDLE_EXPORT size_t bridle_patch_count(const bridle_patch *p);
/*
 * Operation i (< count): its kind, path and move target (NULL unless an Update
 * has "*** Move to:"). The strings belong to p. Returns 0 or -EINVAL.
 */
BRIDLE_EXPORT int bridle_patch_op(const bridle_patch *p, size_t i, enum bridle_patch_kind *ret_kind,
                                  const char **ret_path, const char **ret_move_to);

/*
 * Apply a parsed patch to the tree under dirfd (AT_FDCWD or a directory fd,
 * O_PATH is enough). Never writes outside it: symlinks that leave the root are
 * errors; symlinks that stay inside are followed. Operations apply in order; a
 * failure stops there and earlier operations stay applied (Codex semantics).
 * Updates refuse binary files (NUL bytes), keep CRLF files CRLF and always end
 * the file with a newline. ret_summary (may be NULL) gets a caller-owned string
 * "A path\nM path\nD path\n" (added, then modified, then deleted files).
 */
BRIDLE_EXPORT int bridle_patch_apply_parsed(int dirfd, const bridle_patch *p, char **ret_summary,
                                            bridle_error *err);

/* Parse and apply in one call: bridle_patch_parse() + bridle_patch_apply_parsed(). */
BRIDLE_EXPORT int bridle_patch_apply(int dirfd, const char *text, size_t len, char **ret_summary,
                                     bridle_error *err);

#ifdef __cplusplus
}
#endif
