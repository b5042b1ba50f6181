/* SPDX-License-Identifier: MIT */
/*
 * A trace as text (trace.h): the summary, then the span tree, one line per
 * span (start offset and duration on the right), a tool's output and the
 * spans' events on lines of their own under it. No line is wider than the
 * given width (display columns: a wide East Asian character counts two).
 * Control characters of the texts (escape sequences of a tool's output...)
 * never reach the terminal: each becomes a space.
 *
 * And the same spans as JSON lines.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/buf.h"
#include "trace/trace.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MIN_WIDTH 40
#define MAX_WIDTH 1000
#define MAX_DEPTH 24
#define RIGHT     19 /* " +12.345s  1.234 s" */

static const char *str(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static const json_t *attrs(const json_t *s)
{
        return json_object_get(s, "attributes");
}

static const char *astr(const json_t *s, const char *key)
{
        return str(attrs(s), key);
}

/* ---- display columns ------------------------------------------------------------ */

/* Decode one UTF-8 character at s (n bytes left): its length (1 for a
 * malformed byte, then *cp is U+FFFD). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
        unsigned c = s[0];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || len > n) {
                *cp = 0xFFFD;
                return 1;
        }
        unsigned v = len == 1 ? c : c & (0x7F >> len);
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80) {
                        *cp = 0xFFFD;
                        return 1;
                }
                v = (v << 6) | (s[i] & 0x3F);
        }
        *cp = v;
        return len;
}

static unsigned cols_of(unsigned cp)
{
        if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
            (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
            (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) || (cp >= 0x20000 && cp <= 0x3FFFD))
                return 2;
        if ((cp >= 0x300 && cp <= 0x36F) || cp == 0x200B || (cp >= 0xFE00 && cp <= 0xFE0F))
                return 0;
        return 1;
}

/* Append s (n bytes) in at most max columns; control characters (C0, DEL,
 * C1) become spaces and runs of white space one space. Returns the columns
 * used. When s does not fit it ends in "..." (within max). */
static size_t put_cols(bridle__tracebuf *b, const char *s, size_t n, size_t max)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t used = 0, i = 0;
        bool space = false;
        while (i < n) {
                unsigned cp;
                size_t len = utf8_next(p + i, n - i, &cp);
                bool ctl = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029;
                if (ctl || cp == ' ') {
                        i += len;
                        if (!space && used > 0)
                                space = true;
                        continue;
                }
                unsigned w = cols_of(cp);
                size_t need = used + (space ? 1 : 0) + w;
                /* room for this character and, if more follows, for "..." */
                if (need > max || (need + 3 > max && i + len < n)) {
                        size_t dots = max - used < 3 ? max - used : 3;
                        bridle__tracebuf_add(b, "...", dots);
                        return used + dots;
                }
                if (space) {
                        bridle__tracebuf_add(b, " ", 1);
                        used++;
                        space = false;
                }
                if (cp == 0xFFFD && len == 1)
                        bridle__tracebuf_add(b, "?", 1);
                else
                        bridle__tracebuf_add(b, (const char *)p + i, len);
                used += w;
                i += len;
        }
        return used;
}

static size_t put(bridle__tracebuf *b, const char *s, size_t max)
{
        return s ? put_cols(b, s, strlen(s), max) : 0;
}

static void pad(bridle__tracebuf *b, size_t n)
{
        static const char spaces[] = "                                ";
        while (n > 0) {
                size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
                bridle__tracebuf_add(b, spaces, k);
                n -= k;
        }
}

/* ---- the summary -------------------------------------------------------------------- */

static void field(bridle__tracebuf *b, unsigned width, const char *label, const char *value)
{
        if (!value || !*value)
                return;
        bridle__tracebuf_printf(b, "%-8s ", label);
        (void)put(b, value, width - 9);
        bridle__tracebuf_add(b, "\n", 1);
}

static void models_line(bridle__tracebuf *b, unsigned width, const json_t *summary)
{
        const char *m;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(summary, "models"), m, v)
        {
                char line[512];
                (void)snprintf(line, sizeof(line), "%s: %lld requests, %lld in, %lld out, $%.6f", m,
                               (long long)json_integer_value(json_object_get(v, "requests")),
                               (long long)json_integer_value(json_object_get(v, "input_tokens")),
                               (long long)json_integer_value(json_object_get(v, "output_tokens")),
                               json_number_value(json_object_get(v, "cost_usd")));
                field(b, width, "model", line);
        }
}

