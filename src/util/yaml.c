/* SPDX-License-Identifier: MIT */
/* YAML/JSON document loader with node positions (see yaml.h). */
#include "util/yaml.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

/* One node: where it sits in the tree and where it came from. */
struct rec {
        const json_t *node;
        const json_t *parent; /* NULL: the root */
        const char *key;      /* member of an object: the key (owned by jansson) */
        size_t index;         /* element of an array */
        bridle__docpos pos;   /* pos.raw is owned (char *) */
};

struct bridle__doc {
        char *name;
        json_t *root;
        struct rec *recs;
        size_t n_recs, cap_recs;
        /* Open-addressing tables of (record index + 1), 0 empty; mask + 1 slots. */
        uint32_t *slot_tab;
        uint32_t *node_tab;
        size_t mask;
};

struct frame {
        json_t *c; /* borrowed: its parent (or the doc) holds the reference */
        bool is_map;
        char *key; /* a mapping's pending key, NULL while waiting for one */
        int key_line, key_col;
        size_t n;
};

struct builder {
        bridle__doc *doc;
        bridle_error *err;
        struct frame st[BRIDLE__DOC_MAX_DEPTH];
        size_t depth;
        size_t nodes;
        unsigned docs;
};

/* ---- messages ------------------------------------------------------------ */

const char *bridle__json_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "mapping";
        case JSON_ARRAY:
                return "list";
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

const char *bridle__doc_quote(const char *s, size_t len, char *buf, size_t size)
{
        assert(size >= 8);
        size_t max = size - 1, o = 0;
        bool cut = len > max;
        if (cut) {
                max -= 3;
                /* Do not end inside a UTF-8 sequence. */
                while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
                        max--;
        } else {
                max = len;
        }
        for (size_t i = 0; i < max; i++) {
                unsigned char c = (unsigned char)s[i];
                buf[o++] = s[i];
                if (c < 0x20 || c == 0x7f)
                        buf[o - 1] = '?';
        }
        if (cut) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}

int bridle__doc_verr(const bridle__doc *doc, int line, int col, bridle_error *err, int code,
                     const char *fmt, va_list ap)
{
        char msg[sizeof(((bridle_error *)NULL)->msg) - 96]; /* room for the name */
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        const char *name = doc && doc->name ? doc->name : "<input>";
        if (code > -1000 || code <= -2000) { /* -errno: bridle__err adds strerror */
                if (line <= 0)
                        return bridle__err(err, code, "%s: %s", name, msg);
                return bridle__err(err, code, "%s:%d:%d: %s", name, line, col, msg);
        }
        if (!err)
                return code;
        if (line <= 0)
                (void)snprintf(err->msg, sizeof(err->msg), "%s: %s", name, msg);
        else
                (void)snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: %s", name, line, col, msg);
        err->code = code;
        return code;
}

int bridle__doc_err(const bridle__doc *doc, int line, int col, bridle_error *err, int code,
                    const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = bridle__doc_verr(doc, line, col, err, code, fmt, ap);
        va_end(ap);
        return r;
}

int bridle__doc_fail(const bridle__doc *doc, const json_t *parent, const char *key, size_t index,
                     bridle_error *err, const char *fmt, ...)
{
        const bridle__docpos *p = !key && json_is_object(parent) ? bridle__doc_node(doc, parent)
                                                                 : bridle__doc_slot(doc, parent, key, index);
        va_list ap;
        va_start(ap, fmt);
        int r = bridle__doc_verr(doc, p ? p->line : 0, p ? p->col : 0, err, BRIDLE_E_INVALID, fmt, ap);
        va_end(ap);
        return r;
}

