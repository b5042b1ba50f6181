/* SPDX-License-Identifier: MIT */
/*
 * Guardrails: the agent file's `guardrails: {input: [...], output: [...]}`,
 * loaded with positions, written back as canonical JSON, and checked
 * (docs/guard.md).
 */
#include <errno.h>
#include <libgen.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/internal.h"
#include "tools/tools.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MAX_ARGV   64
#define MAX_REASON 400

struct guard_item {
        enum bridle__guard_type type;
        /* regex */
        char *pattern;
        char *reason; /* may be NULL */
        bool ignore_case;
        bool compiled;
        regex_t re;
        /* max_length */
        long long chars;
        /* json_schema */
        json_t *schema;
        /* command */
        struct guard_command cmd;
};

struct bridle__guards {
        struct guard_item *items[2];
        size_t n[2];
};

static const char *const type_names[] = {
        [BRIDLE__GUARD_REGEX] = "regex",
        [BRIDLE__GUARD_MAX_LENGTH] = "max_length",
        [BRIDLE__GUARD_JSON_SCHEMA] = "json_schema",
        [BRIDLE__GUARD_SECRETS] = "secrets",
        [BRIDLE__GUARD_COMMAND] = "command",
};

const char *bridle__guard_type_name(enum bridle__guard_type type)
{
        if ((unsigned)type >= ELEMENTSOF(type_names))
                return "unknown";
        return type_names[type];
}

const char *bridle__guard_kind_name(enum bridle__guard_kind kind)
{
        return kind == BRIDLE__GUARD_OUTPUT ? "output" : "input";
}

static void item_release(struct guard_item *it)
{
        free(it->pattern);
        free(it->reason);
        if (it->compiled)
                regfree(&it->re);
        json_decref(it->schema);
        for (size_t k = 0; it->cmd.argv && it->cmd.argv[k]; k++)
                free(it->cmd.argv[k]);
        free(it->cmd.argv);
}

bridle__guards *bridle__guards_free(bridle__guards *g)
{
        if (!g)
                return NULL;
        for (int k = 0; k < 2; k++) {
                for (size_t i = 0; i < g->n[k]; i++)
                        item_release(&g->items[k][i]);
                free(g->items[k]);
        }
        free(g);
        return NULL;
}

static void guards_freep(bridle__guards **g)
{
        bridle__guards_free(*g);
}

size_t bridle__guards_count(const bridle__guards *g, enum bridle__guard_kind kind)
{
        return g ? g->n[kind == BRIDLE__GUARD_OUTPUT] : 0;
}

/* ---- loading ------------------------------------------------------------- */

struct lc {
        int line, col;
};

struct lctx {
        const bridle__doc *doc;
        const char *dir; /* the doc's folder, for relative command paths; may be NULL */
        bridle_error *err;
        struct lc item; /* the item being loaded: where a missing key is reported */
};

static struct lc at_slot(const struct lctx *c, const json_t *parent, const char *key, size_t index,
                         bool want_key)
{
        const bridle__docpos *p = bridle__doc_slot(c->doc, parent, key, index);
        if (!p)
                return (struct lc){0, 0};
        return want_key ? (struct lc){p->key_line, p->key_col} : (struct lc){p->line, p->col};
}

static int fail(const struct lctx *c, struct lc where, const char *path, int code, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
static int fail(const struct lctx *c, struct lc where, const char *path, int code, const char *fmt,
                ...)
{
        char msg[300];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!c->doc)
                return bridle__err(c->err, code, "%s: %s", path, msg);
        return bridle__doc_err(c->doc, where.line, where.col, c->err, code, "%s: %s", path, msg);
}

static int oom(const struct lctx *c)
{
        return bridle__err(c->err, -ENOMEM, "loading guardrails");
}

static bool has_nul(const json_t *s)
{
        return strlen(json_string_value(s)) != json_string_length(s);
}

