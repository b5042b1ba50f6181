/* SPDX-License-Identifier: MIT */
/* bridle_sandbox_spec: what a sandbox holds. */
#include "sandbox/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

bridle_sandbox_spec *bridle_sandbox_spec_new(void)
{
        bridle_sandbox_spec *s = bridle__calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->root = bridle__strdup("/workspace");
        if (!s->root) {
                free(s);
                return NULL;
        }
        return s;
}

bridle_sandbox_spec *bridle_sandbox_spec_free(bridle_sandbox_spec *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++) {
                free(s->entries[i].host);
                free(s->entries[i].path);
                free(s->entries[i].data);
        }
        free(s->entries);
        for (size_t i = 0; i < s->n_env; i++)
                free(s->env[i]);
        free(s->env);
        free(s->workspace);
        free(s->root);
        free(s->cwd);
        free(s->egress_dir);
        for (size_t i = 0; i < s->n_protect; i++)
                free(s->protect[i].glob);
        free(s->protect);
        free(s);
        return NULL;
}

/* A sandbox path: no NUL (by construction), no ".." segment, bounded length. */
static int check_path(const char *p, bool need_abs, const char *what, bridle_error *err)
{
        if (!p || !*p)
                return bridle__err(err, -EINVAL, "%s: empty path", what);
        if (strlen(p) >= 1024)
                return bridle__err(err, -ENAMETOOLONG, "%s: path too long", what);
        if (need_abs && p[0] != '/')
                return bridle__err(err, -EINVAL, "%s: '%s' is not an absolute path", what, p);
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                size_t n = strcspn(s, "/");
                if (n == 2 && s[0] == '.' && s[1] == '.')
                        return bridle__err(err, -EINVAL, "%s: '%s' contains '..'", what, p);
                s += n;
        }
        return 0;
}

static int set_str(char **slot, const char *v)
{
        char *n = NULL;
        if (v && !(n = bridle__strdup(v)))
                return -ENOMEM;
        free(*slot);
        *slot = n;
        return 0;
}

int bridle_sandbox_spec_set_workspace(bridle_sandbox_spec *s, const char *dir, bridle_error *err)
{
        if (!s)
                return bridle__err(err, -EINVAL, "no spec");
        if (dir && !*dir)
                return bridle__err(err, -EINVAL, "workspace: empty path");
        if (set_str(&s->workspace, dir) < 0)
                return bridle__err(err, -ENOMEM, "workspace");
        return 0;
}

int bridle_sandbox_spec_set_root(bridle_sandbox_spec *s, const char *path, bridle_error *err)
{
        if (!s)
                return bridle__err(err, -EINVAL, "no spec");
        int r = check_path(path, true, "root", err);
        if (r < 0)
                return r;
        if (strcmp(path, "/") == 0)
                return bridle__err(err, -EINVAL, "root: '/' cannot be the workspace");
        if (set_str(&s->root, path) < 0)
                return bridle__err(err, -ENOMEM, "root");
        return 0;
}

int bridle_sandbox_spec_set_cwd(bridle_sandbox_spec *s, const char *path, bridle_error *err)
{
        if (!s)
                return bridle__err(err, -EINVAL, "no spec");
        int r = check_path(path, false, "cwd", err);
        if (r < 0)
                return r;
        if (set_str(&s->cwd, path) < 0)
                return bridle__err(err, -ENOMEM, "cwd");
        return 0;
}

static struct spec_entry *add_entry(bridle_sandbox_spec *s, bridle_error *err)
{
        if (s->n_entries >= SPEC_MAX_ENTRIES) {
                bridle__err(err, BRIDLE_E_LIMIT, "more than %d entries", SPEC_MAX_ENTRIES);
                return NULL;
        }
        if (s->n_entries == s->cap_entries) {
                size_t cap = s->cap_entries ? s->cap_entries * 2 : 16;
                struct spec_entry *e = bridle__realloc(s->entries, cap * sizeof(*e));
                if (!e) {
                        bridle__err(err, -ENOMEM, "spec entry");
                        return NULL;
                }
                s->entries = e;
                s->cap_entries = cap;
        }
        struct spec_entry *e = &s->entries[s->n_entries];
        memset(e, 0, sizeof(*e));
        return e;
}

