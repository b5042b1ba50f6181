/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: bridle_patch_parse() on arbitrary bytes. A parsed patch must
 * hold only safe paths (relative, no '..' component), at most the operation
 * cap, and every failure must name a patch line or the patch itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int unsafe(const char *path)
{
        if (!path || !path[0] || path[0] == '/')
                return 1;
        for (const char *c = path; *c;) {
                size_t l = strcspn(c, "/");
                if (l == 2 && c[0] == '.' && c[1] == '.')
                        return 1;
                c += l;
                while (*c == '/')
                        c++;
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle_patch *p = NULL;
        bridle_error err;
        if (bridle_patch_parse((const char *)data, size, &p, &err) < 0) {
                if (strncmp(err.msg, "patch", 5) != 0)
                        abort();
                return 0;
        }
        size_t n = bridle_patch_count(p);
        if (n > BRIDLE_PATCH_MAX_OPS)
                abort();
        for (size_t i = 0; i < n; i++) {
                enum bridle_patch_kind kind;
                const char *path = NULL, *mv = NULL;
                if (bridle_patch_op(p, i, &kind, &path, &mv) < 0 || unsafe(path) ||
                    (mv && (kind != BRIDLE_PATCH_UPDATE || unsafe(mv))))
                        abort();
        }
        bridle_patch_free(p);
        return 0;
}