/* A string member; NULL value when absent and not required. */
static int get_string(const struct lctx *c, const json_t *obj, const char *key, const char *path,
                      bool required, size_t max, const char **ret)
{
        const json_t *v = json_object_get(obj, key);
        struct lc where = at_slot(c, obj, key, 0, false);
        *ret = NULL;
        if (!v) {
                if (required)
                        return fail(c, c->item, path, BRIDLE_E_INVALID, "missing key '%s'", key);
                return 0;
        }
        if (!json_is_string(v))
                return fail(c, where, path, BRIDLE_E_INVALID, "%s: expected a string, not %s", key,
                            bridle__json_type_name(v));
        if (has_nul(v) || json_string_length(v) > max || json_string_length(v) == 0)
                return fail(c, where, path, BRIDLE_E_INVALID,
                            "%s: must be 1 to %zu bytes without NUL", key, max);
        *ret = json_string_value(v);
        return 0;
}

static int get_int(const struct lctx *c, const json_t *obj, const char *key, const char *path,
                   long long lo, long long hi, long long *ret)
{
        const json_t *v = json_object_get(obj, key);
        if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
                return fail(c, at_slot(c, obj, key, 0, false), path, BRIDLE_E_INVALID,
                            "%s: expected an integer from %lld to %lld", key, lo, hi);
        *ret = json_integer_value(v);
        return 0;
}

static int check_keys(const struct lctx *c, const json_t *obj, const char *path,
                      const char *const *allowed)
{
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)obj, key, v)
        {
                bool ok = !strcmp(key, "type");
                for (size_t k = 0; allowed[k]; k++)
                        ok = ok || !strcmp(key, allowed[k]);
                if (!ok) {
                        char q[80];
                        return fail(c, at_slot(c, obj, key, 0, true), path, BRIDLE_E_INVALID,
                                    "unknown key '%s'",
                                    bridle__doc_quote(key, strlen(key), q, sizeof(q)));
                }
        }
        return 0;
}

/* glibc's ERE takes back-references (\1); they make matching exponential. */
static bool has_backref(const char *p)
{
        for (; *p; p++)
                if (p[0] == '\\' && p[1]) {
                        if (p[1] >= '1' && p[1] <= '9')
                                return true;
                        p++;
                }
        return false;
}

static int load_regex(const struct lctx *c, const json_t *obj, const char *path,
                      struct guard_item *it)
{
        static const char *const keys[] = {"pattern", "action", "reason", "ignore_case", NULL};
        const char *pattern, *action, *reason;
        int r = check_keys(c, obj, path, keys);
        if (r >= 0)
                r = get_string(c, obj, "pattern", path, true, BRIDLE__GUARD_MAX_PATTERN, &pattern);
        if (r >= 0)
                r = get_string(c, obj, "action", path, false, 16, &action);
        if (r >= 0)
                r = get_string(c, obj, "reason", path, false, MAX_REASON, &reason);
        if (r < 0)
                return r;
        if (action && strcmp(action, "deny") != 0)
                return fail(c, at_slot(c, obj, "action", 0, false), path, BRIDLE_E_INVALID,
                            "action: must be 'deny'");
        const json_t *ic = json_object_get(obj, "ignore_case");
        if (ic && !json_is_boolean(ic))
                return fail(c, at_slot(c, obj, "ignore_case", 0, false), path, BRIDLE_E_INVALID,
                            "ignore_case: expected a boolean, not %s", bridle__json_type_name(ic));
        it->ignore_case = json_is_true(ic);
        if (has_backref(pattern))
                return fail(c, at_slot(c, obj, "pattern", 0, false), path, BRIDLE_E_INVALID,
                            "pattern: back-references (\\1) are not allowed");
        int rc = regcomp(&it->re, pattern,
                         REG_EXTENDED | REG_NOSUB | (it->ignore_case ? REG_ICASE : 0));
        if (rc != 0) {
                char msg[128];
                (void)regerror(rc, &it->re, msg, sizeof(msg));
                return fail(c, at_slot(c, obj, "pattern", 0, false), path, BRIDLE_E_INVALID,
                            "pattern: not a POSIX extended regular expression: %s", msg);
        }
        it->compiled = true;
        it->pattern = bridle__strdup(pattern);
        it->reason = reason ? bridle__strdup(reason) : NULL;
        return !it->pattern || (reason && !it->reason) ? oom(c) : 0;
}