static int berr(struct builder *b, const yaml_mark_t *m, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int berr(struct builder *b, const yaml_mark_t *m, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = bridle__doc_verr(b->doc, m ? (int)m->line + 1 : 0, m ? (int)m->column + 1 : 0,
                                 b->err, code, fmt, ap);
        va_end(ap);
        return r;
}

/* ---- the doc object and its position tables -------------------------------- */

bridle__doc *bridle__doc_free(bridle__doc *doc)
{
        if (!doc)
                return NULL;
        for (size_t i = 0; i < doc->n_recs; i++)
                free((char *)doc->recs[i].pos.raw);
        free(doc->recs);
        free(doc->slot_tab);
        free(doc->node_tab);
        json_decref(doc->root);
        free(doc->name);
        free(doc);
        return NULL;
}

json_t *bridle__doc_root(const bridle__doc *doc)
{
        return doc ? doc->root : NULL;
}

const char *bridle__doc_name(const bridle__doc *doc)
{
        return doc && doc->name ? doc->name : "<input>";
}

static uint64_t mix64(uint64_t x)
{
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return x;
}

static uint64_t slot_hash(const json_t *parent, const char *key, size_t index)
{
        uint64_t h = mix64((uint64_t)(uintptr_t)parent);
        if (!key)
                return mix64(h ^ (index + 0x9e3779b97f4a7c15ULL));
        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = (h ^ *p) * 0x100000001b3ULL;
        return mix64(h);
}

static bool slot_match(const struct rec *r, const json_t *parent, const char *key, size_t index)
{
        if (r->parent != parent)
                return false;
        if (!key || !r->key)
                return !key && !r->key && r->index == index;
        return strcmp(r->key, key) == 0;
}

/* Booleans and null are shared singletons in jansson: no identity. */
static bool has_identity(const json_t *v)
{
        return !json_is_boolean(v) && !json_is_null(v);
}

static int build_tables(bridle__doc *doc)
{
        size_t size = 16;
        while (size < doc->n_recs * 2)
                size *= 2;
        doc->slot_tab = bridle__calloc(size, sizeof(uint32_t));
        doc->node_tab = bridle__calloc(size, sizeof(uint32_t));
        if (!doc->slot_tab || !doc->node_tab)
                return -ENOMEM;
        doc->mask = size - 1;
        for (size_t i = 0; i < doc->n_recs; i++) {
                const struct rec *r = &doc->recs[i];
                size_t h = slot_hash(r->parent, r->key, r->index) & doc->mask;
                while (doc->slot_tab[h])
                        h = (h + 1) & doc->mask;
                doc->slot_tab[h] = (uint32_t)(i + 1);
                if (!has_identity(r->node))
                        continue;
                h = mix64((uint64_t)(uintptr_t)r->node) & doc->mask;
                while (doc->node_tab[h])
                        h = (h + 1) & doc->mask;
                doc->node_tab[h] = (uint32_t)(i + 1);
        }
        return 0;
}

const bridle__docpos *bridle__doc_slot(const bridle__doc *doc, const json_t *parent,
                                       const char *key, size_t index)
{
        if (!doc || !doc->slot_tab)
                return NULL;
        if (parent && !json_is_object(parent))
                key = NULL;
        if (!parent)
                key = NULL, index = 0;
        for (size_t h = slot_hash(parent, key, index) & doc->mask; doc->slot_tab[h];
             h = (h + 1) & doc->mask) {
                const struct rec *r = &doc->recs[doc->slot_tab[h] - 1];
                if (slot_match(r, parent, key, index))
                        return &r->pos;
        }
        return NULL;
}

const bridle__docpos *bridle__doc_node(const bridle__doc *doc, const json_t *node)
{
        if (!doc || !doc->node_tab || !node || !has_identity(node))
                return NULL;
        for (size_t h = mix64((uint64_t)(uintptr_t)node) & doc->mask; doc->node_tab[h];
             h = (h + 1) & doc->mask) {
                const struct rec *r = &doc->recs[doc->node_tab[h] - 1];
                if (r->node == node)
                        return &r->pos;
        }
        return NULL;
}

int bridle__doc_pos(const bridle__doc *doc, const json_t *node, int *line, int *col)
{
        const bridle__docpos *p = bridle__doc_node(doc, node);
        if (!p && doc && node == doc->root)
                p = bridle__doc_slot(doc, NULL, NULL, 0);
        if (!p)
                return -ENOENT;
        if (line)
                *line = p->line;
        if (col)
                *col = p->col;
        return 0;
}

/* Takes ownership of raw, whatever happens. */
static int add_rec(bridle__doc *doc, const struct rec *r, char *raw)
{
        if (doc->n_recs == doc->cap_recs) {
                size_t cap = doc->cap_recs ? doc->cap_recs * 2 : 64;
                struct rec *n = bridle__realloc(doc->recs, cap * sizeof(*n));
                if (!n) {
                        free(raw);
                        return -ENOMEM;
                }
                doc->recs = n;
                doc->cap_recs = cap;
        }
        doc->recs[doc->n_recs] = *r;
        doc->recs[doc->n_recs].pos.raw = raw;
        doc->n_recs++;
        return 0;
}

/* ---- scalars ------------------------------------------------------------- */

static bool is_one_of(const char *s, const char *const *words)
{
        for (; *words; words++)
                if (strcmp(s, *words) == 0)
                        return true;
        return false;
}

static bool all_chars(const char *s, const char *set)
{
        return *s && s[strspn(s, set)] == '\0';
}

static bool is_float_syntax(const char *s)
{
        /* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )? */
        if (*s == '-' || *s == '+')
                s++;
        size_t n = strspn(s, "0123456789");
        s += n;
        if (*s == '.') {
                size_t f = strspn(s + 1, "0123456789");
                if (n == 0 && f == 0)
                        return false;
                s += 1 + f;
        } else if (n == 0) {
                return false;
        }
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                if (!all_chars(s, "0123456789"))
                        return false;
                return true;
        }
        return *s == '\0';
}

