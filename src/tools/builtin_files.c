/* SPDX-License-Identifier: MIT */
/* read_file, write_file, list_dir and search: file operations through the
 * sandbox library, so the sandbox's walls decide what is reachable. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/sandbox.h"
#include "tools/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

#define READ_DEFAULT_LINES 2000
#define LIST_MAX_ENTRIES   1000
#define LIST_MAX_DIRS      200
#define BINARY_PROBE       8192

static int take(bridle__tbuf *b, char **ret_output)
{
        char *s = bridle__tbuf_take(b);
        if (!s)
                return -ENOMEM;
        *ret_output = s;
        return 0;
}

/* ---- read_file ---------------------------------------------------------- */

static size_t count_lines(const char *s, size_t len)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += s[i] == '\n';
        return n + (len && s[len - 1] != '\n');
}

/* Byte offset of line `line` (1-based); len if past the end. */
static size_t line_start(const char *s, size_t len, size_t line)
{
        size_t off = 0;
        for (size_t l = 1; l < line && off < len; l++) {
                const char *nl = memchr(s + off, '\n', len - off);
                off = nl ? (size_t)(nl - s) + 1 : len;
        }
        return off;
}

int bridle__tool_read_file(void *ud, const bridle__tool_env *env, const json_t *args,
                           char **ret_output, bridle_error *err)
{
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        const char *path = bridle__arg_str(args, "path", "");
        int64_t offset = bridle__arg_int(args, "offset", 1),
                limit = bridle__arg_int(args, "limit", 0);
        if (limit <= 0)
                limit = READ_DEFAULT_LINES;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if ((r = bridle_sandbox_read(id, path, &data, &len, err)) < 0)
                return bridle__tools_sbfail(id, r, err);
        if (memchr(data, '\0', len < BINARY_PROBE ? len : BINARY_PROBE))
                return bridle__err(
                        err, BRIDLE_E_INVALID,
                        "'%s' is a binary file (%zu bytes); use exec_command to inspect it", path,
                        len);
        size_t total = count_lines(data, len);
        if (len == 0) {
                bridle__tbuf b;
                bridle__tbuf_init(&b, 0);
                bridle__tbuf_printf(&b, "[%s is empty]", path);
                return take(&b, ret_output);
        }
        if (offset < 1)
                offset = 1;
        if ((size_t)offset > total)
                return bridle__err(
                        err, BRIDLE_E_INVALID,
                        "arguments.offset: line %lld is past the end of '%s' (%zu lines)",
                        (long long)offset, path, total);
        size_t from = line_start(data, len, (size_t)offset);
        size_t last = (size_t)offset - 1 + (size_t)limit;
        if (last > total || last < (size_t)offset)
                last = total;
        size_t to = line_start(data, len, last + 1);
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_add(&b, data + from, to - from);
        if (last < total || offset > 1)
                bridle__tbuf_printf(&b, "%s[lines %lld-%zu of %zu%s]",
                                    to > from && data[to - 1] != '\n' ? "\n" : "",
                                    (long long)offset, last, total,
                                    last < total ? "; pass offset to read on" : "");
        return take(&b, ret_output);
}

/* ---- write_file --------------------------------------------------------- */

int bridle__tool_write_file(void *ud, const bridle__tool_env *env, const json_t *args,
                            char **ret_output, bridle_error *err)
{
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        const char *path = bridle__arg_str(args, "path", "");
        const json_t *c = json_object_get(args, "content");
        size_t len = json_string_length(c);
        if ((r = bridle_sandbox_write(id, path, json_string_value(c), len, err)) < 0)
                return bridle__tools_sbfail(id, r, err);
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_printf(&b, "Wrote %zu bytes to %s", len, path);
        return take(&b, ret_output);
}

/* ---- list_dir ----------------------------------------------------------- */

struct lister {
        const char *id;
        bridle__tbuf b;
        size_t entries, dirs;
        bool more;
};

