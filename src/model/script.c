/* SPDX-License-Identifier: MIT */
/*
 * Script files for the scripted provider: load (YAML or JSON, with line and
 * column in errors), expand the short forms, check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

#define SCRIPT_MAX_SIZE BRIDLE__DOC_MAX_SIZE

struct sctx {
        const bridle__doc *doc;
        bridle_error *err;
        size_t turn, item; /* 1-based, for messages; item 0: the turn itself */
};

static void doc_freep(bridle__doc **d)
{
        bridle__doc_free(*d);
}

static int at(const struct sctx *c, const bridle__docpos *p, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int at(const struct sctx *c, const bridle__docpos *p, const char *fmt, ...)
{
        char msg[300], where[64] = "";
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (c->item)
                (void)snprintf(where, sizeof(where), "turn %zu, item %zu: ", c->turn, c->item);
        else if (c->turn)
                (void)snprintf(where, sizeof(where), "turn %zu: ", c->turn);
        return bridle__doc_err(c->doc, p ? p->line : 0, p ? p->col : 0, c->err, BRIDLE_E_INVALID,
                               "%s%s", where, msg);
}

static const bridle__docpos *slot(const struct sctx *c, const json_t *parent, const char *key,
                                  size_t index)
{
        return bridle__doc_slot(c->doc, parent, key, index);
}

static int oom(const struct sctx *c)
{
        return bridle__err(c->err, -ENOMEM, "loading script");
}

static bool set_str(json_t *o, const char *key, const char *v)
{
        return json_object_set_new(o, key, json_string(v)) == 0;
}

/* A missing id-like field gets "PREFIX_sTURN_ITEM": the same on every load. */
static bool default_id(const struct sctx *c, json_t *o, const char *key, const char *prefix)
{
        if (json_object_get(o, key))
                return true;
        char id[64];
        (void)snprintf(id, sizeof(id), "%s_s%zu_%zu", prefix, c->turn, c->item);
        return set_str(o, key, id);
}

static const char *infer_type(const json_t *src)
{
        if (json_object_get(src, "name") || json_object_get(src, "arguments"))
                return "function_call";
        if (json_object_get(src, "content") || json_object_get(src, "role"))
                return "message";
        return NULL;
}

static int expand_message(const struct sctx *c, const json_t *src, json_t *item)
{
        const json_t *content = json_object_get(src, "content");
        if (!json_object_get(item, "role") && !set_str(item, "role", "assistant"))
                return oom(c);
        if (json_is_string(content)) {
                json_t *parts = json_pack("[{s:s,s:O,s:[]}]", "type", "output_text", "text",
                                          content, "annotations");
                if (!parts || json_object_set_new(item, "content", parts) < 0)
                        return oom(c);
        } else if (!json_is_array(content)) {
                return at(c, content ? slot(c, src, "content", 0) : bridle__doc_node(c->doc, src),
                          "a message's 'content' must be a string or a list, got %s",
                          content ? bridle__json_type_name(content) : "none");
        }
        return default_id(c, item, "id", "msg") ? 0 : oom(c);
}

static int expand_call(const struct sctx *c, const json_t *src, json_t *item)
{
        const json_t *name = json_object_get(src, "name");
        const json_t *args = json_object_get(src, "arguments");
        if (!json_is_string(name))
                return at(c, name ? slot(c, src, "name", 0) : bridle__doc_node(c->doc, src),
                          "a function_call's 'name' must be a string");
        if (json_is_object(args) || json_is_array(args)) {
                char *s = json_dumps(args, JSON_COMPACT);
                if (!s || json_object_set_new(item, "arguments", json_string(s)) < 0) {
                        free(s);
                        return oom(c);
                }
                free(s);
        } else if (!args) {
                if (!set_str(item, "arguments", "{}"))
                        return oom(c);
        } else if (!json_is_string(args)) {
                return at(c, slot(c, src, "arguments", 0),
                          "'arguments' must be a mapping or a string, got %s",
                          bridle__json_type_name(args));
        }
        return default_id(c, item, "id", "fc") && default_id(c, item, "call_id", "call") ? 0
                                                                                         : oom(c);
}

static int expand_item(struct sctx *c, const json_t *src, json_t **ret)
{
        if (!json_is_object(src))
                return at(c, bridle__doc_node(c->doc, src), "an item must be a mapping, got %s",
                          bridle__json_type_name(src));
        const json_t *t = json_object_get(src, "type");
        if (t && !json_is_string(t))
                return at(c, slot(c, src, "type", 0), "'type' must be a string");
        const char *type = t ? json_string_value(t) : infer_type(src);
        if (!type)
                return at(c, bridle__doc_node(c->doc, src), "an item needs a 'type'");
        _cleanup_(json_decrefp) json_t *item = json_deep_copy(src);
        if (!item || (!t && !set_str(item, "type", type)))
                return oom(c);
        int r = 0;
        size_t tl = strlen(type);
        if (strcmp(type, "message") == 0)
                r = expand_message(c, src, item);
        else if (strcmp(type, "function_call") == 0)
                r = expand_call(c, src, item);
        else if (tl > 5 && strcmp(type + tl - 5, "_call") == 0 &&
                 !default_id(c, item, "call_id", "call"))
                r = oom(c); /* shell_call, apply_patch_call, ...: kept as written */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(item);
        return 0;
}

static int expand_items(struct sctx *c, const json_t *src, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *out = json_array();
        if (!out)
                return oom(c);
        size_t i;
        const json_t *v;
        json_array_foreach(src, i, v)
        {
                json_t *item = NULL;
                c->item = i + 1;
                int r = expand_item(c, v, &item);
                if (r < 0)
                        return r;
                if (json_array_append_new(out, item) < 0)
                        return oom(c);
        }
        c->item = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* A turn: a list of items, or {items: [...], usage: {...}} (faults: ignored, for
 * scripts shared with the test server). */
static int expand_turn(struct sctx *c, const json_t *src, json_t **ret)
{
        if (json_is_array(src))
                return expand_items(c, src, ret);
        if (!json_is_object(src))
                return at(c, bridle__doc_node(c->doc, src),
                          "a turn must be a list of items or a mapping with 'items', got %s",
                          bridle__json_type_name(src));
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)src, key, v)
        {
                if (strcmp(key, "items") != 0 && strcmp(key, "usage") != 0 &&
                    strcmp(key, "faults") != 0) {
                        const bridle__docpos *kp = bridle__doc_slot(c->doc, src, key, 0);
                        bridle__docpos p = {0};
                        if (kp)
                                p.line = kp->key_line, p.col = kp->key_col;
                        return at(c, kp ? &p : NULL,
                                  "unknown key '%s' (expected items, usage, faults)", key);
                }
        }
        const json_t *items = json_object_get(src, "items");
        const json_t *usage = json_object_get(src, "usage");
        if (!json_is_array(items))
                return at(c, items ? slot(c, src, "items", 0) : bridle__doc_node(c->doc, src),
                          "'items' must be a list");
        if (usage && !json_is_object(usage))
                return at(c, slot(c, src, "usage", 0), "'usage' must be a mapping");
        json_t *list = NULL;
        int r = expand_items(c, items, &list);
        if (r < 0)
                return r;
        if (!usage) {
                *ret = list;
                return 0;
        }
        json_t *o = json_pack("{s:o,s:O}", "items", list, "usage", usage);
        if (!o)
                return oom(c);
        *ret = o;
        return 0;
}