enum resolved {
        R_STRING,
        R_VALUE,
        R_RANGE,    /* a number that does not fit */
        R_NONFINITE /* .inf, .nan */
};

static enum resolved resolve_int(const char *s, json_t **ret)
{
        const char *digits = s;
        int base = 10;
        if (s[0] == '0' && s[1] == 'o' && all_chars(s + 2, "01234567"))
                base = 8, digits = s + 2;
        else if (s[0] == '0' && s[1] == 'x' && all_chars(s + 2, "0123456789abcdefABCDEF"))
                base = 16, digits = s + 2;
        else if (!all_chars(s + (*s == '-' || *s == '+'), "0123456789"))
                return R_STRING;
        errno = 0;
        char *end = NULL;
        long long v;
        if (base == 10) {
                v = strtoll(digits, &end, 10);
        } else {
                unsigned long long u = strtoull(digits, &end, base);
                if (u > (unsigned long long)LLONG_MAX)
                        errno = ERANGE;
                v = (long long)u;
        }
        if (errno == ERANGE || *end)
                return R_RANGE;
        *ret = json_integer((json_int_t)v);
        return R_VALUE;
}

static enum resolved resolve_number(const char *s, json_t **ret)
{
        static const char *const nonfinite[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
                                                 "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                                 ".NaN", ".NAN", NULL };
        if (is_one_of(s, nonfinite))
                return R_NONFINITE;
        enum resolved r = resolve_int(s, ret);
        if (r != R_STRING || !is_float_syntax(s))
                return r;
        errno = 0;
        char *end = NULL;
        double d = strtod(s, &end);
        if (*end)
                return R_STRING; /* a locale with another decimal point */
        if (errno == ERANGE && !isfinite(d))
                return R_RANGE;
        *ret = json_real(d);
        return R_VALUE;
}

/* Resolve a plain scalar (YAML 1.2 core schema). *ret NULL with R_VALUE means ENOMEM. */
static enum resolved resolve_plain(const char *s, json_t **ret)
{
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
        static const char *const trues[] = { "true", "True", "TRUE", NULL };
        static const char *const falses[] = { "false", "False", "FALSE", NULL };
        *ret = NULL;
        if (is_one_of(s, nulls)) {
                *ret = json_null();
                return R_VALUE;
        }
        if (is_one_of(s, trues)) {
                *ret = json_true();
                return R_VALUE;
        }
        if (is_one_of(s, falses)) {
                *ret = json_false();
                return R_VALUE;
        }
        return resolve_number(s, ret);
}

/* ---- building the tree ----------------------------------------------------- */

static struct frame *top(struct builder *b)
{
        return b->depth ? &b->st[b->depth - 1] : NULL;
}

static bool is_plain(const yaml_event_t *ev)
{
        return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
               ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

static const struct rec *find_member(const bridle__doc *doc, const json_t *obj, const char *key)
{
        for (size_t i = 0; i < doc->n_recs; i++)
                if (doc->recs[i].parent == obj && doc->recs[i].key &&
                    strcmp(doc->recs[i].key, key) == 0)
                        return &doc->recs[i];
        return NULL;
}

static int take_key(struct builder *b, struct frame *f, const yaml_event_t *ev)
{
        const char *s = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        char q[80];
        if (strlen(s) != len)
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID, "key '%s' contains a NUL byte",
                            bridle__doc_quote(s, len, q, sizeof(q)));
        if (is_plain(ev)) {
                json_t *v = NULL;
                enum resolved r = resolve_plain(s, &v);
                json_decref(v);
                if (r != R_STRING)
                        return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                                    "key '%s' is not a string (quote it)",
                                    bridle__doc_quote(s, len, q, sizeof(q)));
        }
        if (json_object_get(f->c, s)) {
                const struct rec *first = find_member(b->doc, f->c, s);
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                            "duplicate key '%s' (first at %d:%d)",
                            bridle__doc_quote(s, len, q, sizeof(q)),
                            first ? first->pos.key_line : 0, first ? first->pos.key_col : 0);
        }
        f->key = bridle__strndup(s, len);
        if (!f->key)
                return berr(b, NULL, -ENOMEM, "loading");
        f->key_line = (int)ev->start_mark.line + 1;
        f->key_col = (int)ev->start_mark.column + 1;
        return 0;
}

