/* SPDX-License-Identifier: MIT */
/*
 * A task's inputs: the manifest its runs start from (the suite's `inputs:`
 * written as a manifest file, folders expanded into copies of their files so
 * a run never changes the host), and what the must_not_modify paths held
 * before the run, read on the host from the same inputs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/eval.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

#define WALK_MAX_DEPTH 32

/* Called for each regular file under a host folder: rel is its path below it. */
typedef int (*walk_fn)(void *ud, const char *host, const char *rel);

struct walk {
        walk_fn fn;
        void *ud;
        size_t count;
};

static int walk_dir(struct walk *w, const char *host, const char *rel, unsigned depth)
{
        if (depth > WALK_MAX_DEPTH)
                return -ELOOP;
        DIR *d = opendir(host);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char h[PATH_MAX], rl[PATH_MAX];
                int n1 = snprintf(h, sizeof(h), "%s/%s", host, de->d_name);
                int n2 = snprintf(rl, sizeof(rl), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
                if (n1 < 0 || (size_t)n1 >= sizeof(h) || n2 < 0 || (size_t)n2 >= sizeof(rl)) {
                        r = -ENAMETOOLONG;
                        break;
                }
                struct stat st;
                if (lstat(h, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        r = walk_dir(w, h, rl, depth + 1);
                } else if (S_ISREG(st.st_mode)) {
                        if (++w->count > BRIDLE__EVAL_MAX_INPUT_FILES)
                                r = BRIDLE_E_LIMIT;
                        else
                                r = w->fn(w->ud, h, rl);
                }
        }
        (void)closedir(d);
        return r;
}

/* ---- the manifest ------------------------------------------------------ */

struct expand {
        json_t *entries;
        const char *path; /* the entry's path in the workspace */
};

static int expand_one(void *ud, const char *host, const char *rel)
{
        struct expand *e = ud;
        char p[PATH_MAX];
        int n = snprintf(p, sizeof(p), "%s/%s", e->path, rel);
        if (n < 0 || (size_t)n >= sizeof(p))
                return -ENAMETOOLONG;
        json_t *m = json_pack("{s:s,s:s,s:s}", "type", "local_file", "path", p, "source", host);
        if (!m || json_array_append_new(e->entries, m) < 0)
                return -ENOMEM;
        return 0;
}

static int expand_inputs(const json_t *inputs, json_t *out, bridle_error *err)
{
        size_t i;
        const json_t *e;
        json_array_foreach(inputs, i, e) {
                const char *type = json_string_value(json_object_get(e, "type"));
                if (type && !strcmp(type, "local_dir") && !json_is_true(json_object_get(e, "read_only"))) {
                        /* A copy: every file of the folder (and the folder itself, so an empty one exists). */
                        const char *path = json_string_value(json_object_get(e, "path"));
                        const char *src = json_string_value(json_object_get(e, "source"));
                        json_t *dir = json_pack("{s:s,s:s}", "type", "dir", "path", path);
                        if (!dir || json_array_append_new(out, dir) < 0)
                                return bridle__err(err, -ENOMEM, "inputs");
                        struct expand x = {.entries = out, .path = path};
                        struct walk w = {.fn = expand_one, .ud = &x};
                        int r = walk_dir(&w, src, "", 0);
                        if (r < 0)
                                return bridle__err(err, r, "input '%s' (from '%s')", path, src);
                        continue;
                }
                if (json_array_append_new(out, json_deep_copy(e)) < 0)
                        return bridle__err(err, -ENOMEM, "inputs");
        }
        return 0;
}

int bridle__eval_manifest_write(const bridle_eval_suite *s, const eval_task *t, size_t index, const char *dir,
                                char **ret_path, bridle_error *err)
{
        (void)s;
        if (t->manifest) {
                *ret_path = bridle__strdup(t->manifest);
                return *ret_path ? 0 : bridle__err(err, -ENOMEM, "manifest");
        }
        if (!t->inputs) {
                *ret_path = NULL;
                return 0;
        }
        _cleanup_evjson_ json_t *entries = json_array();
        if (!entries)
                return bridle__err(err, -ENOMEM, "manifest");
        int r = expand_inputs(t->inputs, entries, err);
        if (r < 0)
                return r;
        _cleanup_evjson_ json_t *m = json_pack("{s:i,s:O,s:s}", "version", 1, "entries", entries, "network", "none");
        if (!m)
                return bridle__err(err, -ENOMEM, "manifest");
        char path[PATH_MAX];
        int n = snprintf(path, sizeof(path), "%s/task-%zu.json", dir, index);
        if (n < 0 || (size_t)n >= sizeof(path))
                return bridle__err(err, -ENAMETOOLONG, "'%s'", dir);
        if (json_dump_file(m, path, JSON_INDENT(1)) < 0)
                return bridle__err(err, -EIO, "writing '%s'", path);
        *ret_path = bridle__strdup(path);
        return *ret_path ? 0 : bridle__err(err, -ENOMEM, "manifest");
}

/* ---- before ------------------------------------------------------------ */

struct blist {
        eval_before *v;
        size_t n, cap;
};

static int blist_add(struct blist *b, const char *path, const char *host, const char *content)
{
        for (size_t i = 0; i < b->n; i++)
                if (!strcmp(b->v[i].path, path))
                        return 0;
        if (b->n == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 8;
                eval_before *nv = bridle__realloc(b->v, cap * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                b->v = nv;
                b->cap = cap;
        }
        eval_before *e = &b->v[b->n];
        *e = (eval_before){.path = bridle__strdup(path)};
        if (!e->path)
                return -ENOMEM;
        b->n++;
        if (content) {
                e->exists = true;
                e->len = strlen(content);
                e->data = bridle__strdup(content);
                return e->data ? 0 : -ENOMEM;
        }
        if (host) {
                int r = bridle__read_file(AT_FDCWD, host, BRIDLE__EVAL_MAX_FILE, &e->data, &e->len);
                e->exists = r >= 0;
                return r == -ENOMEM ? r : 0;
        }
        return 0;
}

struct bdir {
        struct blist *b;
        const char *prefix;
};

static int bdir_one(void *ud, const char *host, const char *rel)
{
        struct bdir *d = ud;
        char p[PATH_MAX];
        int n = snprintf(p, sizeof(p), "%s%s%s", d->prefix, d->prefix[0] ? "/" : "", rel);
        if (n < 0 || (size_t)n >= sizeof(p))
                return -ENAMETOOLONG;
        return blist_add(d->b, p, host, NULL);
}

/* A host path: every file under it (a folder) or itself, as workspace path ws. */
static int add_host(struct blist *b, const char *ws, const char *host)
{
        struct stat st;
        if (stat(host, &st) < 0)
                return 0;
        if (!S_ISDIR(st.st_mode))
                return blist_add(b, ws, host, NULL);
        struct bdir d = {.b = b, .prefix = ws};
        struct walk w = {.fn = bdir_one, .ud = &d};
        return walk_dir(&w, host, "", 0);
}

/* Is a "under" b (or equal): rest gets what follows. */
static bool under(const char *a, const char *b, const char **rest)
{
        size_t n = strlen(b);
        if (strncmp(a, b, n) != 0 || (a[n] && a[n] != '/'))
                return false;
        *rest = a[n] ? a + n + 1 : "";
        return true;
}

static void norm(const char *in, char *out, size_t size)
{
        while (in[0] == '.' && in[1] == '/')
                in += 2;
        if (!strncmp(in, "/workspace/", 11))
                in += 11;
        while (in[0] == '/')
                in++;
        (void)snprintf(out, size, "%s", in);
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '/')
                out[--n] = '\0';
}

/* One manifest entry against must_not_modify path p. */
static int before_entry(struct blist *b, const json_t *e, const char *p, const char *base)
{
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *src = json_string_value(json_object_get(e, "source"));
        char ep[PATH_MAX], host[PATH_MAX];
        norm(json_string_value(json_object_get(e, "path")) ? json_string_value(json_object_get(e, "path")) : "", ep,
             sizeof(ep));
        if (!type || !ep[0])
                return 0;
        if (src)
                (void)snprintf(host, sizeof(host), "%s%s%s", src[0] == '/' ? "" : base, src[0] == '/' ? "" : "/", src);
        const char *rest;
        if (!strcmp(type, "file") && (under(ep, p, &rest) || !p[0]))
                return blist_add(b, ep, NULL,
                                 json_string_value(json_object_get(e, "content"))
                                         ? json_string_value(json_object_get(e, "content"))
                                         : "");
        if (!src)
                return 0;
        if (!strcmp(type, "local_file") && (under(ep, p, &rest) || !p[0]))
                return blist_add(b, ep, host, NULL);
        if (strcmp(type, "local_dir") != 0)
                return 0;
        if (under(ep, p, &rest) || !p[0])
                return add_host(b, ep, host);
        if (under(p, ep, &rest)) {
                char h[PATH_MAX];
                int n = snprintf(h, sizeof(h), "%s/%s", host, rest);
                return n < 0 || (size_t)n >= sizeof(h) ? -ENAMETOOLONG : add_host(b, p, h);
        }
        return 0;
}

static int load_manifest_entries(const eval_task *t, json_t **ret, char *base, size_t base_size, bridle_error *err)
{
        if (t->inputs) {
                *ret = json_incref(t->inputs);
                base[0] = '\0';
                return 0;
        }
        *ret = NULL;
        if (!t->manifest)
                return 0;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, t->manifest, BRIDLE__DOC_MAX_SIZE, &data, &len);
        if (r < 0)
                return bridle__err(err, r, "manifest '%s'", t->manifest);
        bridle__doc *doc = NULL;
        if ((r = bridle__doc_load(data, len, t->manifest, &doc, err)) < 0)
                return r;
        json_t *entries = json_object_get(bridle__doc_root(doc), "entries");
        *ret = json_is_array(entries) ? json_incref(entries) : json_array();
        bridle__doc_free(doc);
        (void)snprintf(base, base_size, "%s", t->manifest);
        char *slash = strrchr(base, '/');
        if (slash)
                *slash = '\0';
        else
                (void)snprintf(base, base_size, ".");
        return *ret ? 0 : bridle__err(err, -ENOMEM, "manifest");
}

