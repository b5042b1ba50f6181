/* SPDX-License-Identifier: MIT */
/* Workspace manifests: load, validate (everything, before anything is used), free. */
#include "manifest/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

/* Validation context: where messages point and what is being filled in. */
struct vctx {
        const bridle__doc *doc;
        bridle_error *err;
        const char *base_dir; /* NULL: the current directory */
        bridle_manifest *m;
};

struct lc {
        int line, col;
};

static const char *const top_keys[] = { "version", "root",   "entries", "environment",
                                        "limits",  "network", NULL };
static const char *const entry_keys[] = { "type", "path", "content", "mode",
                                          "source", "read_only", NULL };
static const char *const limit_keys[] = { "timeout", "memory", "pids", "cpu", "disk", NULL };

static const char *const type_names[] = {
        [MANIFEST_FILE] = "file",
        [MANIFEST_DIR] = "dir",
        [MANIFEST_LOCAL_FILE] = "local_file",
        [MANIFEST_LOCAL_DIR] = "local_dir",
};

/* Keys each type allows besides type and path. */
static const char *const type_keys[][3] = {
        [MANIFEST_FILE] = { "content", "mode", NULL },
        [MANIFEST_DIR] = { NULL },
        [MANIFEST_LOCAL_FILE] = { "source", NULL },
        [MANIFEST_LOCAL_DIR] = { "source", "read_only", NULL },
};

const char *bridle__manifest_type_name(enum manifest_entry_type t)
{
        return (size_t)t < ELEMENTSOF(type_names) ? type_names[t] : "?";
}

/* ---- freeing ----------------------------------------------------------------- */

static void entry_release(struct manifest_entry *e)
{
        free(e->path);
        free(e->content);
        free(e->source);
}

bridle_manifest *bridle_manifest_free(bridle_manifest *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++)
                entry_release(&m->entries[i]);
        free(m->entries);
        for (size_t i = 0; i < m->n_env; i++) {
                free(m->env[i].name);
                free(m->env[i].value);
        }
        free(m->env);
        free(m->root);
        free(m->name);
        free(m);
        return NULL;
}

static void manifest_freep(bridle_manifest **m)
{
        bridle_manifest_free(*m);
}

static void doc_freep(bridle__doc **d)
{
        bridle__doc_free(*d);
}

/* ---- messages ---------------------------------------------------------------- */

static struct lc from_pos(const bridle__docpos *p, bool key)
{
        if (!p)
                return (struct lc){ 0, 0 };
        return key ? (struct lc){ p->key_line, p->key_col } : (struct lc){ p->line, p->col };
}

/* The value in parent[key], or parent[index] for a list. */
static struct lc at_value(const struct vctx *c, const json_t *parent, const char *key,
                          size_t index)
{
        return from_pos(bridle__doc_slot(c->doc, parent, key, index), false);
}

static struct lc at_key(const struct vctx *c, const json_t *obj, const char *key)
{
        return from_pos(bridle__doc_slot(c->doc, obj, key, 0), true);
}

/* A container, by identity. */
static struct lc at_node(const struct vctx *c, const json_t *node)
{
        struct lc r = { 0, 0 };
        (void)bridle__doc_pos(c->doc, node, &r.line, &r.col);
        return r;
}

static int fail(const struct vctx *c, struct lc where, const char *path, int code,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(const struct vctx *c, struct lc where, const char *path, int code,
                const char *fmt, ...)
{
        char msg[sizeof(c->err->msg)];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!path || !*path)
                return bridle__doc_err(c->doc, where.line, where.col, c->err, code, "%s", msg);
        return bridle__doc_err(c->doc, where.line, where.col, c->err, code, "%s: %s", path, msg);
}

static int oom(const struct vctx *c)
{
        return bridle__doc_err(c->doc, 0, 0, c->err, -ENOMEM, "loading manifest");
}

static void join(char *buf, size_t size, const char *path, const char *key)
{
        char q[64];
        bridle__doc_quote(key, strlen(key), q, sizeof(q));
        (void)snprintf(buf, size, "%s%s%s", path, *path ? "." : "", q);
}

#define QUOTE(buf, s, len) bridle__doc_quote((s), (len), (buf), sizeof(buf))

/* ---- shape checks ----------------------------------------------------------------- */

static bool is_one_of(const char *s, const char *const *words)
{
        for (; *words; words++)
                if (strcmp(s, *words) == 0)
                        return true;
        return false;
}

