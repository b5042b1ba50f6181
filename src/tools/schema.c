/* SPDX-License-Identifier: MIT */
/*
 * The JSON Schema subset of tools.h: checking a value (errors name the place,
 * "arguments.files[2].path: expected a string, got integer") and checking
 * that a user's schema only uses what the checker understands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

#define PATH_MAX_LEN 256

static const char *const type_names[] = {"string", "integer", "number", "boolean",
                                         "object", "array",   "null",   NULL};

/* JSON Schema's name for a value's type. */
static const char *schema_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "integer";
        case JSON_REAL:
                return "number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        case JSON_NULL:
                return "null";
        }
        return "value";
}

static const char *article(const char *t)
{
        return strchr("aeiou", t[0]) ? "an" : "a";
}

/* Whether a real is a whole number (3.0 is an integer in JSON Schema). No
 * libm: the library does not link it. */
static bool integral(double d)
{
        return d > -9.0e18 && d < 9.0e18 && (double)(long long)d == d;
}

static bool type_matches(const char *t, const json_t *v)
{
        if (!strcmp(t, "string"))
                return json_is_string(v);
        if (!strcmp(t, "integer"))
                return json_is_integer(v) || (json_is_real(v) && integral(json_real_value(v)));
        if (!strcmp(t, "number"))
                return json_is_number(v);
        if (!strcmp(t, "boolean"))
                return json_is_boolean(v);
        if (!strcmp(t, "object"))
                return json_is_object(v);
        if (!strcmp(t, "array"))
                return json_is_array(v);
        if (!strcmp(t, "null"))
                return json_is_null(v);
        return false;
}

struct sctx {
        char path[PATH_MAX_LEN];
        bridle_error *err;
};

static int fail(struct sctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct sctx *c, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return bridle__err(c->err, BRIDLE_E_INVALID, "%s: %s", c->path, msg);
}

static int check_type(struct sctx *c, const json_t *type, const json_t *v)
{
        if (json_is_string(type)) {
                const char *t = json_string_value(type);
                if (type_matches(t, v))
                        return 0;
                return fail(c, "expected %s %s, got %s", article(t), t, schema_type_name(v));
        }
        if (!json_is_array(type))
                return 0;
        char want[160] = "";
        size_t i;
        const json_t *t;
        json_array_foreach(type, i, t)
        {
                if (!json_is_string(t))
                        continue;
                if (type_matches(json_string_value(t), v))
                        return 0;
                size_t l = strlen(want);
                (void)snprintf(want + l, sizeof(want) - l, "%s%s", l ? " or " : "",
                               json_string_value(t));
        }
        return fail(c, "expected %s, got %s", want, schema_type_name(v));
}

static int check_enum(struct sctx *c, const json_t *en, const json_t *v)
{
        if (!json_is_array(en))
                return 0;
        size_t i;
        const json_t *e;
        json_array_foreach(en, i, e)
        {
                if (json_equal(e, v))
                        return 0;
        }
        char *s = json_dumps(en, JSON_COMPACT | JSON_ENCODE_ANY);
        int r = fail(c, "expected one of %.200s", s ? s : "the listed values");
        free(s);
        return r;
}

/* Code points in a UTF-8 string (jansson guarantees valid UTF-8). */
static size_t utf8_chars(const char *s, size_t len)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