static int load_max_length(const struct lctx *c, const json_t *obj, const char *path,
                           struct guard_item *it)
{
        static const char *const keys[] = {"chars", NULL};
        int r = check_keys(c, obj, path, keys);
        if (r >= 0 && !json_object_get(obj, "chars"))
                return fail(c, c->item, path, BRIDLE_E_INVALID, "missing key 'chars'");
        return r < 0 ? r : get_int(c, obj, "chars", path, 0, (long long)1 << 40, &it->chars);
}

static int load_schema(const struct lctx *c, const json_t *obj, const char *path, bool output,
                       struct guard_item *it)
{
        static const char *const keys[] = {"schema", NULL};
        int r = check_keys(c, obj, path, keys);
        if (r < 0)
                return r;
        if (!output)
                return fail(c, at_slot(c, obj, "type", 0, false), path, BRIDLE_E_INVALID,
                            "type: json_schema is for output guardrails only");
        json_t *schema = json_object_get(obj, "schema");
        if (!json_is_object(schema))
                return fail(c, schema ? at_slot(c, obj, "schema", 0, false) : c->item, path,
                            BRIDLE_E_INVALID, "schema: expected a mapping");
        bridle_error e = {0};
        if (bridle__schema_valid(schema, &e) < 0)
                return fail(c, at_slot(c, obj, "schema", 0, false), path, BRIDLE_E_INVALID,
                            "schema: %s", e.msg);
        it->schema = json_deep_copy(schema);
        return it->schema ? 0 : oom(c);
}

static char *resolve_argv0(const struct lctx *c, const char *a0)
{
        if (a0[0] == '/' || !strchr(a0, '/') || !c->dir)
                return bridle__strdup(a0);
        size_t n = strlen(c->dir) + strlen(a0) + 2;
        char *p = bridle__malloc(n);
        if (p)
                (void)snprintf(p, n, "%s/%s", c->dir, a0);
        return p;
}

static int load_command(const struct lctx *c, const json_t *obj, const char *path,
                        struct guard_item *it)
{
        static const char *const keys[] = {"command", "timeout_ms", NULL};
        int r = check_keys(c, obj, path, keys);
        if (r < 0)
                return r;
        const json_t *argv = json_object_get(obj, "command");
        struct lc where = argv ? at_slot(c, obj, "command", 0, false) : c->item;
        if (!json_is_array(argv) || json_array_size(argv) == 0 || json_array_size(argv) > MAX_ARGV)
                return fail(c, where, path, BRIDLE_E_INVALID,
                            "command: expected a list of 1 to %d strings", MAX_ARGV);
        it->cmd.timeout_ms = BRIDLE__GUARD_DEFAULT_TIMEOUT_MS;
        if (json_object_get(obj, "timeout_ms")) {
                long long t;
                r = get_int(c, obj, "timeout_ms", path, 1, BRIDLE__GUARD_MAX_TIMEOUT_MS, &t);
                if (r < 0)
                        return r;
                it->cmd.timeout_ms = (int)t;
        }
        it->cmd.argv = bridle__calloc(json_array_size(argv) + 1, sizeof(char *));
        if (!it->cmd.argv)
                return oom(c);
        size_t i;
        const json_t *a;
        json_array_foreach(argv, i, a)
        {
                if (!json_is_string(a) || has_nul(a) || !json_string_length(a))
                        return fail(c, at_slot(c, argv, NULL, i, false), path, BRIDLE_E_INVALID,
                                    "command[%zu]: expected a non-empty string without NUL", i);
                it->cmd.argv[i] = i == 0 ? resolve_argv0(c, json_string_value(a))
                                         : bridle__strdup(json_string_value(a));
                if (!it->cmd.argv[i])
                        return oom(c);
        }
        return 0;
}