static void list_words(char *buf, size_t size, const char *const *words)
{
        size_t o = 0;
        buf[0] = '\0';
        for (; *words && o < size; words++) {
                int n = snprintf(buf + o, size - o, "%s%s", o ? ", " : "", *words);
                if (n < 0)
                        break;
                o += (size_t)n;
        }
}

static int check_keys(const struct vctx *c, const json_t *obj, const char *path,
                      const char *const *allowed)
{
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)obj, key, v) {
                if (is_one_of(key, allowed))
                        continue;
                char sub[160], words[160];
                join(sub, sizeof(sub), path, key);
                list_words(words, sizeof(words), allowed);
                return fail(c, at_key(c, obj, key), sub, BRIDLE_E_INVALID,
                            "unknown key (expected one of: %s)", words);
        }
        return 0;
}

/* obj[key] must have type t (described as what); a missing key is fine. */
static int want(const struct vctx *c, const json_t *obj, const char *key, const char *path,
                json_type t, const char *what)
{
        const json_t *v = json_object_get(obj, key);
        if (!v || json_typeof(v) == t)
                return 0;
        char sub[160];
        join(sub, sizeof(sub), path, key);
        return fail(c, at_value(c, obj, key, 0), sub, BRIDLE_E_INVALID, "expected %s, got %s",
                    what, bridle__json_type_name(v));
}

static int want_bool(const struct vctx *c, const json_t *obj, const char *key, const char *path)
{
        const json_t *v = json_object_get(obj, key);
        if (!v || json_is_boolean(v))
                return 0;
        char sub[160];
        join(sub, sizeof(sub), path, key);
        return fail(c, at_value(c, obj, key, 0), sub, BRIDLE_E_INVALID,
                    "expected a boolean (true or false), got %s", bridle__json_type_name(v));
}

static int require(const struct vctx *c, const json_t *obj, const char *key, const char *path)
{
        if (json_object_get(obj, key))
                return 0;
        return fail(c, at_node(c, obj), path, BRIDLE_E_INVALID, "missing required key '%s'", key);
}

/* ---- paths ------------------------------------------------------------------------ */

/*
 * Normalise a '/'-separated path: empty and "." segments go, ".." is refused.
 * out gets "a/b", or "/a/b" for an absolute path ("/" alone for the root).
 * Returns NULL, or why the path is refused.
 */
static const char *normalise(const char *p, size_t len, char *out, size_t size)
{
        if (strlen(p) != len)
                return "contains a NUL byte";
        if (len == 0)
                return "is empty";
        size_t o = 0;
        if (p[0] == '/')
                out[o++] = '/';
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                size_t n = strcspn(s, "/");
                if (n == 0)
                        break;
                if (n == 2 && s[0] == '.' && s[1] == '.')
                        return "contains '..'";
                if (n > NAME_MAX)
                        return "has a component longer than 255 bytes";
                if (!(n == 1 && s[0] == '.')) {
                        bool sep = o > 0 && out[o - 1] != '/';
                        if (o + sep + n >= size)
                                return "is too long";
                        if (sep)
                                out[o++] = '/';
                        memcpy(out + o, s, n);
                        o += n;
                }
                s += n;
        }
        out[o] = '\0';
        return NULL;
}

static int parse_root(struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "root");
        const char *s = v ? json_string_value(v) : "/workspace";
        size_t len = v ? json_string_length(v) : strlen(s);
        char buf[MANIFEST_MAX_PATH + 1], q[96];
        const char *why = normalise(s, len, buf, sizeof(buf));
        if (!why && buf[0] != '/')
                why = "is not an absolute path";
        if (!why && strcmp(buf, "/") == 0)
                why = "must not be '/'";
        if (why)
                return fail(c, at_value(c, top, "root", 0), "root", BRIDLE_E_INVALID, "'%s' %s",
                            QUOTE(q, s, len), why);
        c->m->root = bridle__strdup(buf);
        return c->m->root ? 0 : oom(c);
}