/* Attach v (a new reference) to the current container or make it the root.
 * Takes ownership of v and raw, whatever happens. */
static int attach(struct builder *b, json_t *v, const yaml_mark_t *m, char *raw)
{
        struct rec r = {
                .node = v,
                .pos = { .line = (int)m->line + 1, .col = (int)m->column + 1 },
        };
        r.pos.key_line = r.pos.line;
        r.pos.key_col = r.pos.col;
        if (++b->nodes > BRIDLE__DOC_MAX_NODES) {
                json_decref(v);
                free(raw);
                return berr(b, m, BRIDLE_E_LIMIT, "more than %u nodes",
                            (unsigned)BRIDLE__DOC_MAX_NODES);
        }
        struct frame *f = top(b);
        if (!f) {
                assert(!b->doc->root);
                b->doc->root = v;
        } else if (f->is_map) {
                _cleanup_free_ char *key = TAKE_PTR(f->key);
                assert(key);
                if (json_object_set_new(f->c, key, v) < 0) {
                        free(raw);
                        return berr(b, NULL, -ENOMEM, "loading");
                }
                r.parent = f->c;
                r.key = json_object_iter_key(json_object_iter_at(f->c, key));
                r.pos.key_line = f->key_line;
                r.pos.key_col = f->key_col;
        } else {
                if (json_array_append_new(f->c, v) < 0) {
                        free(raw);
                        return berr(b, NULL, -ENOMEM, "loading");
                }
                r.parent = f->c;
                r.index = f->n++;
        }
        if (add_rec(b->doc, &r, raw) < 0)
                return berr(b, NULL, -ENOMEM, "loading");
        return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
        struct frame *f = top(b);
        if (ev->data.scalar.anchor)
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                            "anchors and aliases are not supported");
        if (ev->data.scalar.tag)
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID, "tags are not supported");
        if (f && f->is_map && !f->key)
                return take_key(b, f, ev);

        const char *s = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        json_t *v = NULL;
        enum resolved r = R_STRING;
        char q[80];
        if (is_plain(ev) && strlen(s) == len)
                r = resolve_plain(s, &v);
        switch (r) {
        case R_STRING:
                v = json_stringn(s, len);
                if (!v)
                        return berr(b, &ev->start_mark, -ENOMEM, "loading");
                return attach(b, v, &ev->start_mark, NULL);
        case R_RANGE:
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID, "number '%s' is out of range",
                            bridle__doc_quote(s, len, q, sizeof(q)));
        case R_NONFINITE:
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                            "'%s': infinite and NaN numbers are not supported",
                            bridle__doc_quote(s, len, q, sizeof(q)));
        case R_VALUE:
                break;
        }
        char *raw = bridle__strndup(s, len);
        if (!v || !raw) {
                json_decref(v);
                free(raw);
                return berr(b, &ev->start_mark, -ENOMEM, "loading");
        }
        return attach(b, v, &ev->start_mark, raw);
}