int bridle__eval_before(const eval_task *t, eval_before **ret, size_t *ret_n, bridle_error *err)
{
        *ret = NULL;
        *ret_n = 0;
        if (t->n_must_not_modify == 0)
                return 0;
        _cleanup_evjson_ json_t *entries = NULL;
        char base[PATH_MAX];
        int r = load_manifest_entries(t, &entries, base, sizeof(base), err);
        if (r < 0)
                return r;
        struct blist b = {0};
        for (size_t i = 0; r >= 0 && i < t->n_must_not_modify; i++) {
                char p[PATH_MAX];
                norm(t->must_not_modify[i], p, sizeof(p));
                size_t n0 = b.n, k;
                const json_t *e;
                json_array_foreach(entries, k, e) {
                        if ((r = before_entry(&b, e, p, base)) < 0)
                                break;
                }
                /* Named by no input: it must not come to exist. */
                if (r >= 0 && b.n == n0 && p[0])
                        r = blist_add(&b, p, NULL, NULL);
        }
        if (r < 0) {
                bridle__eval_before_free(b.v, b.n);
                return bridle__err(err, r, "the inputs of must_not_modify");
        }
        *ret = b.v;
        *ret_n = b.n;
        return 0;
}

void bridle__eval_before_free(eval_before *b, size_t n)
{
        for (size_t i = 0; b && i < n; i++) {
                free(b[i].path);
                free(b[i].data);
        }
        free(b);
}