static bool get_count(const json_t *schema, const char *key, size_t *ret)
{
        const json_t *v = json_object_get(schema, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        *ret = (size_t)json_integer_value(v);
        return true;
}

/* n (a length or a count) against the schema's min and max keywords. */
static int check_count(struct sctx *c, const json_t *schema, size_t n, const char *min_key,
                       const char *max_key, const char *what)
{
        size_t lim;
        if (get_count(schema, min_key, &lim) && n < lim)
                return fail(c, "expected at least %zu %s, got %zu", lim, what, n);
        if (get_count(schema, max_key, &lim) && n > lim)
                return fail(c, "expected at most %zu %s, got %zu", lim, what, n);
        return 0;
}

static int check_bounds(struct sctx *c, const json_t *schema, const json_t *v)
{
        if (json_is_number(v)) {
                const json_t *mn = json_object_get(schema, "minimum");
                const json_t *mx = json_object_get(schema, "maximum");
                double d = json_number_value(v);
                if (json_is_number(mn) && d < json_number_value(mn))
                        return fail(c, "%g is less than the minimum %g", d, json_number_value(mn));
                if (json_is_number(mx) && d > json_number_value(mx))
                        return fail(c, "%g is more than the maximum %g", d, json_number_value(mx));
        }
        if (json_is_string(v))
                return check_count(c, schema,
                                   utf8_chars(json_string_value(v), json_string_length(v)),
                                   "minLength", "maxLength", "characters");
        if (json_is_array(v))
                return check_count(c, schema, json_array_size(v), "minItems", "maxItems", "items");
        return 0;
}

static int check_node(struct sctx *c, const json_t *schema, const json_t *v, int depth);

/* Descend into a child: path grows by suffix, then is restored. */
static int check_child(struct sctx *c, const json_t *schema, const json_t *v, int depth,
                       const char *key, size_t index)
{
        size_t l = strlen(c->path);
        if (key)
                (void)snprintf(c->path + l, sizeof(c->path) - l, ".%s", key);
        else
                (void)snprintf(c->path + l, sizeof(c->path) - l, "[%zu]", index);
        int r = check_node(c, schema, v, depth + 1);
        c->path[l] = '\0';
        return r;
}

static int check_object(struct sctx *c, const json_t *schema, const json_t *v, int depth)
{
        const json_t *props = json_object_get(schema, "properties");
        const json_t *req = json_object_get(schema, "required");
        const json_t *addl = json_object_get(schema, "additionalProperties");
        size_t i;
        const json_t *e;
        json_array_foreach(req, i, e)
        {
                if (json_is_string(e) && !json_object_get(v, json_string_value(e))) {
                        size_t l = strlen(c->path);
                        (void)snprintf(c->path + l, sizeof(c->path) - l, ".%s",
                                       json_string_value(e));
                        int r = fail(c, "missing (required)");
                        c->path[l] = '\0';
                        return r;
                }
        }
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
                const json_t *ps = json_object_get(props, key);
                int r = 0;
                if (ps)
                        r = check_child(c, ps, val, depth, key, 0);
                else if (json_is_false(addl))
                        r = check_child(c, json_false(), val, depth, key, 0);
                else if (json_is_object(addl))
                        r = check_child(c, addl, val, depth, key, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_node(struct sctx *c, const json_t *schema, const json_t *v, int depth)
{
        if (depth > BRIDLE__SCHEMA_MAX_DEPTH)
                return fail(c, "nested more than %d levels deep", BRIDLE__SCHEMA_MAX_DEPTH);
        if (json_is_false(schema))
                return fail(c, "unknown property");
        if (!json_is_object(schema))
                return 0;
        const json_t *type = json_object_get(schema, "type");
        int r;
        if (type && (r = check_type(c, type, v)) < 0)
                return r;
        const json_t *en = json_object_get(schema, "enum");
        if (en && (r = check_enum(c, en, v)) < 0)
                return r;
        const json_t *cst = json_object_get(schema, "const");
        if (cst && !json_equal(cst, v)) {
                _cleanup_free_ char *s = json_dumps(cst, JSON_COMPACT | JSON_ENCODE_ANY);
                return fail(c, "expected %.200s", s ? s : "the constant");
        }
        if ((r = check_bounds(c, schema, v)) < 0)
                return r;
        if (json_is_object(v))
                return check_object(c, schema, v, depth);
        const json_t *items = json_object_get(schema, "items");
        if (json_is_array(v) && json_is_object(items)) {
                size_t i;
                const json_t *e;
                json_array_foreach(v, i, e)
                {
                        if ((r = check_child(c, items, e, depth, NULL, i)) < 0)
                                return r;
                }
        }
        return 0;
}

int bridle__schema_check(const json_t *schema, const json_t *value, bridle_error *err)
{
        struct sctx c = {.path = "arguments", .err = err};
        if (!value)
                return bridle__err(err, -EINVAL, "arguments: no value");
        return check_node(&c, schema, value, 0);
}

/* ---- schemas given by users --------------------------------------------- */

static const char *const known_keys[] = {
        "type",     "properties",  "required",  "additionalProperties",
        "enum",     "const",       "items",     "minimum",
        "maximum",  "minLength",   "maxLength", "minItems",
        "maxItems", "description", "title",     "default",
        "examples", "format",      "$schema",   "$comment",
        "strict",   NULL,
};

static bool in_list(const char *const *list, const char *s)
{
        for (size_t i = 0; list[i]; i++)
                if (!strcmp(list[i], s))
                        return true;
        return false;
}

static int valid_node(struct sctx *c, const json_t *s, int depth);

static int valid_type(struct sctx *c, const json_t *type)
{
        if (json_is_string(type)) {
                if (!in_list(type_names, json_string_value(type)))
                        return fail(c, "unknown type '%.64s'", json_string_value(type));
                return 0;
        }
        if (!json_is_array(type) || !json_array_size(type))
                return fail(c, "type: expected a type name or a list of them");
        size_t i;
        const json_t *t;
        json_array_foreach(type, i, t)
        {
                if (!json_is_string(t) || !in_list(type_names, json_string_value(t)))
                        return fail(c,
                                    "type[%zu]: expected one of string, integer, number, boolean, "
                                    "object, "
                                    "array, null",
                                    i);
        }
        return 0;
}

static int valid_values(struct sctx *c, const json_t *s);

static int valid_keywords(struct sctx *c, const json_t *s)
{
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)s, key, v)
        {
                if (!in_list(known_keys, key))
                        return fail(c, "keyword '%.64s' is not supported", key);
        }
        return valid_values(c, s);
}

/* The values of the keywords that have one shape. */
static int valid_values(struct sctx *c, const json_t *s)
{
        const json_t *v;
        static const char *const counts[] = {"minLength", "maxLength", "minItems", "maxItems",
                                             NULL};
        for (size_t i = 0; counts[i]; i++) {
                v = json_object_get(s, counts[i]);
                if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
                        return fail(c, "%s: expected a non-negative integer", counts[i]);
        }
        if ((v = json_object_get(s, "minimum")) && !json_is_number(v))
                return fail(c, "minimum: expected a number");
        if ((v = json_object_get(s, "maximum")) && !json_is_number(v))
                return fail(c, "maximum: expected a number");
        if ((v = json_object_get(s, "enum")) && (!json_is_array(v) || !json_array_size(v)))
                return fail(c, "enum: expected a non-empty list");
        if ((v = json_object_get(s, "description")) && !json_is_string(v))
                return fail(c, "description: expected a string");
        return 0;
}

static int check_child_valid(struct sctx *c, const json_t *s, int depth, const char *suffix)
{
        size_t l = strlen(c->path);
        (void)snprintf(c->path + l, sizeof(c->path) - l, "%s", suffix);
        int r = valid_node(c, s, depth + 1);
        c->path[l] = '\0';
        return r;
}

static int valid_object_parts(struct sctx *c, const json_t *s, int depth)
{
        const json_t *v = json_object_get(s, "required");
        size_t i;
        const json_t *e;
        if (v) {
                if (!json_is_array(v))
                        return fail(c, "required: expected a list of property names");
                json_array_foreach(v, i, e)
                {
                        if (!json_is_string(e))
                                return fail(c, "required[%zu]: expected a string", i);
                }
        }
        v = json_object_get(s, "additionalProperties");
        if (v && !json_is_boolean(v) && !json_is_object(v))
                return fail(c, "additionalProperties: expected a boolean or a schema");
        int r;
        if (json_is_object(v) && (r = check_child_valid(c, v, depth, ".additionalProperties")) < 0)
                return r;
        v = json_object_get(s, "properties");
        if (v && !json_is_object(v))
                return fail(c, "properties: expected a mapping of names to schemas");
        const char *key;
        json_object_foreach((json_t *)v, key, e)
        {
                size_t l = strlen(c->path);
                (void)snprintf(c->path + l, sizeof(c->path) - l, ".properties.%s", key);
                r = valid_node(c, e, depth + 1);
                c->path[l] = '\0';
                if (r < 0)
                        return r;
        }
        return 0;
}

static int valid_node(struct sctx *c, const json_t *s, int depth)
{
        if (depth > BRIDLE__SCHEMA_MAX_DEPTH)
                return fail(c, "nested more than %d levels deep", BRIDLE__SCHEMA_MAX_DEPTH);
        if (json_is_boolean(s) && depth > 0)
                return 0;
        if (!json_is_object(s))
                return fail(c, "expected a schema (a mapping), got %s", schema_type_name(s));
        int r;
        const json_t *type = json_object_get(s, "type");
        if (type && (r = valid_type(c, type)) < 0)
                return r;
        if ((r = valid_keywords(c, s)) < 0 || (r = valid_object_parts(c, s, depth)) < 0)
                return r;
        const json_t *items = json_object_get(s, "items");
        if (items && !json_is_object(items) && !json_is_boolean(items))
                return fail(c, "items: expected a schema");
        if (json_is_object(items) && (r = check_child_valid(c, items, depth, ".items")) < 0)
                return r;
        return 0;
}

int bridle__schema_valid(const json_t *schema, bridle_error *err)
{
        struct sctx c = {.path = "parameters", .err = err};
        int r = valid_node(&c, schema, 0);
        if (r < 0)
                return r;
        const json_t *type = json_object_get(schema, "type");
        if (!json_is_string(type) || strcmp(json_string_value(type), "object") != 0)
                return fail(&c, "the top level must have type 'object'");
        return 0;
}