static int push_entry(bridle_sandbox_spec *s, enum spec_entry_kind kind, const char *host,
                      const char *path, unsigned flags, const void *data, size_t len,
                      bridle_error *err)
{
        struct spec_entry *e = add_entry(s, err);
        if (!e)
                return err ? err->code : -ENOMEM;
        _cleanup_free_ char *h = host ? bridle__strdup(host) : NULL;
        _cleanup_free_ char *p = bridle__strdup(path);
        _cleanup_free_ char *d = data ? bridle__malloc(len + 1) : NULL;
        if ((host && !h) || !p || (data && !d))
                return bridle__err(err, -ENOMEM, "spec entry");
        if (d) {
                memcpy(d, data, len);
                d[len] = '\0';
        }
        e->kind = kind;
        e->host = TAKE_PTR(h);
        e->path = TAKE_PTR(p);
        e->data = TAKE_PTR(d);
        e->len = len;
        e->flags = flags;
        s->n_entries++;
        return 0;
}

int bridle_sandbox_spec_add_bind(bridle_sandbox_spec *s, const char *host, const char *path,
                                 unsigned flags, bridle_error *err)
{
        if (!s || !host || !*host)
                return bridle__err(err, -EINVAL, "bind: no host path");
        int r = check_path(path, true, "bind", err);
        if (r < 0)
                return r;
        if (strcmp(path, "/") == 0)
                return bridle__err(err, -EINVAL, "bind: cannot bind over '/'");
        return push_entry(s, SPEC_BIND, host, path, flags & BRIDLE_BIND_RO, NULL, 0, err);
}

int bridle_sandbox_spec_add_file(bridle_sandbox_spec *s, const char *path, const void *data,
                                 size_t len, unsigned mode, bridle_error *err)
{
        if (!s || (!data && len))
                return bridle__err(err, -EINVAL, "file: bad arguments");
        if (mode & ~0777u)
                return bridle__err(err, -EINVAL, "file: mode %04o has bits beyond 0777", mode);
        int r = check_path(path, false, "file", err);
        if (r < 0)
                return r;
        return push_entry(s, SPEC_FILE, NULL, path, mode ? mode : 0644, data ? data : "", len, err);
}

int bridle_sandbox_spec_add_dir(bridle_sandbox_spec *s, const char *path, bridle_error *err)
{
        if (!s)
                return bridle__err(err, -EINVAL, "no spec");
        int r = check_path(path, false, "dir", err);
        if (r < 0)
                return r;
        return push_entry(s, SPEC_DIR, NULL, path, 0, NULL, 0, err);
}

int bridle_sandbox_spec_add_copy(bridle_sandbox_spec *s, const char *path, const char *host_file,
                                 bridle_error *err)
{
        if (!s || !host_file || !*host_file)
                return bridle__err(err, -EINVAL, "copy: no host file");
        int r = check_path(path, false, "copy", err);
        if (r < 0)
                return r;
        return push_entry(s, SPEC_COPY, host_file, path, 0, NULL, 0, err);
}

static bool env_name_ok(const char *n)
{
        if (!*n || isdigit((unsigned char)*n))
                return false;
        for (; *n; n++)
                if (!isalnum((unsigned char)*n) && *n != '_')
                        return false;
        return true;
}

int bridle_sandbox_spec_set_env(bridle_sandbox_spec *s, const char *name, const char *value,
                                bridle_error *err)
{
        if (!s || !name || !value)
                return bridle__err(err, -EINVAL, "env: bad arguments");
        if (!env_name_ok(name))
                return bridle__err(err, -EINVAL, "env: '%s' is not a valid variable name", name);
        _cleanup_free_ char *kv = NULL;
        size_t nl = strlen(name), vl = strlen(value);
        if (nl + vl > 128 * 1024)
                return bridle__err(err, -E2BIG, "env: '%s' is too long", name);
        kv = bridle__malloc(nl + vl + 2);
        if (!kv)
                return bridle__err(err, -ENOMEM, "env");
        memcpy(kv, name, nl);
        kv[nl] = '=';
        memcpy(kv + nl + 1, value, vl + 1);
        for (size_t i = 0; i < s->n_env; i++)
                if (strncmp(s->env[i], kv, nl + 1) == 0) {
                        free(s->env[i]);
                        s->env[i] = TAKE_PTR(kv);
                        return 0;
                }
        if (s->n_env >= SPEC_MAX_ENV)
                return bridle__err(err, BRIDLE_E_LIMIT, "env: more than %d variables", SPEC_MAX_ENV);
        char **e = bridle__realloc(s->env, (s->n_env + 1) * sizeof(*e));
        if (!e)
                return bridle__err(err, -ENOMEM, "env");
        s->env = e;
        s->env[s->n_env++] = TAKE_PTR(kv);
        return 0;
}

void bridle_sandbox_spec_set_net(bridle_sandbox_spec *s, enum bridle_net net)
{
        if (s)
                s->net = net;
}