/* An entry's target, relative to the root. */
static int entry_path(const struct vctx *c, const json_t *obj, const char *path, char **ret)
{
        const json_t *v = json_object_get(obj, "path");
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char buf[MANIFEST_MAX_PATH + 1], q[96], sub[64];
        const char *rel = buf, *root = c->m->root;
        size_t rl = strlen(root);
        const char *why = normalise(s, len, buf, sizeof(buf));
        if (!why && buf[0] == '/') {
                if (strncmp(buf, root, rl) == 0 && (buf[rl] == '/' || buf[rl] == '\0'))
                        rel = buf + rl + (buf[rl] == '/');
                else
                        why = "is outside the root";
        }
        if (!why && !*rel)
                why = "names the root itself";
        if (!why && rl + 1 + strlen(rel) > MANIFEST_MAX_PATH)
                why = "is too long";
        (void)snprintf(sub, sizeof(sub), "%s.path", path);
        if (why)
                return fail(c, at_value(c, obj, "path", 0), sub, BRIDLE_E_INVALID, "'%s' %s",
                            QUOTE(q, s, len), why);
        *ret = bridle__strdup(rel);
        return *ret ? 0 : oom(c);
}

/* A local source: must exist with the right type; made absolute. */
static int entry_source(const struct vctx *c, const json_t *obj, const char *path,
                        enum manifest_entry_type t, char **ret)
{
        const json_t *v = json_object_get(obj, "source");
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char sub[64], q[96], full[PATH_MAX], real[PATH_MAX];
        struct lc where = at_value(c, obj, "source", 0);
        (void)snprintf(sub, sizeof(sub), "%s.source", path);
        QUOTE(q, s, len);
        if (strlen(s) != len || len == 0)
                return fail(c, where, sub, BRIDLE_E_INVALID, "'%s' %s", q,
                            len ? "contains a NUL byte" : "is empty");
        int n = (s[0] == '/' || !c->base_dir) ? snprintf(full, sizeof(full), "%s", s)
                                              : snprintf(full, sizeof(full), "%s/%s",
                                                         c->base_dir, s);
        if (n < 0 || (size_t)n >= sizeof(full))
                return fail(c, where, sub, BRIDLE_E_INVALID, "'%s' is too long", q);
        struct stat st;
        if (stat(full, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fail(c, where, sub, BRIDLE_E_INVALID, "'%s' does not exist", q);
                return fail(c, where, sub, BRIDLE_E_INVALID, "'%s': %s", q, strerror(errno));
        }
        if (t == MANIFEST_LOCAL_FILE && !S_ISREG(st.st_mode))
                return fail(c, where, sub, BRIDLE_E_INVALID, "'%s' is not a regular file", q);
        if (t == MANIFEST_LOCAL_DIR && !S_ISDIR(st.st_mode))
                return fail(c, where, sub, BRIDLE_E_INVALID, "'%s' is not a directory", q);
        if (!realpath(full, real))
                return fail(c, where, sub, BRIDLE_E_INVALID, "'%s': %s", q, strerror(errno));
        *ret = bridle__strdup(real);
        return *ret ? 0 : oom(c);
}

/* ---- entries ----------------------------------------------------------------------- */

static int parse_type(const struct vctx *c, const json_t *obj, const char *path,
                      enum manifest_entry_type *ret)
{
        char sub[64], q[96];
        (void)snprintf(sub, sizeof(sub), "%s.type", path);
        int r = want(c, obj, "type", path, JSON_STRING, "a string");
        if (r < 0)
                return r;
        const json_t *v = json_object_get(obj, "type");
        for (size_t t = 0; t < ELEMENTSOF(type_names); t++)
                if (strcmp(json_string_value(v), type_names[t]) == 0 &&
                    strlen(type_names[t]) == json_string_length(v)) {
                        *ret = (enum manifest_entry_type)t;
                        return 0;
                }
        return fail(c, at_value(c, obj, "type", 0), sub, BRIDLE_E_INVALID,
                    "unknown type '%s' (expected file, dir, local_file or local_dir)",
                    QUOTE(q, json_string_value(v), json_string_length(v)));
}

/* Keys valid for some type but not this one. */
static int check_type_keys(const struct vctx *c, const json_t *obj, const char *path,
                           enum manifest_entry_type t)
{
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)obj, key, v) {
                if (strcmp(key, "type") == 0 || strcmp(key, "path") == 0 ||
                    is_one_of(key, type_keys[t]))
                        continue;
                char sub[160];
                join(sub, sizeof(sub), path, key);
                return fail(c, at_key(c, obj, key), sub, BRIDLE_E_INVALID,
                            "not allowed for type '%s'", type_names[t]);
        }
        return 0;
}

static bool all_octal(const char *s)
{
        return *s && strlen(s) <= 6 && s[strspn(s, "01234567")] == '\0';
}

/*
 * A mode: an octal string ("0644", "644", "0o644") or an integer written in
 * octal (0644, 0o644) or hex. A plain decimal integer such as 420 or 644 is
 * refused: nobody can tell which base was meant.
 */
