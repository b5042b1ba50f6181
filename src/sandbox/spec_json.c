/* SPDX-License-Identifier: MIT */
/*
 * A spec's serialisable parts as JSON, and back (format: docs/snapshot.md,
 * "The recorded spec"). Living sandboxes record what they were made from;
 * restore rebuilds a sandbox from it. Strings that are not UTF-8 (host paths,
 * file bytes) are written as {"base64": "..."}; the parser takes both forms.
 * The parser is strict: an unknown key, a wrong type or a value the spec's
 * setters refuse is BRIDLE_E_INVALID naming the key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sandbox/spec.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define SPEC_FORMAT  "bridle-spec"
#define SPEC_VERSION 1

/* ---- base64 (RFC 4648, padded) ------------------------------------------------ */

/* The 64 digits, then the padding at [64]. */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

static char *b64_encode(const unsigned char *p, size_t n)
{
        char *out = bridle__malloc((n + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                out[o++] = b64[(v >> 18) & 63];
                out[o++] = b64[(v >> 12) & 63];
                out[o++] = b64[i + 1 < n ? (v >> 6) & 63 : 64];
                out[o++] = b64[i + 2 < n ? v & 63 : 64];
        }
        out[o] = '\0';
        return out;
}

static int b64_value(char c)
{
        const char *p = c && c != '=' ? strchr(b64, c) : NULL;
        return p ? (int)(p - b64) : -1;
}

/* Strict: length a multiple of 4, padding only at the end. *ret is
 * NUL-terminated (caller frees). -EINVAL or -ENOMEM. */
static int b64_decode(const char *s, size_t n, char **ret, size_t *ret_len)
{
        if (n % 4)
                return -EINVAL;
        _cleanup_free_ char *out = bridle__malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < n; i += 4) {
                bool last = i + 4 == n;
                int pad = (s[i + 3] == '=') + (s[i + 2] == '=' && s[i + 3] == '=');
                if (pad && !last)
                        return -EINVAL;
                int v[4];
                for (int k = 0; k < 4 - pad; k++)
                        if ((v[k] = b64_value(s[i + (size_t)k])) < 0)
                                return -EINVAL;
                for (int k = 4 - pad; k < 4; k++)
                        v[k] = 0;
                uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                             (uint32_t)v[3];
                out[o++] = (char)(w >> 16);
                if (pad < 2)
                        out[o++] = (char)(w >> 8);
                if (pad < 1)
                        out[o++] = (char)w;
        }
        out[o] = '\0';
        *ret_len = o;
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- writing --------------------------------------------------------------- */

/* A JSON string, or {"base64": "..."} for bytes that are not UTF-8 or hold a
 * NUL (which JSON readers refuse by default: the snapshot metadata's does).
 * NULL: ENOMEM. */
static json_t *bytes_value(const char *p, size_t n)
{
        json_t *v = memchr(p, '\0', n) ? NULL : json_stringn(p, n);
        if (v)
                return v;
        _cleanup_free_ char *enc = b64_encode((const unsigned char *)p, n);
        return enc ? json_pack("{s:s}", "base64", enc) : NULL;
}

static json_t *str_value(const char *s)
{
        return s ? bytes_value(s, strlen(s)) : json_null();
}

/* json_object_set_new, which takes v even when it fails; v NULL is ENOMEM. */
static int put(json_t *o, const char *key, json_t *v)
{
        return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static const char *entry_type(enum spec_entry_kind k)
{
        switch (k) {
        case SPEC_FILE:
                return "file";
        case SPEC_DIR:
                return "dir";
        case SPEC_COPY:
                return "local_file";
        case SPEC_BIND:
                return "local_dir";
        }
        return "?";
}

/* A file's bytes while the budget lasts, then only its length. */
static int put_content(json_t *o, const struct spec_entry *e, size_t *budget)
{
        char mode[8];
        (void)snprintf(mode, sizeof(mode), "%04o", e->flags & 0777u);
        int r = put(o, "mode", json_string(mode));
        if (r == 0 && e->len <= *budget) {
                *budget -= e->len;
                return put(o, "content", bytes_value(e->data, e->len));
        }
        return r < 0 ? r : put(o, "length", json_integer((json_int_t)e->len));
}

static json_t *entry_json(const struct spec_entry *e, size_t *budget)
{
        json_t *o = json_pack("{s:s}", "type", entry_type(e->kind));
        int r = o ? put(o, "path", str_value(e->path)) : -ENOMEM;
        if (r == 0 && (e->kind == SPEC_BIND || e->kind == SPEC_COPY))
                r = put(o, "source", str_value(e->host));
        if (r == 0 && e->kind == SPEC_BIND)
                r = put(o, "read_only", json_boolean(e->flags & BRIDLE_BIND_RO));
        if (r == 0 && e->kind == SPEC_FILE)
                r = put_content(o, e, budget);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *entries_json(const bridle_sandbox_spec *s)
{
        json_t *a = json_array();
        size_t budget = BRIDLE__SPEC_JSON_MAX_CONTENT;
        for (size_t i = 0; a && i < s->n_entries; i++)
                if (json_array_append_new(a, entry_json(&s->entries[i], &budget)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *env_json(const bridle_sandbox_spec *s)
{
        json_t *o = json_object();
        for (size_t i = 0; o && i < s->n_env; i++) {
                const char *kv = s->env[i], *eq = strchr(kv, '=');
                json_t *v = eq ? str_value(eq + 1) : NULL;
                if (!v || json_object_setn_new(o, kv, (size_t)(eq - kv), v) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

static json_t *limits_json(const bridle_limits *l)
{
        static const char *const keys[] = {"timeout_ms", "memory", "pids", "cpu_s", "disk"};
        const uint64_t vals[] = {l->timeout_ms, l->memory, l->pids, l->cpu_s, l->disk};
        json_t *o = json_object();
        for (size_t i = 0; o && i < ELEMENTSOF(keys); i++)
                if (vals[i] && put(o, keys[i], json_integer((json_int_t)vals[i])) < 0) {
                        json_decref(o);
                        return NULL;
                }
        return o;
}

/* Path rules: {"deny_write": [globs], "deny_read": [globs]}, or NULL when none. */
static json_t *paths_json(const bridle_sandbox_spec *s)
{
        if (!s->n_protect)
                return json_null();
        json_t *o = json_pack("{s:[], s:[]}", "deny_write", "deny_read");
        for (size_t i = 0; o && i < s->n_protect; i++)
                if (json_array_append_new(json_object_get(o, s->protect[i].deny_read
                                                                     ? "deny_read"
                                                                     : "deny_write"),
                                          json_string(s->protect[i].glob)) < 0) {
                        json_decref(o);
                        o = NULL;
                }
        return o;
}

static json_t *spec_json(const bridle_sandbox_spec *s)
{
        json_t *o = json_pack("{s:s, s:i}", "format", SPEC_FORMAT, "version", SPEC_VERSION);
        int r = o ? 0 : -ENOMEM;
        if (r == 0)
                r = put(o, "root", str_value(s->root));
        if (r == 0)
                r = put(o, "cwd", str_value(s->cwd));
        if (r == 0)
                r = put(o, "workspace", str_value(s->workspace));
        if (r == 0)
                r = put(o, "entries", entries_json(s));
        if (r == 0)
                r = put(o, "environment", env_json(s));
        if (r == 0)
                r = put(o, "limits", limits_json(&s->limits));
        if (r == 0)
                r = put(o, "network",
                        json_string(s->net == BRIDLE_NET_LOOPBACK ? "loopback" : "none"));
        if (r == 0)
                r = put(o, "isolation",
                        json_string(s->isolation == BRIDLE_ISOLATION_LANDLOCK ? "landlock"
                                                                              : "namespaces"));
        if (r == 0 && s->n_protect)
                r = put(o, "paths", paths_json(s));
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int bridle__spec_to_json(const bridle_sandbox_spec *s, char **ret_json, bridle_error *err)
{
        if (!s || !ret_json)
                return bridle__err(err, -EINVAL, "no spec");
        _cleanup_(json_decrefp) json_t *o = spec_json(s);
        if (!o)
                return bridle__err(err, -ENOMEM, "spec to JSON");
        char *text = json_dumps(o, JSON_COMPACT);
        if (!text)
                return bridle__err(err, -ENOMEM, "spec to JSON");
        size_t n = strlen(text);
        if (n > BRIDLE__SPEC_JSON_MAX) {
                free(text);
                return bridle__err(err, BRIDLE_E_LIMIT,
                                   "the sandbox's spec as JSON is %zu bytes, more than %zu", n,
                                   BRIDLE__SPEC_JSON_MAX);
        }
        *ret_json = text;
        return 0;
}

/* ---- reading --------------------------------------------------------------- */

struct rd {
        bridle_sandbox_spec *s;
        unsigned flags;
        bridle_error *err;
};

__attribute__((format(printf, 3, 4))) static int bad(bridle_error *err, const char *key,
                                                     const char *fmt, ...)
{
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return bridle__err(err, BRIDLE_E_INVALID, "spec: %s: %s", key, msg);
}

/* A setter's failure, under the key it came from: BRIDLE_E_INVALID unless
 * it was memory or a cap. */
static int setter_failed(bridle_error *err, const char *key, const bridle_error *e)
{
        int code = e->code == -ENOMEM || e->code == BRIDLE_E_LIMIT ? e->code : BRIDLE_E_INVALID;
        return bridle__err(err, code, "spec: %s: %s", key, e->msg);
}

static const char *type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "list";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        case JSON_NULL:
                return "null";
        }
        return "?";
}

/* A string or {"base64": "..."} into *ret (NUL-terminated, caller frees).
 * cstring: no NUL byte inside. */
static int get_bytes(const json_t *v, const char *key, bool cstring, char **ret, size_t *ret_len,
                     bridle_error *err)
{
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        if (json_is_string(v)) {
                n = json_string_length(v);
                if (!(out = bridle__malloc(n + 1)))
                        return bridle__err(err, -ENOMEM, "spec");
                memcpy(out, json_string_value(v), n + 1);
        } else {
                const json_t *e = json_is_object(v) && json_object_size(v) == 1
                                          ? json_object_get(v, "base64")
                                          : NULL;
                if (!json_is_string(e))
                        return bad(err, key, "expected a string, got %s", type_name(v));
                int r = b64_decode(json_string_value(e), json_string_length(e), &out, &n);
                if (r == -ENOMEM)
                        return bridle__err(err, r, "spec");
                if (r < 0)
                        return bad(err, key, "bad base64");
        }
        if (cstring && strlen(out) != n)
                return bad(err, key, "contains a NUL byte");
        if (ret_len)
                *ret_len = n;
        *ret = TAKE_PTR(out);
        return 0;
}

static int get_str(const json_t *v, const char *key, char **ret, bridle_error *err)
{
        return get_bytes(v, key, true, ret, NULL, err);
}

/* Every key of o must be in keys (NULL-terminated). */
static int only_keys(const json_t *o, const char *where, const char *const *keys, bridle_error *err)
{
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)o, k, v)
        {
                bool known = false;
                for (size_t i = 0; keys[i] && !known; i++)
                        known = strcmp(k, keys[i]) == 0;
                if (!known) {
                        char key[160];
                        (void)snprintf(key, sizeof(key), "%s%s%.64s", where, *where ? "." : "", k);
                        return bad(err, key, "unknown key");
                }
        }
        return 0;
}

/* ---- entries ---- */

struct entry_in {
        const char *type;
        char key[48]; /* "entries[N]" */
        char *path, *source, *content;
        size_t len;
        bool has_content, read_only;
        unsigned mode;
};

static void entry_in_release(struct entry_in *e)
{
        free(e->path);
        free(e->source);
        free(e->content);
}

static int entry_mode(const json_t *v, struct entry_in *e, bridle_error *err)
{
        char key[64];
        (void)snprintf(key, sizeof(key), "%s.mode", e->key);
        const char *s = json_string_value(v);
        char *end = NULL;
        unsigned long m = s && *s ? strtoul(s, &end, 8) : 0;
        if (!s || !*s || *end || m > 0777 || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return bad(err, key, "expected an octal mode string such as \"0644\"");
        e->mode = (unsigned)m;
        return 0;
}

static int entry_file(const json_t *o, struct entry_in *e, bridle_error *err)
{
        static const char *const keys[] = {"type", "path", "mode", "content", "length", NULL};
        char key[64];
        int r = only_keys(o, e->key, keys, err);
        const json_t *mode = json_object_get(o, "mode"), *content = json_object_get(o, "content");
        const json_t *length = json_object_get(o, "length");
        if (r == 0 && mode)
                r = entry_mode(mode, e, err);
        (void)snprintf(key, sizeof(key), "%s.content", e->key);
        if (r == 0 && content && length)
                return bad(err, key, "'content' and 'length' together");
        e->has_content = !length; /* neither: an empty file */
        if (r == 0 && content) {
                return get_bytes(content, key, false, &e->content, &e->len, err);
        }
        (void)snprintf(key, sizeof(key), "%s.length", e->key);
        if (r == 0 && length && (!json_is_integer(length) || json_integer_value(length) < 0))
                return bad(err, key, "expected a length in bytes");
        return r;
}

static int entry_source(const json_t *o, struct entry_in *e, bridle_error *err)
{
        static const char *const copy_keys[] = {"type", "path", "source", NULL};
        static const char *const bind_keys[] = {"type", "path", "source", "read_only", NULL};
        bool bind = strcmp(e->type, "local_dir") == 0;
        char key[64];
        int r = only_keys(o, e->key, bind ? bind_keys : copy_keys, err);
        const json_t *src = json_object_get(o, "source"), *ro = json_object_get(o, "read_only");
        (void)snprintf(key, sizeof(key), "%s.source", e->key);
        if (r == 0 && !src)
                return bad(err, key, "missing");
        if (r == 0)
                r = get_str(src, key, &e->source, err);
        (void)snprintf(key, sizeof(key), "%s.read_only", e->key);
        if (r == 0 && ro && !json_is_boolean(ro))
                return bad(err, key, "expected true or false, got %s", type_name(ro));
        e->read_only = json_is_true(ro);
        return r;
}

static int entry_read(const json_t *o, struct entry_in *e, bridle_error *err)
{
        char key[64];
        if (!json_is_object(o))
                return bad(err, e->key, "expected an object, got %s", type_name(o));
        const json_t *type = json_object_get(o, "type"), *path = json_object_get(o, "path");
        (void)snprintf(key, sizeof(key), "%s.type", e->key);
        if (!json_is_string(type))
                return bad(err, key, type ? "expected a string" : "missing");
        e->type = json_string_value(type);
        (void)snprintf(key, sizeof(key), "%s.path", e->key);
        if (!path)
                return bad(err, key, "missing");
        int r = get_str(path, key, &e->path, err);
        if (r < 0)
                return r;
        if (strcmp(e->type, "file") == 0)
                return entry_file(o, e, err);
        if (strcmp(e->type, "dir") == 0) {
                static const char *const keys[] = {"type", "path", NULL};
                return only_keys(o, e->key, keys, err);
        }
        if (strcmp(e->type, "local_file") == 0 || strcmp(e->type, "local_dir") == 0)
                return entry_source(o, e, err);
        (void)snprintf(key, sizeof(key), "%s.type", e->key);
        return bad(err, key, "unknown type '%.40s' (expected file, dir, local_file or local_dir)",
                   e->type);
}

static int entry_add(const struct rd *c, const struct entry_in *e)
{
        bool content = strcmp(e->type, "local_dir") != 0;
        if (content && (c->flags & BRIDLE__SPEC_JSON_RESTORE))
                return 0; /* its result is in the layers */
        bridle_error se;
        bridle_error_clear(&se);
        int r;
        if (strcmp(e->type, "file") == 0) {
                if (!e->has_content)
                        return bad(c->err, e->key,
                                   "the file's content was not recorded (only its length)");
                r = bridle_sandbox_spec_add_file(c->s, e->path, e->content, e->len, e->mode, &se);
        } else if (strcmp(e->type, "dir") == 0)
                r = bridle_sandbox_spec_add_dir(c->s, e->path, &se);
        else if (strcmp(e->type, "local_file") == 0)
                r = bridle_sandbox_spec_add_copy(c->s, e->path, e->source, &se);
        else
                r = bridle_sandbox_spec_add_bind(c->s, e->source, e->path,
                                                 e->read_only ? BRIDLE_BIND_RO : 0, &se);
        return r < 0 ? setter_failed(c->err, e->key, &se) : 0;
}

static int read_entries(const struct rd *c, const json_t *a)
{
        if (!json_is_array(a))
                return bad(c->err, "entries", "expected a list, got %s", type_name(a));
        if (json_array_size(a) > SPEC_MAX_ENTRIES)
                return bridle__err(c->err, BRIDLE_E_LIMIT, "spec: entries: more than %d",
                                   SPEC_MAX_ENTRIES);
        for (size_t i = 0; i < json_array_size(a); i++) {
                struct entry_in e = {.type = NULL};
                (void)snprintf(e.key, sizeof(e.key), "entries[%zu]", i);
                int r = entry_read(json_array_get(a, i), &e, c->err);
                if (r == 0)
                        r = entry_add(c, &e);
                entry_in_release(&e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the rest ---- */

static int read_env(const struct rd *c, const json_t *o)
{
        if (!json_is_object(o))
                return bad(c->err, "environment", "expected an object, got %s", type_name(o));
        const char *name;
        const json_t *v;
        json_object_foreach((json_t *)o, name, v)
        {
                char key[96];
                (void)snprintf(key, sizeof(key), "environment.%.64s", name);
                _cleanup_free_ char *value = NULL;
                int r = get_str(v, key, &value, c->err);
                if (r < 0)
                        return r;
                bridle_error se;
                bridle_error_clear(&se);
                if (bridle_sandbox_spec_set_env(c->s, name, value, &se) < 0)
                        return setter_failed(c->err, key, &se);
        }
        return 0;
}

static int read_paths(const struct rd *c, const json_t *o)
{
        static const char *const keys[] = {"deny_write", "deny_read", NULL};
        if (!json_is_object(o))
                return bad(c->err, "paths", "expected an object, got %s", type_name(o));
        int r = only_keys(o, "paths", keys, c->err);
        for (size_t k = 0; r == 0 && keys[k]; k++) {
                char key[64];
                (void)snprintf(key, sizeof(key), "paths.%s", keys[k]);
                const json_t *a = json_object_get(o, keys[k]), *v;
                size_t i;
                if (a && !json_is_array(a))
                        return bad(c->err, key, "expected an array, got %s", type_name(a));
                json_array_foreach((json_t *)a, i, v)
                {
                        if (!json_is_string(v))
                                return bad(c->err, key, "expected a string, got %s", type_name(v));
                        bridle_error se;
                        bridle_error_clear(&se);
                        if (bridle_sandbox_spec_protect(c->s, json_string_value(v), k == 1, &se) <
                            0)
                                return setter_failed(c->err, key, &se);
                }
        }
        return r;
}

static int read_limits(const struct rd *c, const json_t *o)
{
        static const char *const keys[] = {"timeout_ms", "memory", "pids", "cpu_s", "disk", NULL};
        if (!json_is_object(o))
                return bad(c->err, "limits", "expected an object, got %s", type_name(o));
        int r = only_keys(o, "limits", keys, c->err);
        uint64_t v[5] = {0};
        for (size_t i = 0; r == 0 && keys[i]; i++) {
                const json_t *x = json_object_get(o, keys[i]);
                char key[32];
                (void)snprintf(key, sizeof(key), "limits.%s", keys[i]);
                if (x && !json_is_integer(x))
                        return bad(c->err, key, "expected an integer, got %s", type_name(x));
                if (x && json_integer_value(x) <= 0)
                        return bad(c->err, key, "must be greater than 0");
                v[i] = x ? (uint64_t)json_integer_value(x) : 0;
        }
        bridle_limits l = {
                .timeout_ms = v[0], .memory = v[1], .pids = v[2], .cpu_s = v[3], .disk = v[4]};
        if (r == 0)
                bridle_sandbox_spec_set_limits(c->s, &l);
        return r;
}

/* One of two words: 0 for the first, 1 for the second. */
static int read_choice(const struct rd *c, const json_t *v, const char *key, const char *a,
                       const char *b)
{
        const char *s = json_string_value(v);
        if (s && strcmp(s, a) == 0)
                return 0;
        if (s && strcmp(s, b) == 0)
                return 1;
        if (!s)
                return bad(c->err, key, "expected a string, got %s", type_name(v));
        return bad(c->err, key, "unknown value '%.40s' (expected %s or %s)", s, a, b);
}

/* root, cwd, workspace: a string (or null for the last two). */
static int read_place(const struct rd *c, const json_t *o, const char *key)
{
        const json_t *v = json_object_get(o, key);
        if (!v || (json_is_null(v) && strcmp(key, "root") != 0))
                return 0;
        _cleanup_free_ char *s = NULL;
        int r = get_str(v, key, &s, c->err);
        if (r < 0)
                return r;
        bridle_error se;
        bridle_error_clear(&se);
        if (strcmp(key, "root") == 0)
                r = bridle_sandbox_spec_set_root(c->s, s, &se);
        else if (strcmp(key, "cwd") == 0)
                r = bridle_sandbox_spec_set_cwd(c->s, s, &se);
        else if (!(c->flags & BRIDLE__SPEC_JSON_RESTORE))
                r = bridle_sandbox_spec_set_workspace(c->s, s, &se);
        return r < 0 ? setter_failed(c->err, key, &se) : 0;
}

static int read_header(const struct rd *c, const json_t *o)
{
        static const char *const keys[] = {"format",    "version",   "root",        "cwd",
                                           "workspace", "entries",   "environment", "limits",
                                           "network",   "isolation", "paths",       NULL};
        int r = only_keys(o, "", keys, c->err);
        if (r < 0)
                return r;
        const json_t *fmt = json_object_get(o, "format"), *ver = json_object_get(o, "version");
        if (!json_is_string(fmt) || strcmp(json_string_value(fmt), SPEC_FORMAT) != 0)
                return bad(c->err, "format", "expected \"%s\"", SPEC_FORMAT);
        if (!json_is_integer(ver))
                return bad(c->err, "version", ver ? "expected an integer" : "missing");
        if (json_integer_value(ver) != SPEC_VERSION)
                return bad(c->err, "version", "unsupported version %lld (expected %d)",
                           (long long)json_integer_value(ver), SPEC_VERSION);
        return 0;
}

static int read_spec(const struct rd *c, const json_t *o)
{
        int r = read_header(c, o);
        static const char *const places[] = {"root", "cwd", "workspace"};
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(places); i++)
                r = read_place(c, o, places[i]);
        const json_t *v;
        if (r == 0 && (v = json_object_get(o, "entries")))
                r = read_entries(c, v);
        if (r == 0 && (v = json_object_get(o, "environment")))
                r = read_env(c, v);
        if (r == 0 && (v = json_object_get(o, "limits")))
                r = read_limits(c, v);
        if (r == 0 && (v = json_object_get(o, "network"))) {
                r = read_choice(c, v, "network", "none", "loopback");
                if (r >= 0)
                        bridle_sandbox_spec_set_net(c->s,
                                                    r ? BRIDLE_NET_LOOPBACK : BRIDLE_NET_NONE);
        }
        if (r >= 0 && (v = json_object_get(o, "paths")))
                r = read_paths(c, v);
        if (r >= 0 && (v = json_object_get(o, "isolation"))) {
                r = read_choice(c, v, "isolation", "namespaces", "landlock");
                if (r >= 0)
                        bridle_sandbox_spec_set_isolation(c->s, r ? BRIDLE_ISOLATION_LANDLOCK
                                                                  : BRIDLE_ISOLATION_NAMESPACES);
        }
        return r < 0 ? r : 0;
}

int bridle__spec_from_json(const char *json, size_t len, unsigned flags, bridle_sandbox_spec **ret,
                           bridle_error *err)
{
        if (!json || !ret)
                return bridle__err(err, -EINVAL, "no spec");
        if (len > BRIDLE__SPEC_JSON_MAX)
                return bridle__err(err, BRIDLE_E_LIMIT, "spec: larger than %zu bytes",
                                   BRIDLE__SPEC_JSON_MAX);
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *o =
                json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!o)
                return bridle__err(err, BRIDLE_E_INVALID, "spec: line %d, column %d: %s", jerr.line,
                                   jerr.column, jerr.text);
        if (!json_is_object(o))
                return bridle__err(err, BRIDLE_E_INVALID, "spec: expected an object, got %s",
                                   type_name(o));
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        if (!s)
                return bridle__err(err, -ENOMEM, "spec");
        struct rd c = {.s = s, .flags = flags, .err = err};
        int r = read_spec(&c, o);
        if (r < 0) {
                bridle_sandbox_spec_free(s);
                return r;
        }
        *ret = s;
        return 0;
}