static void tools_line(bridle__tracebuf *b, unsigned width, const json_t *summary)
{
        const char *t;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(summary, "tools"), t, v)
        {
                char line[512];
                long long failed = json_integer_value(json_object_get(v, "failed"));
                long long denied = json_integer_value(json_object_get(v, "denied"));
                long long calls = json_integer_value(json_object_get(v, "calls"));
                int n = snprintf(line, sizeof(line), "%s: %lld call%s", t, calls, calls == 1 ? "" : "s");
                if (n > 0 && (size_t)n < sizeof(line) && failed)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, ", %lld failed", failed);
                if (n > 0 && (size_t)n < sizeof(line) && denied)
                        (void)snprintf(line + n, sizeof(line) - (size_t)n, ", %lld denied", denied);
                field(b, width, "tool", line);
        }
}

static void summary_text(bridle__tracebuf *b, unsigned width, const json_t *s)
{
        char line[512];
        (void)snprintf(line, sizeof(line), "%s  %s%s%s", str(s, "run_id") ?: "", str(s, "status") ?: "",
                       str(s, "where") ? " in " : "", str(s, "where") ?: "");
        field(b, width, "run", line);
        field(b, width, "agent", str(s, "agent"));
        field(b, width, "task", str(s, "task"));
        const char *st = str(s, "status");
        if (st && strcmp(st, "completed") != 0)
                field(b, width, "reason", str(s, "reason"));
        field(b, width, "output", str(s, "final_output"));
        const json_t *tok = json_object_get(s, "tokens");
        (void)snprintf(line, sizeof(line), "%lld turns, %lld in / %lld out tokens, $%.6f, sandbox %.1f s",
                       (long long)json_integer_value(json_object_get(s, "turns")),
                       (long long)json_integer_value(json_object_get(tok, "input")),
                       (long long)json_integer_value(json_object_get(tok, "output")),
                       json_number_value(json_object_get(s, "cost_usd")),
                       json_number_value(json_object_get(s, "sandbox_seconds")));
        field(b, width, "total", line);
        models_line(b, width, s);
        tools_line(b, width, s);
        bridle__tracebuf_add(b, "\n", 1);
}

/* ---- one span's line ------------------------------------------------------------------- */