static int list_level(struct lister *L, const char *dir, int level, int depth, bridle_error *err)
{
        bridle_dir_entry *v = NULL;
        size_t n = 0;
        bridle_error e = {0};
        L->dirs++;
        int r = bridle_sandbox_list_dir(L->id, dir, &v, &n, &e);
        if (r < 0) {
                r = bridle__tools_sbfail(L->id, r, &e);
                if (r == BRIDLE_E_SANDBOX || r == -ENOMEM || level == 1) {
                        *err = e;
                        return r;
                }
                bridle__tbuf_printf(&L->b, "%*s[cannot list: %s]\n", 2 * level, "", e.msg);
                return 0;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (L->entries++ >= LIST_MAX_ENTRIES) {
                        L->more = true;
                        break;
                }
                const bridle_dir_entry *d = &v[i];
                if (d->type == 'd')
                        bridle__tbuf_printf(&L->b, "%*s%s/\n", 2 * level, "", d->name);
                else if (d->type == 'l')
                        bridle__tbuf_printf(&L->b, "%*s%s@\n", 2 * level, "", d->name);
                else if (d->type == 'f')
                        bridle__tbuf_printf(&L->b, "%*s%s (%llu bytes)\n", 2 * level, "", d->name,
                                            (unsigned long long)d->size);
                else
                        bridle__tbuf_printf(&L->b, "%*s%s\n", 2 * level, "", d->name);
                if (d->type != 'd' || level >= depth)
                        continue;
                if (L->dirs >= LIST_MAX_DIRS) {
                        L->more = true;
                        continue;
                }
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", dir, d->name) < 0) {
                        sub = NULL;
                        r = bridle__err(err, -ENOMEM, "list_dir");
                        break;
                }
                r = list_level(L, sub, level + 1, depth, err);
        }
        free(v);
        return r;
}

int bridle__tool_list_dir(void *ud, const bridle__tool_env *env, const json_t *args,
                          char **ret_output, bridle_error *err)
{
        struct lister L = {0};
        int r = bridle__tools_sandbox(env, &L.id, err);
        if (r < 0)
                return r;
        const char *path = bridle__arg_str(args, "path", ".");
        if (!*path)
                path = ".";
        int depth = (int)bridle__arg_int(args, "depth", 1);
        depth = depth < 1 ? 1 : depth > 5 ? 5 : depth;
        bridle__tbuf_init(&L.b, 0);
        size_t pl = strlen(path);
        bridle__tbuf_printf(&L.b, "%s%s\n", path, pl && path[pl - 1] == '/' ? "" : "/");
        if ((r = list_level(&L, path, 1, depth, err)) < 0) {
                bridle__tbuf_release(&L.b);
                return r;
        }
        if (L.more)
                bridle__tbuf_printf(
                        &L.b,
                        "[... more entries not listed (at most %d entries, %d directories)]\n",
                        LIST_MAX_ENTRIES, LIST_MAX_DIRS);
        return take(&L.b, ret_output);
}

/* ---- search ------------------------------------------------------------- */

/* The path of a "path:line:text" hit: up to the first ":<digits>:". */
static size_t hit_path_len(const char *line, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (line[i] != ':')
                        continue;
                size_t j = i + 1;
                while (j < len && line[j] >= '0' && line[j] <= '9')
                        j++;
                if (j > i + 1 && j < len && line[j] == ':')
                        return i;
        }
        return len;
}

static bool glob_match(const char *glob, const char *line, size_t len)
{
        size_t pl = hit_path_len(line, len);
        char path[4096];
        if (pl >= sizeof(path))
                return false;
        memcpy(path, line, pl);
        path[pl] = '\0';
        const char *p = path;
        while (p[0] == '.' && p[1] == '/')
                p += 2;
        if (!strchr(glob, '/')) {
                const char *base = strrchr(p, '/');
                p = base ? base + 1 : p;
        }
        return fnmatch(glob, p, 0) == 0;
}

int bridle__tool_search(void *ud, const bridle__tool_env *env, const json_t *args,
                        char **ret_output, bridle_error *err)
{
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        const char *pattern = bridle__arg_str(args, "pattern", "");
        const char *path = bridle__arg_str(args, "path", ".");
        const char *glob = bridle__arg_str(args, "glob", NULL);
        _cleanup_free_ char *hits = NULL;
        if ((r = bridle_sandbox_search(id, path && *path ? path : ".", pattern, &hits, err)) < 0)
                return bridle__tools_sbfail(id, r, err);
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        size_t n = 0;
        for (const char *s = hits; s && *s;) {
                const char *nl = strchr(s, '\n');
                size_t l = nl ? (size_t)(nl - s) : strlen(s);
                if (!glob || !*glob || glob_match(glob, s, l) || hit_path_len(s, l) == l) {
                        bridle__tbuf_add(&b, s, l);
                        bridle__tbuf_add(&b, "\n", 1);
                        n++;
                }
                s += l + (nl ? 1 : 0);
        }
        if (!n)
                bridle__tbuf_puts(&b, "No matches.");
        return take(&b, ret_output);
}