static int parse_mode(const struct vctx *c, const json_t *obj, const char *path, int *ret)
{
        const json_t *v = json_object_get(obj, "mode");
        char sub[64], q[96];
        struct lc where = at_value(c, obj, "mode", 0);
        long long mode = -1;
        (void)snprintf(sub, sizeof(sub), "%s.mode", path);
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                const char *d = strncmp(s, "0o", 2) == 0 ? s + 2 : s;
                if (strlen(s) != json_string_length(v) || !all_octal(d))
                        return fail(c, where, sub, BRIDLE_E_INVALID,
                                    "'%s' is not an octal mode (e.g. \"0644\")",
                                    QUOTE(q, s, json_string_length(v)));
                mode = strtoll(d, NULL, 8);
        } else if (json_is_integer(v)) {
                const bridle__docpos *p = bridle__doc_slot(c->doc, obj, "mode", 0);
                const char *raw = p && p->raw ? p->raw : "";
                mode = json_integer_value(v);
                if (raw[0] == '0' && all_octal(raw))
                        mode = strtoll(raw, NULL, 8);
                else if (!(raw[0] == '0' && (raw[1] == 'o' || raw[1] == 'x')) && mode != 0)
                        return fail(c, where, sub, BRIDLE_E_INVALID,
                                    "%lld is ambiguous: write the mode in octal with a leading "
                                    "zero (0644) or as a string (\"0644\")",
                                    (long long)json_integer_value(v));
        } else {
                return fail(c, where, sub, BRIDLE_E_INVALID,
                            "expected an octal string or integer, got %s",
                            bridle__json_type_name(v));
        }
        /* No setuid, setgid or sticky bits: the sandbox refuses them anyway. */
        if (mode < 0 || mode > 0777)
                return fail(c, where, sub, BRIDLE_E_INVALID,
                            "mode %#llo is out of range (0 to 0777)", mode);
        *ret = (int)mode;
        return 0;
}

static int parse_file_fields(const struct vctx *c, const json_t *obj, const char *path,
                             struct manifest_entry *e)
{
        int r = want(c, obj, "content", path, JSON_STRING, "a string");
        if (r < 0)
                return r;
        const json_t *v = json_object_get(obj, "content");
        const char *s = v ? json_string_value(v) : "";
        size_t len = v ? json_string_length(v) : 0;
        if (len > MANIFEST_MAX_CONTENT) {
                char sub[64];
                (void)snprintf(sub, sizeof(sub), "%s.content", path);
                return fail(c, at_value(c, obj, "content", 0), sub, BRIDLE_E_LIMIT,
                            "larger than %zu bytes", MANIFEST_MAX_CONTENT);
        }
        e->mode = -1;
        if (json_object_get(obj, "mode") && (r = parse_mode(c, obj, path, &e->mode)) < 0)
                return r;
        e->content = bridle__malloc(len + 1);
        if (!e->content)
                return oom(c);
        memcpy(e->content, s, len);
        e->content[len] = '\0';
        e->content_len = len;
        return 0;
}

static int parse_local_fields(const struct vctx *c, const json_t *obj, const char *path,
                              struct manifest_entry *e)
{
        int r;
        if ((r = require(c, obj, "source", path)) < 0 ||
            (r = want(c, obj, "source", path, JSON_STRING, "a string")) < 0 ||
            (r = want_bool(c, obj, "read_only", path)) < 0)
                return r;
        if (json_is_boolean(json_object_get(obj, "read_only")))
                e->read_only = json_is_true(json_object_get(obj, "read_only"));
        return entry_source(c, obj, path, e->type, &e->source);
}

static int parse_entry(const struct vctx *c, const json_t *list, size_t i,
                       struct manifest_entry *e)
{
        const json_t *obj = json_array_get(list, i);
        char path[32];
        int r;
        (void)snprintf(path, sizeof(path), "entries[%zu]", i);
        if (!json_is_object(obj))
                return fail(c, at_value(c, list, NULL, i), path, BRIDLE_E_INVALID,
                            "expected a mapping, got %s", bridle__json_type_name(obj));
        if ((r = check_keys(c, obj, path, entry_keys)) < 0 ||
            (r = require(c, obj, "type", path)) < 0 || (r = parse_type(c, obj, path, &e->type)) < 0 ||
            (r = check_type_keys(c, obj, path, e->type)) < 0 ||
            (r = require(c, obj, "path", path)) < 0 ||
            (r = want(c, obj, "path", path, JSON_STRING, "a string")) < 0 ||
            (r = entry_path(c, obj, path, &e->path)) < 0)
                return r;
        switch (e->type) {
        case MANIFEST_FILE:
                return parse_file_fields(c, obj, path, e);
        case MANIFEST_DIR:
                return 0;
        case MANIFEST_LOCAL_FILE:
        case MANIFEST_LOCAL_DIR:
                return parse_local_fields(c, obj, path, e);
        }
        return 0;
}