static int load_item(const struct lctx *c0, const json_t *list, size_t index, const char *path,
                     bool output, struct guard_item *it)
{
        struct lctx ic = *c0;
        const struct lctx *c = &ic;
        ic.item = at_slot(c0, list, NULL, index, false);
        const json_t *obj = json_array_get(list, index);
        if (!json_is_object(obj))
                return fail(c, at_slot(c, list, NULL, index, false), path, BRIDLE_E_INVALID,
                            "expected a mapping, not %s", bridle__json_type_name(obj));
        const json_t *type = json_object_get(obj, "type");
        if (!type)
                return fail(
                        c, at_slot(c, list, NULL, index, false), path, BRIDLE_E_INVALID,
                        "missing key 'type' (regex, max_length, json_schema, secrets, command)");
        const char *t = json_string_value(type);
        for (size_t k = 0; t && k < ELEMENTSOF(type_names); k++)
                if (!strcmp(t, type_names[k]))
                        it->type = (enum bridle__guard_type)k;
        if (!t || strcmp(t, type_names[it->type]) != 0)
                return fail(c, at_slot(c, obj, "type", 0, false), path, BRIDLE_E_INVALID,
                            "type: expected regex, max_length, json_schema, secrets or command");
        static const char *const none[] = {NULL};
        switch (it->type) {
        case BRIDLE__GUARD_REGEX:
                return load_regex(c, obj, path, it);
        case BRIDLE__GUARD_MAX_LENGTH:
                return load_max_length(c, obj, path, it);
        case BRIDLE__GUARD_JSON_SCHEMA:
                return load_schema(c, obj, path, output, it);
        case BRIDLE__GUARD_SECRETS:
                return check_keys(c, obj, path, none);
        case BRIDLE__GUARD_COMMAND:
                return load_command(c, obj, path, it);
        }
        return 0;
}