static int on_start(struct builder *b, const yaml_event_t *ev, bool is_map)
{
        struct frame *f = top(b);
        const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor
                                           : ev->data.sequence_start.anchor;
        const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
        if (anchor)
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                            "anchors and aliases are not supported");
        if (tag)
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID, "tags are not supported");
        if (f && f->is_map && !f->key)
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                            "a %s cannot be a key (keys are strings)",
                            is_map ? "mapping" : "list");
        if (b->depth == BRIDLE__DOC_MAX_DEPTH)
                return berr(b, &ev->start_mark, BRIDLE_E_LIMIT, "nested deeper than %d levels",
                            BRIDLE__DOC_MAX_DEPTH);
        json_t *c = is_map ? json_object() : json_array();
        if (!c)
                return berr(b, &ev->start_mark, -ENOMEM, "loading");
        int r = attach(b, c, &ev->start_mark, NULL);
        if (r < 0)
                return r;
        b->st[b->depth++] = (struct frame){ .c = c, .is_map = is_map };
        return 0;
}

static void on_end(struct builder *b)
{
        assert(b->depth > 0);
        struct frame *f = &b->st[--b->depth];
        free(f->key);
        f->key = NULL;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
        switch (ev->type) {
        case YAML_NO_EVENT:
        case YAML_STREAM_START_EVENT:
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
                return 0;
        case YAML_DOCUMENT_START_EVENT:
                if (b->docs++ > 0)
                        return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                                    "more than one document ('---') is not supported");
                return 0;
        case YAML_ALIAS_EVENT:
                return berr(b, &ev->start_mark, BRIDLE_E_INVALID,
                            "anchors and aliases are not supported");
        case YAML_SCALAR_EVENT:
                return on_scalar(b, ev);
        case YAML_SEQUENCE_START_EVENT:
                return on_start(b, ev, false);
        case YAML_MAPPING_START_EVENT:
                return on_start(b, ev, true);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                on_end(b);
                return 0;
        }
        return 0;
}

/* Is the character at m (line, column in characters) a tab? */
static bool is_tab_at(const char *data, size_t len, const yaml_mark_t *m)
{
        size_t i = 0, line = 0, col = 0;
        while (i < len && line < m->line)
                if (data[i++] == '\n')
                        line++;
        for (; i < len && data[i] != '\n'; i++) {
                if (((unsigned char)data[i] & 0xc0) == 0x80)
                        continue;
                if (col++ == m->column)
                        return data[i] == '\t';
        }
        return false;
}

static int parser_error(struct builder *b, const yaml_parser_t *p, const char *data, size_t len)
{
        const char *problem = p->problem ? p->problem : "malformed document";
        if (p->error == YAML_MEMORY_ERROR)
                return berr(b, NULL, -ENOMEM, "loading");
        if (p->error == YAML_READER_ERROR) {
                /* Only a byte offset: count lines up to it. */
                yaml_mark_t m = { 0 };
                for (size_t i = 0; i < p->problem_offset && i < len; i++) {
                        if (data[i] == '\n')
                                m.line++, m.column = 0;
                        else if (((unsigned char)data[i] & 0xc0) != 0x80)
                                m.column++;
                }
                if (p->problem_value != -1)
                        return berr(b, &m, BRIDLE_E_INVALID, "%s (byte 0x%02x)", problem,
                                    (unsigned)p->problem_value);
                return berr(b, &m, BRIDLE_E_INVALID, "%s", problem);
        }
        if (is_tab_at(data, len, &p->problem_mark))
                return berr(b, &p->problem_mark, BRIDLE_E_INVALID,
                            "%s (a tab: YAML is indented with spaces)", problem);
        if (p->context)
                return berr(b, &p->problem_mark, BRIDLE_E_INVALID, "%s (%s at %d:%d)", problem,
                            p->context, (int)p->context_mark.line + 1,
                            (int)p->context_mark.column + 1);
        return berr(b, &p->problem_mark, BRIDLE_E_INVALID, "%s", problem);
}