int bridle_sandbox_spec_set_egress(bridle_sandbox_spec *s, const char *dir, bridle_error *err)
{
        if (!s)
                return bridle__err(err, -EINVAL, "no spec");
        if (dir && dir[0] != '/')
                return bridle__err(err, -EINVAL, "egress: '%s' is not an absolute path", dir);
        if (dir && strlen(dir) >= 1024)
                return bridle__err(err, -ENAMETOOLONG, "egress: path too long");
        if (set_str(&s->egress_dir, dir) < 0)
                return bridle__err(err, -ENOMEM, "egress");
        if (dir)
                s->net = BRIDLE_NET_ALLOWLIST;
        else if (s->net == BRIDLE_NET_ALLOWLIST)
                s->net = BRIDLE_NET_NONE;
        return 0;
}

int bridle_sandbox_spec_protect(bridle_sandbox_spec *s, const char *glob, bool deny_read,
                                bridle_error *err)
{
        if (!s || !glob)
                return bridle__err(err, -EINVAL, "no spec or glob");
        while (glob[0] == '.' && glob[1] == '/')
                glob += 2;
        size_t len = strlen(glob);
        if (!len || glob[0] == '/' || len >= 1024)
                return bridle__err(err, -EINVAL,
                                   "path rule '%.80s': a non-empty glob relative to the workspace",
                                   glob);
        for (const char *c = glob; *c;) {
                size_t n = strcspn(c, "/");
                if ((n == 2 && c[0] == '.' && c[1] == '.') || (n == 1 && c[0] == '.') || n == 0)
                        return bridle__err(err, -EINVAL,
                                           "path rule '%.80s': empty, '.' or '..' component", glob);
                if (n >= 256)
                        return bridle__err(err, -ENAMETOOLONG,
                                           "path rule '%.80s': component too long", glob);
                c += n + (c[n] == '/');
        }
        for (size_t i = 0; i < s->n_protect; i++)
                if (s->protect[i].deny_read == deny_read && strcmp(s->protect[i].glob, glob) == 0)
                        return 0;
        if (s->n_protect >= SPEC_MAX_PROTECT)
                return bridle__err(err, -E2BIG, "more than %d path rules", SPEC_MAX_PROTECT);
        struct spec_protect *v = bridle__realloc(s->protect, (s->n_protect + 1) * sizeof(*v));
        if (!v)
                return bridle__err(err, -ENOMEM, "path rule");
        s->protect = v;
        if (!(v[s->n_protect].glob = bridle__strdup(glob)))
                return bridle__err(err, -ENOMEM, "path rule");
        v[s->n_protect++].deny_read = deny_read;
        return 0;
}

void bridle_sandbox_spec_set_isolation(bridle_sandbox_spec *s, enum bridle_isolation iso)
{
        if (s)
                s->isolation = iso;
}

void bridle_sandbox_spec_set_limits(bridle_sandbox_spec *s, const bridle_limits *l)
{
        if (!s || !l)
                return;
        if (l->timeout_ms)
                s->limits.timeout_ms = l->timeout_ms;
        if (l->memory)
                s->limits.memory = l->memory;
        if (l->pids)
                s->limits.pids = l->pids;
        if (l->cpu_s)
                s->limits.cpu_s = l->cpu_s;
        if (l->disk)
                s->limits.disk = l->disk;
}

int bridle_parse_size(const char *str, uint64_t *ret, bridle_error *err)
{
        if (!str || !*str || !isdigit((unsigned char)*str))
                return bridle__err(err, BRIDLE_E_INVALID, "'%s' is not a size (e.g. 256M, 1G)",
                                   str ? str : "");
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(str, &end, 10);
        if (errno)
                return bridle__err(err, BRIDLE_E_INVALID, "'%s' is too large", str);
        unsigned shift = 0;
        switch (*end) {
        case '\0':
                break;
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default:
                return bridle__err(err, BRIDLE_E_INVALID, "'%s' is not a size (e.g. 256M, 1G)", str);
        }
        if (*end) {
                end++;
                if ((*end == 'i' && end[1] == 'B' && !end[2]) || (*end == 'B' && !end[1]))
                        end += strlen(end);
                if (*end)
                        return bridle__err(err, BRIDLE_E_INVALID, "'%s' is not a size (e.g. 256M, 1G)", str);
        }
        if (shift && v > (UINT64_MAX >> shift))
                return bridle__err(err, BRIDLE_E_INVALID, "'%s' is too large", str);
        *ret = (uint64_t)v << shift;
        return 0;
}