static int load_list(struct lctx *c, bridle__guards *g, const json_t *node, const char *key,
                     const char *prefix)
{
        bool output = !strcmp(key, "output");
        const json_t *list = json_object_get(node, key);
        char path[256];
        (void)snprintf(path, sizeof(path), "%s.%s", prefix, key);
        if (!list || json_is_null(list))
                return 0;
        if (!json_is_array(list))
                return fail(c, at_slot(c, node, key, 0, false), path, BRIDLE_E_INVALID,
                            "expected a list, not %s", bridle__json_type_name(list));
        if (json_array_size(list) > BRIDLE__GUARDS_MAX_ITEMS)
                return fail(c, at_slot(c, node, key, 0, false), path, BRIDLE_E_LIMIT,
                            "more than %d guardrails", BRIDLE__GUARDS_MAX_ITEMS);
        g->items[output] = bridle__calloc(json_array_size(list) + 1, sizeof(struct guard_item));
        if (!g->items[output])
                return oom(c);
        for (size_t i = 0; i < json_array_size(list); i++) {
                char ipath[300];
                (void)snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
                g->n[output] = i + 1;
                int r = load_item(c, list, i, ipath, output, &g->items[output][i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load(const bridle__doc *doc, const json_t *node, const char *path, bridle__guards **ret,
                bridle_error *err)
{
        _cleanup_free_ char *name = doc ? bridle__strdup(bridle__doc_name(doc)) : NULL;
        if (doc && !name)
                return bridle__err(err, -ENOMEM, "loading guardrails");
        struct lctx c = {.doc = doc, .dir = name ? dirname(name) : NULL, .err = err};
        if (!path)
                path = "guardrails";
        _cleanup_(guards_freep) bridle__guards *g = bridle__calloc(1, sizeof(*g));
        if (!g)
                return oom(&c);
        if (node && !json_is_null(node)) {
                if (!json_is_object(node)) {
                        struct lc where = {0, 0};
                        (void)bridle__doc_pos(doc, node, &where.line, &where.col);
                        return fail(&c, where, path, BRIDLE_E_INVALID,
                                    "expected a mapping with input and output lists, not %s",
                                    bridle__json_type_name(node));
                }
                static const char *const keys[] = {"input", "output", NULL};
                const char *key;
                const json_t *v;
                json_object_foreach((json_t *)node, key, v)
                {
                        bool ok = !strcmp(key, keys[0]) || !strcmp(key, keys[1]);
                        char q[80];
                        if (!ok)
                                return fail(&c, at_slot(&c, node, key, 0, true), path,
                                            BRIDLE_E_INVALID, "unknown key '%s' (input, output)",
                                            bridle__doc_quote(key, strlen(key), q, sizeof(q)));
                }
                int r = load_list(&c, g, node, "input", path);
                if (r >= 0)
                        r = load_list(&c, g, node, "output", path);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(g);
        return 0;
}

int bridle__guards_load(const bridle__doc *doc, const json_t *node, const char *path,
                        bridle__guards **ret, bridle_error *err)
{
        if (!ret)
                return bridle__err(err, -EINVAL, "loading guardrails: no result");
        return load(doc, node, path, ret, err);
}

int bridle__guards_from_json(const json_t *v, bridle__guards **ret, bridle_error *err)
{
        if (!ret)
                return bridle__err(err, -EINVAL, "loading guardrails: no result");
        return load(NULL, v, "guardrails", ret, err);
}

/* ---- canonical JSON --------------------------------------------------------- */

static json_t *item_json(const struct guard_item *it)
{
        json_t *o = json_pack("{ss}", "type", bridle__guard_type_name(it->type));
        if (!o)
                return NULL;
        int r = 0;
        switch (it->type) {
        case BRIDLE__GUARD_REGEX:
                r |= json_object_set_new(o, "pattern", json_string(it->pattern));
                r |= json_object_set_new(o, "action", json_string("deny"));
                r |= json_object_set_new(o, "ignore_case", json_boolean(it->ignore_case));
                if (it->reason)
                        r |= json_object_set_new(o, "reason", json_string(it->reason));
                break;
        case BRIDLE__GUARD_MAX_LENGTH:
                r |= json_object_set_new(o, "chars", json_integer(it->chars));
                break;
        case BRIDLE__GUARD_JSON_SCHEMA:
                r |= json_object_set(o, "schema", it->schema);
                break;
        case BRIDLE__GUARD_SECRETS:
                break;
        case BRIDLE__GUARD_COMMAND: {
                json_t *argv = json_array();
                for (size_t k = 0; argv && it->cmd.argv[k]; k++)
                        r |= json_array_append_new(argv, json_string(it->cmd.argv[k]));
                r |= json_object_set_new(o, "command", argv);
                r |= json_object_set_new(o, "timeout_ms", json_integer(it->cmd.timeout_ms));
                break;
        }
        }
        if (r) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *bridle__guards_to_json(const bridle__guards *g)
{
        _cleanup_(json_decrefp) json_t *o = json_object();
        for (int k = 0; o && k < 2; k++) {
                json_t *list = json_array();
                if (json_object_set_new(o, k ? "output" : "input", list) < 0)
                        return NULL;
                for (size_t i = 0; g && i < g->n[k]; i++)
                        if (json_array_append_new(list, item_json(&g->items[k][i])) < 0)
                                return NULL;
        }
        return TAKE_PTR(o);
}

/* ---- checking --------------------------------------------------------------- */

static size_t utf8_chars(const char *t, size_t len)
{
        size_t n = 0;
        for (size_t k = 0; k < len; k++)
                n += ((unsigned char)t[k] & 0xC0) != 0x80;
        return n;
}

static void say(bridle__guard_verdict *v, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void say(bridle__guard_verdict *v, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
        va_end(ap);
        v->tripped = true;
}

static int check_regex(const struct guard_item *it, const char *text, size_t len,
                       bridle__guard_verdict *v)
{
        char q[200];
        if (len > BRIDLE__GUARD_REGEX_MAX_TEXT) {
                say(v, "text is %zu bytes, more than a regex guardrail checks (%zu)", len,
                    BRIDLE__GUARD_REGEX_MAX_TEXT);
                return 0;
        }
        /* a NUL-terminated copy: REG_STARTEND takes the length (so NUL bytes in
         * the text are matched over), but not every regexec reads only that */
        _cleanup_free_ char *copy = bridle__malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, text, len);
        copy[len] = '\0';
        regmatch_t pm[1] = {{.rm_so = 0, .rm_eo = (regoff_t)len}};
        int rc = regexec(&it->re, copy, 1, pm, REG_STARTEND);
        if (rc == 0) {
                if (it->reason)
                        say(v, "%s", it->reason);
                else
                        say(v, "text matches '%s'",
                            bridle__doc_quote(it->pattern, strlen(it->pattern), q, sizeof(q)));
        } else if (rc != REG_NOMATCH) {
                say(v, "regex guardrail failed to run (%d)", rc);
        }
        return 0;
}

static int check_schema(const struct guard_item *it, const char *text, size_t len,
                        bridle__guard_verdict *v)
{
        json_error_t je;
        _cleanup_(json_decrefp) json_t *val =
                json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        if (!val) {
                say(v, "output is not JSON: %d:%d: %s", je.line, je.column, je.text);
                return 0;
        }
        bridle_error e = {0};
        if (bridle__schema_check(it->schema, val, &e) < 0) {
                if (e.code == -ENOMEM)
                        return -ENOMEM;
                say(v, "output does not match the schema: %s", e.msg);
        }
        return 0;
}

static int check_secrets(const bridle__secrets *s, const char *text, size_t len,
                         bridle__guard_verdict *v, bridle_error *err)
{
        bridle__secret_finding f;
        long n = bridle__secrets_scan(s, text, len, &f, 1, err);
        if (n < 0)
                return (int)n;
        if (n > 0)
                say(v, "%ld secret%s found, the first a %s at byte %zu", n, n == 1 ? "" : "s",
                    bridle__secret_kind_name(f.kind), f.offset);
        return 0;
}

static int check_item(const struct guard_item *it, enum bridle__guard_kind kind, const char *text,
                      size_t len, const bridle__secrets *s, bridle__guard_verdict *v,
                      bridle_error *err)
{
        switch (it->type) {
        case BRIDLE__GUARD_REGEX:
                return check_regex(it, text, len, v);
        case BRIDLE__GUARD_MAX_LENGTH: {
                size_t n = utf8_chars(text, len);
                if ((long long)n > it->chars)
                        say(v, "text is %zu characters long, more than %lld", n, it->chars);
                return 0;
        }
        case BRIDLE__GUARD_JSON_SCHEMA:
                return check_schema(it, text, len, v);
        case BRIDLE__GUARD_SECRETS:
                return check_secrets(s, text, len, v, err);
        case BRIDLE__GUARD_COMMAND: {
                bool deny = false;
                int r = bridle__guard_run_command(&it->cmd, bridle__guard_kind_name(kind), text,
                                                  len, &deny, v->reason, sizeof(v->reason), err);
                v->tripped = r >= 0 && deny;
                return r;
        }
        }
        return 0;
}

int bridle__guards_check(const bridle__guards *g, enum bridle__guard_kind kind, const char *text,
                         size_t len, const bridle__secrets *secrets, bridle__guard_verdict *ret,
                         bridle_error *err)
{
        if (!ret || (!text && len))
                return bridle__err(err, -EINVAL, "checking guardrails: no text or verdict");
        bridle__guard_verdict v = {.kind = kind};
        if (!text)
                text = "";
        int k = kind == BRIDLE__GUARD_OUTPUT;
        for (size_t i = 0; g && i < g->n[k]; i++) {
                v.index = i;
                v.type = g->items[k][i].type;
                int r = check_item(&g->items[k][i], kind, text, len, secrets, &v, err);
                if (r < 0)
                        return r == -ENOMEM ? bridle__err(err, r, "checking guardrails") : r;
                if (v.tripped)
                        break;
        }
        if (!v.tripped) {
                v.index = 0;
                v.type = 0;
                v.reason[0] = '\0';
        }
        *ret = v;
        return 0;
}