static int run_parser(struct builder *b, const char *data, size_t len)
{
        yaml_parser_t p;
        if (!yaml_parser_initialize(&p))
                return berr(b, NULL, -ENOMEM, "loading");
        yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
        int r = 0;
        for (bool done = false; !done && r == 0;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = parser_error(b, &p, data, len);
                        break;
                }
                done = ev.type == YAML_STREAM_END_EVENT;
                r = on_event(b, &ev);
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        return r;
}

/* ---- JSON: jansson parses it, a small scanner finds the positions ------------- */

/*
 * Valid JSON takes this path, for exact JSON semantics (escaped surrogate
 * pairs, which libyaml refuses, for one). Anything jansson refuses goes to
 * libyaml instead, which parses JSON-like YAML flow syntax and gives the
 * messages (a duplicate key names both places).
 */
struct jscan {
        struct builder *b;
        const char *s;
        size_t len, i;
        int line, col;
};

static void jadv(struct jscan *j)
{
        unsigned char c = (unsigned char)j->s[j->i++];
        if (c == '\n' || (c == '\r' && (j->i >= j->len || j->s[j->i] != '\n'))) {
                j->line++;
                j->col = 1;
        } else if (c != '\r' && (c & 0xc0) != 0x80) {
                j->col++;
        }
}

static bool jat(const struct jscan *j, const char *set)
{
        return j->i < j->len && j->s[j->i] && strchr(set, j->s[j->i]);
}

static void jws(struct jscan *j)
{
        while (jat(j, " \t\r\n"))
                jadv(j);
}

static void jstring(struct jscan *j)
{
        jadv(j); /* the opening quote */
        while (j->i < j->len && j->s[j->i] != '"') {
                if (j->s[j->i] == '\\' && j->i + 1 < j->len)
                        jadv(j);
                jadv(j);
        }
        if (j->i < j->len)
                jadv(j);
}

static int jerr(struct jscan *j, int code, const char *what)
{
        yaml_mark_t m = { .line = (size_t)j->line - 1, .column = (size_t)j->col - 1 };
        if (code == BRIDLE_E_LIMIT && strcmp(what, "depth") == 0)
                return berr(j->b, &m, code, "nested deeper than %d levels", BRIDLE__DOC_MAX_DEPTH);
        if (code == BRIDLE_E_LIMIT)
                return berr(j->b, &m, code, "more than %u nodes", (unsigned)BRIDLE__DOC_MAX_NODES);
        return berr(j->b, NULL, code, "%s", what);
}

/* Record every value's position in document order (the order of jansson's tree). */
static int jvalue(struct jscan *j, unsigned depth, int key_line, int key_col)
{
        jws(j);
        struct rec r = { .pos = { .line = j->line, .col = j->col } };
        r.pos.key_line = key_line ? key_line : j->line;
        r.pos.key_col = key_line ? key_col : j->col;
        if (++j->b->nodes > BRIDLE__DOC_MAX_NODES)
                return jerr(j, BRIDLE_E_LIMIT, "nodes");
        if (jat(j, "\"")) {
                jstring(j);
                return add_rec(j->b->doc, &r, NULL) < 0 ? jerr(j, -ENOMEM, "loading") : 0;
        }
        if (!jat(j, "{[")) {
                size_t start = j->i;
                while (j->i < j->len && !jat(j, ",]} \t\r\n"))
                        jadv(j);
                char *raw = bridle__strndup(j->s + start, j->i - start);
                if (!raw || add_rec(j->b->doc, &r, raw) < 0)
                        return jerr(j, -ENOMEM, "loading");
                return 0;
        }
        bool obj = j->s[j->i] == '{';
        if (depth >= BRIDLE__DOC_MAX_DEPTH)
                return jerr(j, BRIDLE_E_LIMIT, "depth");
        if (add_rec(j->b->doc, &r, NULL) < 0)
                return jerr(j, -ENOMEM, "loading");
        jadv(j);
        jws(j);
        if (jat(j, "}]")) {
                jadv(j);
                return 0;
        }
        while (j->i < j->len) {
                int kl = 0, kc = 0;
                if (obj) {
                        jws(j);
                        kl = j->line, kc = j->col;
                        jstring(j);
                        jws(j);
                        jadv(j); /* ':' */
                }
                int rr = jvalue(j, depth + 1, kl, kc);
                if (rr < 0)
                        return rr;
                jws(j);
                bool more = jat(j, ",");
                if (j->i < j->len)
                        jadv(j); /* ',' or the closing bracket */
                if (!more)
                        break;
        }
        return 0;
}