/*
 * Sorting entry indices by target path, with '/' below every other byte: then
 * everything under "a" ("a/x", "a/y/z") follows "a" at once, before "a-b" or "a.c".
 * Ties (duplicates) keep file order.
 */
static int cmp_by_path(const void *a, const void *b, void *arg)
{
        const struct manifest_entry *es = arg;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        const unsigned char *p = (const unsigned char *)es[x].path;
        const unsigned char *q = (const unsigned char *)es[y].path;
        for (; *p && *p == *q; p++, q++)
                ;
        if (*p != *q) {
                int kp = *p == '/' ? 1 : *p ? *p + 1 : 0;
                int kq = *q == '/' ? 1 : *q ? *q + 1 : 0;
                return kp - kq;
        }
        return x < y ? -1 : x > y;
}

static bool is_below(const char *child, const char *parent)
{
        size_t n = strlen(parent);
        return strncmp(child, parent, n) == 0 && child[n] == '/';
}

static bool blocks_children(const struct manifest_entry *e)
{
        return e->type == MANIFEST_FILE || e->type == MANIFEST_LOCAL_FILE ||
               (e->type == MANIFEST_LOCAL_DIR && e->read_only);
}

static int conflict(const struct vctx *c, const json_t *list, size_t later, size_t earlier,
                    const char *why)
{
        const struct manifest_entry *es = c->m->entries;
        const json_t *obj = json_array_get(list, later);
        struct lc first = at_value(c, json_array_get(list, earlier), "path", 0);
        char sub[64], q1[96], q2[96];
        (void)snprintf(sub, sizeof(sub), "entries[%zu].path", later);
        return fail(c, at_value(c, obj, "path", 0), sub, BRIDLE_E_INVALID,
                    "'%s' %s entries[%zu] (%s '%s' at %d:%d)",
                    QUOTE(q1, es[later].path, strlen(es[later].path)), why, earlier,
                    type_names[es[earlier].type], QUOTE(q2, es[earlier].path, strlen(es[earlier].path)),
                    first.line, first.col);
}

/*
 * Entries below a file or a read-only local_dir. One sweep in sorted order with a
 * stack of ancestors; block[k] is the outermost blocking ancestor of the entry at
 * stack[k], or SIZE_MAX. Reports the earliest offending entry in file order.
 */
static int check_parents(const struct vctx *c, const json_t *list, const size_t *order)
{
        const struct manifest_entry *es = c->m->entries;
        size_t n = c->m->n_entries, depth = 0, bad = SIZE_MAX, bad_anc = SIZE_MAX;
        _cleanup_free_ size_t *stack = bridle__calloc(n, sizeof(size_t));
        _cleanup_free_ size_t *block = bridle__calloc(n, sizeof(size_t));
        if (!stack || !block)
                return oom(c);
        for (size_t k = 0; k < n; k++) {
                size_t i = order[k];
                while (depth > 0 && !is_below(es[i].path, es[stack[depth - 1]].path))
                        depth--;
                size_t anc = SIZE_MAX;
                if (depth > 0) {
                        size_t top = stack[depth - 1];
                        anc = block[depth - 1] != SIZE_MAX ? block[depth - 1]
                              : blocks_children(&es[top]) ? top
                                                          : SIZE_MAX;
                }
                if (anc != SIZE_MAX && (bad == SIZE_MAX || i < bad))
                        bad = i, bad_anc = anc;
                stack[depth] = i;
                block[depth++] = anc;
        }
        if (bad == SIZE_MAX)
                return 0;
        return conflict(c, list, bad, bad_anc,
                        es[bad_anc].type == MANIFEST_LOCAL_DIR ? "is inside read-only"
                                                               : "is inside a file, the target of");
}

