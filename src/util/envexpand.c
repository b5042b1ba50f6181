/* SPDX-License-Identifier: MIT */
/* ${NAME} filled in from the environment (envexpand.h). */
#include "util/envexpand.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"

int bridle__env_expand(const char *what, const char *in, char **ret, bridle_error *err)
{
        size_t cap = strlen(in) + 1, n = 0;
        char *out = bridle__malloc(cap);
        if (!out)
                return bridle__err(err, -ENOMEM, "%s", what);
        for (const char *p = in; *p;) {
                const char *add = p;
                size_t len = 1;
                char name[128];
                if (p[0] == '$' && p[1] == '{' && strchr(p + 2, '}')) {
                        size_t nl = (size_t)(strchr(p + 2, '}') - (p + 2));
                        if (nl == 0 || nl >= sizeof(name)) {
                                free(out);
                                return bridle__err(err, BRIDLE_E_INVALID, "%s: a bad ${...}", what);
                        }
                        memcpy(name, p + 2, nl);
                        name[nl] = '\0';
                        add = getenv(name);
                        if (!add) {
                                free(out);
                                return bridle__err(err, BRIDLE_E_INVALID, "%s: $%s is not set", what, name);
                        }
                        len = strlen(add);
                        p += nl + 3;
                } else
                        p++;
                if (n + len + 1 > cap) {
                        cap = (n + len + 1) * 2;
                        char *nb = cap > BRIDLE__ENV_EXPAND_MAX ? NULL : bridle__realloc(out, cap);
                        if (!nb) {
                                free(out);
                                return bridle__err(err, BRIDLE_E_LIMIT, "%s: too long", what);
                        }
                        out = nb;
                }
                memcpy(out + n, add, len);
                n += len;
        }
        out[n] = '\0';
        *ret = out;
        return 0;
}