/* Pair the recorded positions with jansson's nodes, in the same order. */
static bool jassign(bridle__doc *doc, json_t *v, const json_t *parent, const char *key,
                    size_t index, size_t *k)
{
        if (*k >= doc->n_recs)
                return false;
        struct rec *r = &doc->recs[(*k)++];
        r->node = v;
        r->parent = parent;
        r->key = key;
        r->index = index;
        if (json_is_object(v)) {
                const char *ck;
                json_t *c;
                json_object_foreach (v, ck, c)
                        if (!jassign(doc, c, v, ck, 0, k))
                                return false;
        } else if (json_is_array(v)) {
                size_t i;
                json_t *c;
                json_array_foreach (v, i, c)
                        if (!jassign(doc, c, v, NULL, i, k))
                                return false;
        }
        return true;
}

static void doc_reset(struct builder *b)
{
        bridle__doc *doc = b->doc;
        for (size_t i = 0; i < doc->n_recs; i++)
                free((char *)doc->recs[i].pos.raw);
        doc->n_recs = 0;
        json_decref(doc->root);
        doc->root = NULL;
        b->nodes = 0;
}

/* 1: loaded as JSON; 0: not JSON, try YAML; < 0: error. */
static int try_json(struct builder *b, const char *data, size_t len)
{
        size_t i = 0;
        while (i < len && strchr(" \t\r\n", data[i]) && data[i])
                i++;
        if (i == len || (data[i] != '{' && data[i] != '['))
                return 0;
        json_error_t jerror;
        json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerror);
        if (!root)
                return json_error_code(&jerror) == json_error_out_of_memory
                               ? berr(b, NULL, -ENOMEM, "loading")
                               : 0;
        b->doc->root = root;
        struct jscan j = { .b = b, .s = data, .len = len, .line = 1, .col = 1 };
        int r = jvalue(&j, 0, 0, 0);
        if (r < 0)
                return r;
        size_t k = 0;
        if (!jassign(b->doc, root, NULL, NULL, 0, &k) || k != b->doc->n_recs) {
                doc_reset(b); /* cannot happen with valid JSON; let libyaml have it */
                return 0;
        }
        return 1;
}

static void builder_release(struct builder *b)
{
        for (size_t i = 0; i < b->depth; i++)
                free(b->st[i].key);
        b->depth = 0;
}

int bridle__doc_load(const char *data, size_t len, const char *name, bridle__doc **ret,
                     bridle_error *err)
{
        if ((!data && len) || !ret)
                return bridle__err(err, -EINVAL, "bridle__doc_load: invalid arguments");
        bridle__doc *doc = bridle__calloc(1, sizeof(*doc));
        if (!doc)
                return bridle__err(err, -ENOMEM, "%s", name ? name : "<input>");
        doc->name = bridle__strdup(name ? name : "<input>");
        if (!doc->name) {
                bridle__doc_free(doc);
                return bridle__err(err, -ENOMEM, "%s", name ? name : "<input>");
        }
        struct builder b = { .doc = doc, .err = err };
        int r;
        if (len > BRIDLE__DOC_MAX_SIZE)
                r = berr(&b, NULL, BRIDLE_E_LIMIT, "larger than %u bytes",
                         (unsigned)BRIDLE__DOC_MAX_SIZE);
        else if ((r = try_json(&b, data ? data : "", len)) == 0)
                r = run_parser(&b, data ? data : "", len);
        if (r > 0)
                r = 0;
        builder_release(&b);
        if (r == 0 && !doc->root) {
                /* An empty stream: null at 1:1. */
                yaml_mark_t m = { 0 };
                r = attach(&b, json_null(), &m, NULL);
        }
        if (r == 0 && build_tables(doc) < 0)
                r = berr(&b, NULL, -ENOMEM, "loading");
        if (r < 0) {
                bridle__doc_free(doc);
                return r;
        }
        *ret = doc;
        return 0;
}