static int check_targets(const struct vctx *c, const json_t *list)
{
        const struct manifest_entry *es = c->m->entries;
        size_t n = c->m->n_entries, dup = SIZE_MAX, first = SIZE_MAX;
        if (n == 0)
                return 0;
        _cleanup_free_ size_t *order = bridle__calloc(n, sizeof(size_t));
        if (!order)
                return oom(c);
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(size_t), cmp_by_path, c->m->entries);
        /* Equal paths form runs in file order: run[0] is the first, run[1] the
         * earliest repeat. Report the repeat that comes first in the file. */
        for (size_t k = 1, run = 0; k < n; k++) {
                if (strcmp(es[order[k]].path, es[order[run]].path) != 0) {
                        run = k;
                        continue;
                }
                if (k == run + 1 && (dup == SIZE_MAX || order[k] < dup)) {
                        dup = order[k];
                        first = order[run];
                }
        }
        if (dup != SIZE_MAX)
                return conflict(c, list, dup, first, "is also the target of");
        return check_parents(c, list, order);
}

static int parse_entries(struct vctx *c, const json_t *top)
{
        const json_t *list = json_object_get(top, "entries");
        if (!list || json_is_null(list))
                return 0;
        int r = want(c, top, "entries", "", JSON_ARRAY, "a list");
        if (r < 0)
                return r;
        size_t n = json_array_size(list);
        if (n > MANIFEST_MAX_ENTRIES)
                return fail(c, at_node(c, list), "entries", BRIDLE_E_LIMIT,
                            "more than %u entries", MANIFEST_MAX_ENTRIES);
        if (n == 0)
                return 0;
        c->m->entries = bridle__calloc(n, sizeof(struct manifest_entry));
        if (!c->m->entries)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                c->m->n_entries = i + 1;
                if ((r = parse_entry(c, list, i, &c->m->entries[i])) < 0)
                        return r;
        }
        return check_targets(c, list);
}

/* ---- environment ------------------------------------------------------------------- */

