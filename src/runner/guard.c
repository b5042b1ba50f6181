/* SPDX-License-Identifier: MIT */
/*
 * The runner's use of src/guard/: one secret scanner per run that knows the
 * run's API keys (so they are redacted wherever a tool prints them), and the
 * entry agent's guardrails, checked on the task and on the final output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "util/error.h"

int bridle__run_guard_init(bridle__run *R, bridle_error *err)
{
        int r = bridle__secrets_new(&R->secrets, err);
        const char *name;
        json_t *a;
        json_object_foreach(json_object_get(R->def, "agents"), name, a) {
                const char *env = json_string_value(json_object_get(a, "api_key_env"));
                const char *key = env ? getenv(env) : NULL;
                /* Short values are not secrets the scanner can track; skip them. */
                if (r == 0 && key && strlen(key) >= 8) {
                        (void)bridle__secrets_add_known(R->secrets, key, strlen(key), NULL);
                        if (R->n_known < sizeof(R->known) / sizeof(R->known[0]))
                                R->known[R->n_known++] = key;
                }
        }
        json_t *entry = json_object_get(json_object_get(R->def, "agents"),
                                        json_string_value(json_object_get(R->def, "entry")));
        json_t *g = json_object_get(entry, "guardrails");
        if (r == 0 && json_is_object(g))
                r = bridle__guards_from_json(g, &R->guards, err);
        return r;
}

/* ---- pieces of secrets -----------------------------------------------------------
 * Outputs are cut to a head and a tail before the harness sees them, so a
 * secret may arrive in pieces the scanner cannot recognise. Two more passes:
 * any run of 8 or more characters of a known value (the run's API keys), and
 * a token of 8 or more characters that touches a cut marker and holds both a
 * letter and a digit (the visible end of a cut secret), are redacted too. */

#define PIECE_MIN 8

struct span {
        size_t a, b;
};

static bool tokch(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '+' || c == '/' || c == '=' || c == '.';
}

static void add_span(struct span *v, size_t *n, size_t cap, size_t a, size_t b)
{
        if (*n < cap && b > a)
                v[(*n)++] = (struct span){ a, b };
}

static void known_pieces(const bridle__run *R, const char *t, size_t len, struct span *v, size_t *n, size_t cap)
{
        for (size_t k = 0; k < R->n_known; k++) {
                const char *key = R->known[k];
                size_t kl = strlen(key);
                for (size_t j = 0; j + PIECE_MIN <= kl; j++)
                        for (const char *p = t; (p = memmem(p, len - (size_t)(p - t), key + j, PIECE_MIN));
                             p++) {
                                size_t a = (size_t)(p - t), b = a + PIECE_MIN, kj = j + PIECE_MIN;
                                while (b < len && kj < kl && t[b] == key[kj])
                                        b++, kj++;
                                add_span(v, n, cap, a, b);
                        }
        }
}

static bool looks_secret(const char *t, size_t a, size_t b)
{
        bool alpha = false, digit = false;
        for (size_t i = a; i < b; i++) {
                unsigned char c = (unsigned char)t[i];
                alpha |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                digit |= c >= '0' && c <= '9';
        }
        return b - a >= PIECE_MIN && alpha && digit;
}

static void cut_pieces(const char *t, size_t len, struct span *v, size_t *n, size_t cap)
{
        static const char *const starts[] = { "[... ", NULL };
        for (const char *p = t; (p = memmem(p, len - (size_t)(p - t), starts[0], 5)); p++) {
                const char *end = memchr(p, ']', len - (size_t)(p - t));
                if (!end || !memmem(p, (size_t)(end - p), "cut", 3))
                        continue;
                /* the token before the marker (skipping the newline it starts with) */
                size_t b = (size_t)(p - t);
                while (b > 0 && (t[b - 1] == '\n' || t[b - 1] == '\r'))
                        b--;
                size_t a = b;
                while (a > 0 && tokch((unsigned char)t[a - 1]))
                        a--;
                if (looks_secret(t, a, b))
                        add_span(v, n, cap, a, b);
                /* the token after it */
                size_t c = (size_t)(end - t) + 1;
                while (c < len && (t[c] == '\n' || t[c] == '\r'))
                        c++;
                size_t d = c;
                while (d < len && tokch((unsigned char)t[d]))
                        d++;
                if (looks_secret(t, c, d))
                        add_span(v, n, cap, c, d);
        }
}

static int span_cmp(const void *x, const void *y)
{
        const struct span *a = x, *b = y;
        return a->a < b->a ? -1 : a->a > b->a;
}

/* text with the spans replaced by "[REDACTED:piece]" (merged when they overlap). */
static char *replace_spans(const char *t, size_t len, struct span *v, size_t n)
{
        static const char mark[] = "[REDACTED:piece]";
        qsort(v, n, sizeof(*v), span_cmp);
        char *out = malloc(len + n * sizeof(mark) + 1);
        if (!out)
                return NULL;
        size_t o = 0, at = 0;
        for (size_t i = 0; i < n; i++) {
                if (v[i].b <= at)
                        continue;
                size_t a = v[i].a < at ? at : v[i].a;
                memcpy(out + o, t + at, a - at);
                o += a - at;
                if (v[i].a >= at) {
                        memcpy(out + o, mark, sizeof(mark) - 1);
                        o += sizeof(mark) - 1;
                }
                at = v[i].b;
        }
        memcpy(out + o, t + at, len - at);
        o += len - at;
        out[o] = '\0';
        return out;
}

char *bridle__run_redact(const bridle__run *R, const char *text, bridle_error *err)
{
        char *out = NULL;
        size_t len = 0;
        if (bridle__secrets_redact(R->secrets, text, strlen(text), &out, &len, NULL, err) < 0)
                return NULL;
        struct span v[256];
        size_t n = 0;
        known_pieces(R, out, len, v, &n, 256);
        cut_pieces(out, len, v, &n, 256);
        if (n == 0)
                return out;
        char *again = replace_spans(out, len, v, n);
        free(out);
        if (!again)
                (void)bridle__err(err, -ENOMEM, "redaction");
        return again;
}

bool bridle__run_guard_trips(bridle__run *R, enum bridle__guard_kind kind, const char *text, char *why, size_t cap)
{
        if (!bridle__guards_count(R->guards, kind))
                return false;
        bridle__guard_verdict v;
        bridle_error e = { 0 };
        int r = bridle__guards_check(R->guards, kind, text, strlen(text), R->secrets, &v, &e);
        if (r == 0 && !v.tripped)
                return false;
        if (r < 0)
                (void)snprintf(why, cap, "%s guardrail could not be checked: %s", bridle__guard_kind_name(kind), e.msg);
        else
                (void)snprintf(why, cap, "%s guardrail %zu (%s) tripped: %s", bridle__guard_kind_name(kind), v.index,
                               bridle__guard_type_name(v.type), v.reason);
        (void)bridle__run_emit_sync(R, "guardrail.tripped",
                                    json_pack("{s:s,s:I,s:s,s:s}", "kind", bridle__guard_kind_name(kind), "index",
                                              (json_int_t)(r < 0 ? -1 : (json_int_t)v.index), "type",
                                              r < 0 ? "error" : bridle__guard_type_name(v.type), "reason", why),
                                    false, NULL);
        return true;
}