static void duration(int64_t ms, char *out, size_t cap)
{
        if (ms < 1000)
                (void)snprintf(out, cap, "%lld ms", (long long)ms);
        else if (ms < 60000)
                (void)snprintf(out, cap, "%.2f s", (double)ms / 1000.0);
        else
                (void)snprintf(out, cap, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

static void offset(int64_t ms, char *out, size_t cap)
{
        if (ms < 100000)
                (void)snprintf(out, cap, "+%.3fs", (double)ms / 1000.0);
        else
                (void)snprintf(out, cap, "+%llds", (long long)(ms / 1000));
}

static const char *tool_state(const json_t *s)
{
        const json_t *a = attrs(s);
        if (json_is_true(json_object_get(a, "bridle.tool.denied")))
                return "DENIED";
        if (json_is_true(json_object_get(a, "bridle.incomplete")))
                return "no result";
        return json_is_false(json_object_get(a, "bridle.tool.ok")) ? "FAILED" : "ok";
}

/* The span's label: its name and what matters most about it. */
static void label(const json_t *s, char *out, size_t cap)
{
        const char *name = str(s, "name") ?: "?";
        const json_t *a = attrs(s);
        if (strcmp(name, "run") == 0)
                (void)snprintf(out, cap, "run %s", astr(s, "bridle.run.status") ?: "running");
        else if (strncmp(name, "agent ", 6) == 0)
                (void)snprintf(out, cap, "%s (%s)", name, astr(s, "gen_ai.request.model") ?: "?");
        else if (strncmp(name, "chat ", 5) == 0)
                (void)snprintf(out, cap, "%s  %lld in, %lld out, $%.6f%s", name,
                               (long long)json_integer_value(json_object_get(a, "gen_ai.usage.input_tokens")),
                               (long long)json_integer_value(json_object_get(a, "gen_ai.usage.output_tokens")),
                               json_number_value(json_object_get(a, "bridle.cost_usd")),
                               strcmp(str(s, "status") ?: "", "error") == 0 ? "  ERROR" : "");
        else if (strncmp(name, "tool ", 5) == 0)
                (void)snprintf(out, cap, "%s %s %s", name, tool_state(s), astr(s, "bridle.tool.arguments") ?: "");
        else if (strcmp(name, "gateway") == 0)
                (void)snprintf(out, cap, "gateway %s (%s)", astr(s, "bridle.decision") ?: "?",
                               astr(s, "bridle.rule") ?: "");
        else if (strcmp(name, "approval") == 0)
                (void)snprintf(out, cap, "approval %s%s%s (%s)", astr(s, "bridle.approval.decision") ?: "?",
                               astr(s, "bridle.approval.by") ? " by " : "", astr(s, "bridle.approval.by") ?: "",
                               astr(s, "bridle.rule") ?: "");
        else if (strcmp(name, "sandbox") == 0)
                (void)snprintf(out, cap, "sandbox %s%s%s", astr(s, "bridle.sandbox.id") ?: "?",
                               astr(s, "bridle.sandbox.reason") ? " " : "", astr(s, "bridle.sandbox.reason") ?: "");
        else if (strcmp(name, "checkpoint") == 0)
                (void)snprintf(out, cap, "checkpoint %s %s", astr(s, "bridle.snapshot.id") ?: "?",
                               astr(s, "bridle.checkpoint.reason") ?: "");
        else if (strcmp(name, "handoff") == 0)
                (void)snprintf(out, cap, "handoff %s -> %s", astr(s, "bridle.handoff.from") ?: "?",
                               astr(s, "bridle.handoff.to") ?: "?");
        else if (strcmp(name, "guardrail") == 0)
                (void)snprintf(out, cap, "guardrail %s %s: %s", astr(s, "bridle.guardrail.kind") ?: "?",
                               astr(s, "bridle.guardrail.type") ?: "?", astr(s, "bridle.guardrail.reason") ?: "");
        else
                (void)snprintf(out, cap, "%s", name);
}

struct tree {
        const json_t *spans;
        json_t *children; /* span_id -> [indices] */
        int64_t t0;
        unsigned width;
        bool last[MAX_DEPTH + 1]; /* per level: the ancestor is its parent's last child */
        bridle__tracebuf *b;
};

/* The tree's prefix for a span at depth d (its own branch when head). */
static size_t prefix(struct tree *t, unsigned depth, bool head)
{
        size_t cols = 0;
        for (unsigned l = 1; l <= depth; l++) {
                if (l < depth || !head)
                        bridle__tracebuf_puts(t->b, t->last[l] ? "   " : "\xe2\x94\x82  ");
                else
                        bridle__tracebuf_puts(t->b, t->last[l] ? "\xe2\x94\x94\xe2\x94\x80 " : "\xe2\x94\x9c\xe2\x94\x80 ");
                cols += 3;
        }
        return cols;
}

/* A line under the span: its prefix, then text. */
static void sub_line(struct tree *t, unsigned depth, bool has_children, const char *lead, const char *text,
                     size_t len)
{
        size_t cols = prefix(t, depth, false);
        if (cols + 3 < t->width) {
                bridle__tracebuf_puts(t->b, has_children ? "\xe2\x94\x82  " : "   ");
                cols += 3;
        }
        if (cols + strlen(lead) < t->width) {
                bridle__tracebuf_puts(t->b, lead);
                cols += strlen(lead);
                (void)put_cols(t->b, text, len, t->width - cols);
        }
        bridle__tracebuf_add(t->b, "\n", 1);
}

/* " key=value" (the key's last part) for a scalar attribute of an event. */
static int event_attr(char *line, size_t cap, int n, const char *k, const json_t *v)
{
        if (n < 0 || (size_t)n >= cap || strstr(k, ".truncated"))
                return n;
        const char *dot = strrchr(k, '.');
        const char *key = dot ? dot + 1 : k;
        if (json_is_string(v))
                return n + snprintf(line + n, cap - (size_t)n, " %s=%s", key, json_string_value(v));
        if (json_is_integer(v))
                return n + snprintf(line + n, cap - (size_t)n, " %s=%lld", key, (long long)json_integer_value(v));
        if (json_is_boolean(v))
                return n + snprintf(line + n, cap - (size_t)n, " %s=%s", key, json_is_true(v) ? "true" : "false");
        return n;
}

static void event_lines(struct tree *t, const json_t *s, unsigned depth, bool has_children)
{
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(s, "events"), i, e)
        {
                char line[600];
                int n = snprintf(line, sizeof(line), "%s", str(e, "name") ?: "?");
                const char *k;
                const json_t *v;
                json_object_foreach((json_t *)attrs(e), k, v)
                {
                        n = event_attr(line, sizeof(line), n, k, v);
                }
                sub_line(t, depth, has_children, "! ", line, strlen(line));
        }
}

static void span_line(struct tree *t, const json_t *s, unsigned depth)
{
        int64_t start = json_integer_value(json_object_get(s, "start_ms"));
        int64_t end = json_integer_value(json_object_get(s, "end_ms"));
        size_t cols = prefix(t, depth, true);
        char lab[1024], off[32], dur[32];
        label(s, lab, sizeof(lab));
        size_t room = t->width > cols + RIGHT ? t->width - cols - RIGHT : 0;
        cols += put(t->b, lab, room);
        pad(t->b, cols < t->width - RIGHT ? t->width - RIGHT - cols : 0);
        offset(start - t->t0, off, sizeof(off));
        duration(end - start, dur, sizeof(dur));
        bridle__tracebuf_printf(t->b, " %9s %8s\n", off, dur);
}

static void walk(struct tree *t, size_t idx, unsigned depth)
{
        const json_t *s = json_array_get(t->spans, idx);
        const json_t *kids = json_object_get(t->children, str(s, "span_id") ?: "");
        bool has_children = json_array_size(kids) > 0 && depth < MAX_DEPTH;
        span_line(t, s, depth);
        const char *out = astr(s, "bridle.tool.output");
        if (out)
                sub_line(t, depth, has_children, "= ", out, strlen(out));
        const char *text = astr(s, "bridle.response.text");
        if (text)
                sub_line(t, depth, has_children, "> ", text, strlen(text));
        event_lines(t, s, depth, has_children);
        if (!has_children)
                return;
        size_t i;
        const json_t *k;
        json_array_foreach(kids, i, k)
        {
                t->last[depth + 1] = i + 1 == json_array_size(kids);
                walk(t, (size_t)json_integer_value(k), depth + 1);
        }
}

static int index_children(struct tree *t)
{
        size_t i;
        const json_t *s;
        json_array_foreach(t->spans, i, s)
        {
                const char *p = str(s, "parent_span_id");
                if (!p)
                        continue;
                json_t *list = json_object_get(t->children, p);
                if (!list) {
                        list = json_array();
                        if (!list || json_object_set_new(t->children, p, list) < 0)
                                return -ENOMEM;
                }
                if (json_array_append_new(list, json_integer((json_int_t)i)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int bridle__trace_text(const json_t *summary, const json_t *spans, unsigned width, char **ret, bridle_error *err)
{
        if (!ret || !json_is_array(spans))
                return bridle__err(err, -EINVAL, "trace text: no spans");
        if (width == 0)
                width = 80;
        width = width < MIN_WIDTH ? MIN_WIDTH : width > MAX_WIDTH ? MAX_WIDTH : width;
        bridle__tracebuf b = {0};
        json_auto_t *children = json_object();
        struct tree t = {.spans = spans, .children = children, .width = width, .b = &b};
        if (!children || index_children(&t) < 0)
                return bridle__err(err, -ENOMEM, "trace text: out of memory");
        if (summary)
                summary_text(&b, width, summary);
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s)
        {
                if (json_object_get(s, "parent_span_id"))
                        continue;
                t.t0 = json_integer_value(json_object_get(s, "start_ms"));
                walk(&t, i, 0);
        }
        char *text = bridle__tracebuf_take(&b);
        if (!text)
                return bridle__err(err, -ENOMEM, "trace text: out of memory or over %zu bytes", BRIDLE__TRACEBUF_MAX);
        *ret = text;
        return 0;
}

int bridle__trace_jsonl(const json_t *spans, char **ret, bridle_error *err)
{
        if (!ret || !json_is_array(spans))
                return bridle__err(err, -EINVAL, "trace jsonl: no spans");
        bridle__tracebuf b = {0};
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s)
        {
                _cleanup_free_ char *line = json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(12));
                if (!line) {
                        b.failed = true;
                        break;
                }
                bridle__tracebuf_puts(&b, line);
                bridle__tracebuf_add(&b, "\n", 1);
        }
        char *text = bridle__tracebuf_take(&b);
        if (!text)
                return bridle__err(err, -ENOMEM, "trace jsonl: out of memory or over %zu bytes", BRIDLE__TRACEBUF_MAX);
        *ret = text;
        return 0;
}