static bool valid_env_name(const char *s)
{
        if (!*s || strlen(s) > 255 || (*s >= '0' && *s <= '9'))
                return false;
        for (; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                      (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

/* A value: a string, or a number or boolean taken as written. */
static int env_value(const struct vctx *c, const json_t *env, const char *name, char **ret)
{
        const json_t *v = json_object_get(env, name);
        const bridle__docpos *p = bridle__doc_slot(c->doc, env, name, 0);
        char sub[160];
        const char *s = NULL;
        size_t len = 0;
        join(sub, sizeof(sub), "environment", name);
        if (json_is_string(v)) {
                s = json_string_value(v);
                len = json_string_length(v);
        } else if ((json_is_number(v) || json_is_boolean(v)) && p && p->raw) {
                s = p->raw;
                len = strlen(s);
        } else {
                return fail(c, from_pos(p, false), sub, BRIDLE_E_INVALID,
                            "expected a string, got %s", bridle__json_type_name(v));
        }
        if (strlen(s) != len)
                return fail(c, from_pos(p, false), sub, BRIDLE_E_INVALID, "contains a NUL byte");
        if (len > MANIFEST_MAX_ENV_VALUE)
                return fail(c, from_pos(p, false), sub, BRIDLE_E_LIMIT, "longer than %u bytes",
                            MANIFEST_MAX_ENV_VALUE);
        if (len == 0 && strcmp(name, "PATH") == 0)
                return fail(c, from_pos(p, false), sub, BRIDLE_E_INVALID, "must not be empty");
        *ret = bridle__strdup(s);
        return *ret ? 0 : oom(c);
}

static int parse_environment(struct vctx *c, const json_t *top)
{
        const json_t *env = json_object_get(top, "environment");
        if (!env || json_is_null(env))
                return 0;
        int r = want(c, top, "environment", "", JSON_OBJECT, "a mapping");
        if (r < 0)
                return r;
        size_t n = json_object_size(env);
        if (n > MANIFEST_MAX_ENV)
                return fail(c, at_node(c, env), "environment", BRIDLE_E_LIMIT,
                            "more than %u variables", MANIFEST_MAX_ENV);
        if (n == 0)
                return 0;
        c->m->env = bridle__calloc(n, sizeof(struct manifest_env));
        if (!c->m->env)
                return oom(c);
        const char *name;
        json_t *v;
        json_object_foreach ((json_t *)env, name, v) {
                char sub[160];
                join(sub, sizeof(sub), "environment", name);
                if (!valid_env_name(name))
                        return fail(c, at_key(c, env, name), sub, BRIDLE_E_INVALID,
                                    "not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)");
                struct manifest_env *e = &c->m->env[c->m->n_env++];
                if (!(e->name = bridle__strdup(name)))
                        return oom(c);
                if ((r = env_value(c, env, name, &e->value)) < 0)
                        return r;
        }
        return 0;
}

/* ---- limits --------------------------------------------------------------------------- */

static int limit_int(const struct vctx *c, const json_t *lim, const char *key, uint64_t max,
                     uint64_t *ret)
{
        const json_t *v = json_object_get(lim, key);
        char sub[64];
        (void)snprintf(sub, sizeof(sub), "limits.%s", key);
        if (!json_is_integer(v))
                return fail(c, at_value(c, lim, key, 0), sub, BRIDLE_E_INVALID,
                            "expected an integer, got %s", bridle__json_type_name(v));
        json_int_t x = json_integer_value(v);
        if (x <= 0 || (uint64_t)x > max)
                return fail(c, at_value(c, lim, key, 0), sub, BRIDLE_E_INVALID,
                            "%lld is out of range (1 to %llu)", (long long)x,
                            (unsigned long long)max);
        *ret = (uint64_t)x;
        return 0;
}

static int limit_size(const struct vctx *c, const json_t *lim, const char *key, uint64_t *ret)
{
        const json_t *v = json_object_get(lim, key);
        char sub[64], q[96];
        struct lc where = at_value(c, lim, key, 0);
        (void)snprintf(sub, sizeof(sub), "limits.%s", key);
        if (json_is_integer(v) && json_integer_value(v) <= 0)
                return fail(c, where, sub, BRIDLE_E_INVALID, "must be greater than 0");
        if (json_is_integer(v))
                return limit_int(c, lim, key, UINT64_MAX, ret);
        if (!json_is_string(v))
                return fail(c, where, sub, BRIDLE_E_INVALID,
                            "expected a size (\"256M\", \"1G\" or bytes), got %s",
                            bridle__json_type_name(v));
        const char *s = json_string_value(v);
        bridle_error e = { 0 };
        uint64_t x = 0;
        if (strlen(s) != json_string_length(v) || bridle_parse_size(s, &x, &e) < 0)
                return fail(c, where, sub, BRIDLE_E_INVALID,
                            "'%s' is not a size (e.g. 256M, 1G, or bytes)",
                            QUOTE(q, s, json_string_length(v)));
        if (x == 0)
                return fail(c, where, sub, BRIDLE_E_INVALID, "must be greater than 0");
        *ret = x;
        return 0;
}

static int limit_timeout(const struct vctx *c, const json_t *lim, uint64_t *ret)
{
        const json_t *v = json_object_get(lim, "timeout");
        struct lc where = at_value(c, lim, "timeout", 0);
        if (!json_is_number(v))
                return fail(c, where, "limits.timeout", BRIDLE_E_INVALID,
                            "expected seconds (a number), got %s", bridle__json_type_name(v));
        double s = json_number_value(v);
        if (!(s > 0) || s > (double)MANIFEST_MAX_TIMEOUT_S)
                return fail(c, where, "limits.timeout", BRIDLE_E_INVALID,
                            "%g is out of range (more than 0, at most %llu seconds)", s,
                            (unsigned long long)MANIFEST_MAX_TIMEOUT_S);
        uint64_t ms = json_is_integer(v) ? (uint64_t)json_integer_value(v) * 1000
                                         : (uint64_t)(s * 1000.0 + 0.5); /* s > 0, bounded */
        if (ms == 0)
                return fail(c, where, "limits.timeout", BRIDLE_E_INVALID,
                            "%g is shorter than a millisecond", s);
        *ret = ms;
        return 0;
}

static int parse_limits(struct vctx *c, const json_t *top)
{
        const json_t *lim = json_object_get(top, "limits");
        bridle_limits *l = &c->m->limits;
        int r = 0;
        if (!lim || json_is_null(lim))
                return 0;
        if ((r = want(c, top, "limits", "", JSON_OBJECT, "a mapping")) < 0 ||
            (r = check_keys(c, lim, "limits", limit_keys)) < 0)
                return r;
        if (json_object_get(lim, "timeout") && (r = limit_timeout(c, lim, &l->timeout_ms)) < 0)
                return r;
        if (json_object_get(lim, "memory") && (r = limit_size(c, lim, "memory", &l->memory)) < 0)
                return r;
        if (json_object_get(lim, "disk") && (r = limit_size(c, lim, "disk", &l->disk)) < 0)
                return r;
        if (json_object_get(lim, "pids") &&
            (r = limit_int(c, lim, "pids", MANIFEST_MAX_PIDS, &l->pids)) < 0)
                return r;
        if (json_object_get(lim, "cpu") &&
            (r = limit_int(c, lim, "cpu", MANIFEST_MAX_TIMEOUT_S, &l->cpu_s)) < 0)
                return r;
        return 0;
}

/* ---- top level ------------------------------------------------------------------------- */

static int parse_version(const struct vctx *c, const json_t *top)
{
        int r = require(c, top, "version", "");
        if (r < 0)
                return r;
        const json_t *v = json_object_get(top, "version");
        if (!json_is_integer(v))
                return fail(c, at_value(c, top, "version", 0), "version", BRIDLE_E_INVALID,
                            "expected the integer 1, got %s", bridle__json_type_name(v));
        if (json_integer_value(v) != 1)
                return fail(c, at_value(c, top, "version", 0), "version", BRIDLE_E_INVALID,
                            "unsupported version %lld (expected 1)",
                            (long long)json_integer_value(v));
        return 0;
}

static int parse_network(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "network");
        char q[96];
        int r = want(c, top, "network", "", JSON_STRING, "a string");
        if (r < 0 || !v)
                return r;
        const char *s = json_string_value(v);
        if (strcmp(s, "none") == 0 && json_string_length(v) == 4)
                c->m->net = BRIDLE_NET_NONE;
        else if (strcmp(s, "loopback") == 0 && json_string_length(v) == 8)
                c->m->net = BRIDLE_NET_LOOPBACK;
        else
                return fail(c, at_value(c, top, "network", 0), "network", BRIDLE_E_INVALID,
                            "unknown network '%s' (expected none or loopback)",
                            QUOTE(q, s, json_string_length(v)));
        return 0;
}

static int parse_top(struct vctx *c)
{
        const json_t *top = bridle__doc_root(c->doc);
        int r;
        if (!json_is_object(top))
                return fail(c, at_value(c, NULL, NULL, 0), "", BRIDLE_E_INVALID,
                            "a manifest is a mapping, got %s", bridle__json_type_name(top));
        if ((r = check_keys(c, top, "", top_keys)) < 0 || (r = parse_version(c, top)) < 0 ||
            (r = want(c, top, "root", "", JSON_STRING, "a string")) < 0 ||
            (r = parse_root(c, top)) < 0 || (r = parse_entries(c, top)) < 0 ||
            (r = parse_environment(c, top)) < 0 || (r = parse_limits(c, top)) < 0 ||
            (r = parse_network(c, top)) < 0)
                return r;
        return 0;
}

int bridle_manifest_parse(const char *data, size_t len, const char *name, const char *base_dir,
                          bridle_manifest **ret, bridle_error *err)
{
        if ((!data && len) || !ret)
                return bridle__err(err, -EINVAL, "bridle_manifest_parse: invalid arguments");
        if (!name)
                name = "<manifest>";
        _cleanup_(doc_freep) bridle__doc *doc = NULL;
        _cleanup_(manifest_freep) bridle_manifest *m = NULL;
        int r = bridle__doc_load(data ? data : "", len, name, &doc, err);
        if (r < 0)
                return r;
        struct vctx c = { .doc = doc, .err = err, .base_dir = base_dir };
        m = bridle__calloc(1, sizeof(*m));
        if (!m || !(m->name = bridle__strdup(name)))
                return oom(&c);
        c.m = m;
        if ((r = parse_top(&c)) < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int bridle_manifest_load(const char *path, bridle_manifest **ret, bridle_error *err)
{
        if (!path || !ret)
                return bridle__err(err, -EINVAL, "bridle_manifest_load: invalid arguments");
        _cleanup_free_ char *data = NULL, *dir = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, MANIFEST_MAX_SIZE + 1, &data, &len);
        if (r == -EFBIG) {
                /* Not bridle__err(): it would append a strerror text to a BRIDLE_E_ code. */
                if (err) {
                        (void)snprintf(err->msg, sizeof(err->msg), "%s: larger than %zu bytes", path,
                                       MANIFEST_MAX_SIZE);
                        err->code = BRIDLE_E_LIMIT;
                }
                return BRIDLE_E_LIMIT;
        }
        if (r < 0)
                return bridle__err(err, r, "%s", path);
        const char *slash = strrchr(path, '/');
        dir = slash ? bridle__strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : bridle__strdup(".");
        if (!dir)
                return bridle__err(err, -ENOMEM, "%s", path);
        return bridle_manifest_parse(data, len, path, dir, ret, err);
}
