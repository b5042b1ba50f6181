/* SPDX-License-Identifier: MIT */
#include "util/glob.h"

#include <fnmatch.h>
#include <string.h>

#define GLOB_MAX_DEPTH 64

static bool match(const char *pat, const char *path, int depth)
{
        if (depth > GLOB_MAX_DEPTH)
                return false;
        if (strncmp(pat, "**", 2) == 0 && (pat[2] == '/' || pat[2] == '\0')) {
                const char *rest = pat[2] == '/' ? pat + 3 : pat + 2;
                if (!*rest)
                        return true;
                for (const char *p = path;; p++) {
                        if ((p == path || p[-1] == '/') && match(rest, p, depth + 1))
                                return true;
                        if (!*p)
                                return false;
                }
        }
        const char *slash = strchr(pat, '/');
        size_t plen = slash ? (size_t)(slash - pat) : strlen(pat);
        const char *pslash = strchr(path, '/');
        size_t qlen = pslash ? (size_t)(pslash - path) : strlen(path);
        char pc[256], qc[256];
        if (plen >= sizeof(pc) || qlen >= sizeof(qc))
                return false;
        memcpy(pc, pat, plen);
        pc[plen] = '\0';
        memcpy(qc, path, qlen);
        qc[qlen] = '\0';
        if (fnmatch(pc, qc, 0) != 0)
                return false;
        if (!slash) /* the pattern ends here: a directory pattern covers what is below */
                return true;
        if (!pslash)
                return strcmp(slash + 1, "**") == 0;
        return match(slash + 1, pslash + 1, depth + 1);
}

bool bridle__glob_match(const char *pattern, const char *path)
{
        return pattern && path && match(pattern, path, 0);
}