static int expand(struct sctx *c, const json_t *root, json_t **ret)
{
        if (!json_is_array(root))
                return at(c, bridle__doc_slot(c->doc, NULL, NULL, 0),
                          "a script is a list of turns, got %s", bridle__json_type_name(root));
        _cleanup_(json_decrefp) json_t *out = json_array();
        if (!out)
                return oom(c);
        size_t i;
        const json_t *v;
        json_array_foreach(root, i, v)
        {
                json_t *turn = NULL;
                c->turn = i + 1;
                int r = expand_turn(c, v, &turn);
                if (r < 0)
                        return r;
                if (json_array_append_new(out, turn) < 0)
                        return oom(c);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int bridle__script_load(const char *path, json_t **ret, bridle_error *err)
{
        if (!path || !ret)
                return bridle__err(err, -EINVAL, "bridle__script_load: invalid arguments");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, SCRIPT_MAX_SIZE + 1, &data, &len);
        if (r == -EFBIG || (r >= 0 && len > SCRIPT_MAX_SIZE)) {
                if (err) {
                        (void)snprintf(err->msg, sizeof(err->msg), "%s: larger than %zu bytes",
                                       path, SCRIPT_MAX_SIZE);
                        err->code = BRIDLE_E_LIMIT;
                }
                return BRIDLE_E_LIMIT;
        }
        if (r < 0)
                return bridle__err(err, r, "script '%s'", path);
        return bridle__script_parse(data, len, path, ret, err);
}

int bridle__script_parse(const char *data, size_t len, const char *name, json_t **ret, bridle_error *err)
{
        if (!name)
                name = "<script>";
        _cleanup_(doc_freep) bridle__doc *doc = NULL;
        int r = bridle__doc_load(data, len, name, &doc, err);
        if (r < 0)
                return r;
        struct sctx c = {.doc = doc, .err = err};
        _cleanup_(json_decrefp) json_t *script = NULL;
        r = expand(&c, bridle__doc_root(doc), &script);
        if (r < 0)
                return r;
        r = bridle__script_check(script, name, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(script);
        return 0;
}

/* ---- check: the expanded form, without positions ------------------------------- */

static int bad(bridle_error *err, const char *name, size_t turn, size_t item, const char *what)
{
        if (item)
                return bridle__err(err, BRIDLE_E_INVALID, "%s: turn %zu, item %zu: %s", name, turn,
                                   item, what);
        return bridle__err(err, BRIDLE_E_INVALID, "%s: turn %zu: %s", name, turn, what);
}

static const char *check_item(const json_t *item)
{
        if (!json_is_object(item))
                return "an item must be an object";
        const char *type = json_string_value(json_object_get(item, "type"));
        if (!type)
                return "an item needs a string 'type'";
        if (strcmp(type, "message") == 0) {
                if (!json_is_array(json_object_get(item, "content")))
                        return "a message's 'content' must be a list";
        } else if (strcmp(type, "function_call") == 0) {
                if (!json_is_string(json_object_get(item, "name")))
                        return "a function_call's 'name' must be a string";
                if (!json_is_string(json_object_get(item, "arguments")))
                        return "a function_call's 'arguments' must be a string";
                if (!json_is_string(json_object_get(item, "call_id")))
                        return "a function_call's 'call_id' must be a string";
        }
        return NULL;
}

int bridle__script_check(const json_t *script, const char *name, bridle_error *err)
{
        if (!name)
                name = "<script>";
        if (!json_is_array(script))
                return bridle__err(err, BRIDLE_E_INVALID, "%s: a script is a list of turns", name);
        size_t i, k;
        const json_t *turn, *item;
        json_array_foreach(script, i, turn)
        {
                const json_t *items = json_is_object(turn) ? json_object_get(turn, "items") : turn;
                if (!json_is_array(items))
                        return bad(err, name, i + 1, 0, "a turn must be a list of items");
                json_array_foreach(items, k, item)
                {
                        const char *what = check_item(item);
                        if (what)
                                return bad(err, name, i + 1, k + 1, what);
                }
        }
        return 0;
}
