/* SPDX-License-Identifier: MIT */
/*
 * The secret scanner: known values (the harness's own credentials) and the
 * built-in detectors (detect.c), merged into one ordered list of findings,
 * and redaction.
 *
 * Known values are matched with Knuth-Morris-Pratt over a filtered view of
 * the text that leaves out line breaks ("\r", "\n") and their JSON escapes
 * ("\\r", "\\n"), so a value split across lines, or across lines of JSON
 * text, is still found. Each value is searched as written, JSON-escaped, and
 * JSON-escaped with "\/" for "/". Cost: one pass per pattern.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MAX_KNOWN_HITS ((size_t)1 << 20)
#define MAX_PATTERNS   (BRIDLE__SECRETS_MAX_KNOWN * 3)

struct pattern {
        unsigned char *p; /* filtered */
        size_t m;
        size_t *fail; /* KMP failure function */
};

struct bridle__secrets {
        struct pattern pats[MAX_PATTERNS];
        size_t n_pats;
        size_t n_known;
};

static const char *const kind_names[BRIDLE__SECRET_KIND_COUNT] = {
        [BRIDLE__SECRET_KNOWN] = "known",
        [BRIDLE__SECRET_PRIVATE_KEY] = "private_key",
        [BRIDLE__SECRET_OPENAI_KEY] = "openai_key",
        [BRIDLE__SECRET_ANTHROPIC_KEY] = "anthropic_key",
        [BRIDLE__SECRET_AWS_ACCESS_KEY] = "aws_access_key",
        [BRIDLE__SECRET_AWS_SECRET_KEY] = "aws_secret_key",
        [BRIDLE__SECRET_GITHUB_TOKEN] = "github_token",
        [BRIDLE__SECRET_GITLAB_TOKEN] = "gitlab_token",
        [BRIDLE__SECRET_SLACK_TOKEN] = "slack_token",
        [BRIDLE__SECRET_STRIPE_KEY] = "stripe_key",
        [BRIDLE__SECRET_GOOGLE_API_KEY] = "google_api_key",
        [BRIDLE__SECRET_JWT] = "jwt",
        [BRIDLE__SECRET_BEARER_TOKEN] = "bearer_token",
        [BRIDLE__SECRET_URL_PASSWORD] = "url_password",
        [BRIDLE__SECRET_HIGH_ENTROPY] = "high_entropy",
};

const char *bridle__secret_kind_name(enum bridle__secret_kind kind)
{
        if ((unsigned)kind >= BRIDLE__SECRET_KIND_COUNT)
                return "unknown";
        return kind_names[kind];
}

int bridle__secrets_new(bridle__secrets **ret, bridle_error *err)
{
        bridle__secrets *s = bridle__calloc(1, sizeof(*s));
        if (!s)
                return bridle__err(err, -ENOMEM, "allocating the secret scanner");
        *ret = s;
        return 0;
}

bridle__secrets *bridle__secrets_free(bridle__secrets *s)
{
        if (!s)
                return NULL;
        for (size_t k = 0; k < s->n_pats; k++) {
                free(s->pats[k].p);
                free(s->pats[k].fail);
        }
        free(s);
        return NULL;
}

/* ---- the filtered view --------------------------------------------------- */

typedef void (*emit_fn)(void *ud, unsigned char c, size_t off);

/* Feed t to emit without line breaks and their JSON escapes; other escape
 * pairs go through as two bytes, so "\\\\n" is a backslash then 'n'. */
static void filter(const unsigned char *t, size_t n, emit_fn emit, void *ud)
{
        size_t i = 0;
        while (i < n) {
                unsigned char c = t[i];
                if (c == '\r' || c == '\n') {
                        i++;
                } else if (c == '\\' && i + 1 < n && (t[i + 1] == 'n' || t[i + 1] == 'r')) {
                        i += 2;
                } else if (c == '\\' && i + 1 < n) {
                        emit(ud, c, i);
                        emit(ud, t[i + 1], i + 1);
                        i += 2;
                } else {
                        emit(ud, c, i);
                        i++;
                }
        }
}

struct collect {
        unsigned char *buf;
        size_t len;
};

static void collect_emit(void *ud, unsigned char c, size_t off)
{
        struct collect *c0 = ud;
        c0->buf[c0->len++] = c;
}

/* ---- patterns -------------------------------------------------------------- */

static bool have_pattern(const bridle__secrets *s, const unsigned char *p, size_t m)
{
        for (size_t k = 0; k < s->n_pats; k++)
                if (s->pats[k].m == m && !memcmp(s->pats[k].p, p, m))
                        return true;
        return false;
}

static int add_pattern(bridle__secrets *s, const unsigned char *raw, size_t len, bridle_error *err)
{
        _cleanup_free_ unsigned char *p = bridle__malloc(len ? len : 1);
        if (!p)
                return bridle__err(err, -ENOMEM, "adding a known secret");
        struct collect c = {.buf = p};
        filter(raw, len, collect_emit, &c);
        if (c.len < BRIDLE__SECRETS_MIN_KNOWN_LEN)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "a known secret must be at least %d bytes long",
                                   BRIDLE__SECRETS_MIN_KNOWN_LEN);
        if (have_pattern(s, p, c.len))
                return 0;
        assert(s->n_pats < MAX_PATTERNS);
        _cleanup_free_ size_t *fail = bridle__calloc(c.len, sizeof(size_t));
        if (!fail)
                return bridle__err(err, -ENOMEM, "adding a known secret");
        for (size_t q = 1, k = 0; q < c.len; q++) {
                while (k > 0 && p[k] != p[q])
                        k = fail[k - 1];
                if (p[k] == p[q])
                        k++;
                fail[q] = k;
        }
        s->pats[s->n_pats++] =
                (struct pattern){.p = TAKE_PTR(p), .m = c.len, .fail = TAKE_PTR(fail)};
        return 0;
}

/* JSON escaping as jansson writes it (slash: also "/" as "\/"). */
static unsigned char *json_escape(const unsigned char *v, size_t len, bool slash, size_t *ret_len)
{
        unsigned char *out = bridle__malloc(len * 6 + 1);
        if (!out)
                return NULL;
        size_t o = 0;
        static const char hexd[] = "0123456789abcdef";
        for (size_t k = 0; k < len; k++) {
                unsigned char c = v[k];
                const char *e = c == '"'              ? "\\\""
                                : c == '\\'           ? "\\\\"
                                : c == '\b'           ? "\\b"
                                : c == '\f'           ? "\\f"
                                : c == '\n'           ? "\\n"
                                : c == '\r'           ? "\\r"
                                : c == '\t'           ? "\\t"
                                : (c == '/' && slash) ? "\\/"
                                                      : NULL;
                if (e) {
                        memcpy(out + o, e, 2);
                        o += 2;
                } else if (c < 0x20) {
                        memcpy(out + o, "\\u00", 4);
                        out[o + 4] = (unsigned char)hexd[c >> 4];
                        out[o + 5] = (unsigned char)hexd[c & 15];
                        o += 6;
                } else {
                        out[o++] = c;
                }
        }
        *ret_len = o;
        return out;
}

int bridle__secrets_add_known(bridle__secrets *s, const char *value, size_t len, bridle_error *err)
{
        if (!s || (!value && len))
                return bridle__err(err, -EINVAL, "adding a known secret: no scanner or value");
        if (s->n_known >= BRIDLE__SECRETS_MAX_KNOWN)
                return bridle__err(err, BRIDLE_E_LIMIT, "more than %d known secrets",
                                   BRIDLE__SECRETS_MAX_KNOWN);
        if (len > BRIDLE__SECRETS_MAX_KNOWN_LEN)
                return bridle__err(err, BRIDLE_E_INVALID, "a known secret is longer than %d bytes",
                                   BRIDLE__SECRETS_MAX_KNOWN_LEN);
        size_t before = s->n_pats;
        int r = add_pattern(s, (const unsigned char *)value, len, err);
        for (int slash = 0; r >= 0 && slash < 2; slash++) {
                size_t el = 0;
                _cleanup_free_ unsigned char *e =
                        json_escape((const unsigned char *)value, len, slash, &el);
                r = e ? add_pattern(s, e, el, err)
                      : bridle__err(err, -ENOMEM, "adding a known secret");
        }
        if (r < 0) {
                while (s->n_pats > before) {
                        s->n_pats--;
                        free(s->pats[s->n_pats].p);
                        free(s->pats[s->n_pats].fail);
                }
                return r;
        }
        s->n_known++;
        return 0;
}

/* ---- known-value hits ------------------------------------------------------ */

struct span {
        size_t start, end;
};

struct kmp {
        const struct pattern *pat;
        size_t q;
        size_t k;     /* filtered bytes seen */
        size_t *ring; /* offsets of the last m filtered bytes */
        struct span **hits;
        size_t *n_hits, *cap_hits;
        int r;
};

static void kmp_emit(void *ud, unsigned char c, size_t off)
{
        struct kmp *st = ud;
        const struct pattern *p = st->pat;
        if (st->r < 0)
                return;
        st->ring[st->k % p->m] = off;
        st->k++;
        while (st->q > 0 && p->p[st->q] != c)
                st->q = p->fail[st->q - 1];
        if (p->p[st->q] == c)
                st->q++;
        if (st->q < p->m)
                return;
        st->q = p->fail[p->m - 1];
        if (*st->n_hits == *st->cap_hits) {
                if (*st->cap_hits >= MAX_KNOWN_HITS) {
                        st->r = BRIDLE_E_LIMIT;
                        return;
                }
                size_t nc = *st->cap_hits ? *st->cap_hits * 2 : 16;
                struct span *h = bridle__realloc(*st->hits, nc * sizeof(**st->hits));
                if (!h) {
                        st->r = -ENOMEM;
                        return;
                }
                *st->hits = h;
                *st->cap_hits = nc;
        }
        (*st->hits)[(*st->n_hits)++] = (struct span){st->ring[st->k % p->m], off + 1};
}

static int cmp_span(const void *a, const void *b)
{
        const struct span *x = a, *y = b;
        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        return x->end < y->end ? -1 : x->end > y->end;
}

/* All known-value hits, sorted and merged where they overlap. */
static int known_hits(const bridle__secrets *s, const unsigned char *t, size_t n, struct span **ret,
                      size_t *ret_n)
{
        _cleanup_free_ struct span *hits = NULL;
        size_t nh = 0, cap = 0;
        for (size_t k = 0; s && k < s->n_pats; k++) {
                _cleanup_free_ size_t *ring = bridle__calloc(s->pats[k].m, sizeof(size_t));
                if (!ring)
                        return -ENOMEM;
                struct kmp st = {.pat = &s->pats[k],
                                 .ring = ring,
                                 .hits = &hits,
                                 .n_hits = &nh,
                                 .cap_hits = &cap};
                filter(t, n, kmp_emit, &st);
                if (st.r < 0)
                        return st.r;
        }
        if (nh > 1)
                qsort(hits, nh, sizeof(*hits), cmp_span);
        size_t w = 0;
        for (size_t k = 0; k < nh; k++) {
                if (w && hits[k].start < hits[w - 1].end) {
                        if (hits[k].end > hits[w - 1].end)
                                hits[w - 1].end = hits[k].end;
                } else {
                        hits[w++] = hits[k];
                }
        }
        *ret_n = w;
        *ret = TAKE_PTR(hits);
        return 0;
}

/* ---- merging known hits and detector hits ---------------------------------- */

struct merge {
        const struct span *known;
        size_t n_known, next;
        bool pending;
        enum bridle__secret_kind kind;
        size_t start, end;
        guard_sink_fn sink;
        void *ud;
};

static int merge_add(struct merge *m, enum bridle__secret_kind kind, size_t start, size_t end)
{
        if (m->pending && start < m->end) {
                if (end > m->end)
                        m->end = end;
                if (kind == BRIDLE__SECRET_KNOWN)
                        m->kind = kind;
                return 0;
        }
        if (m->pending) {
                int r = m->sink(m->ud, m->kind, m->start, m->end);
                if (r < 0)
                        return r;
        }
        m->pending = true;
        m->kind = kind;
        m->start = start;
        m->end = end;
        return 0;
}

static int merge_known_until(struct merge *m, size_t pos)
{
        while (m->next < m->n_known && m->known[m->next].start <= pos) {
                int r = merge_add(m, BRIDLE__SECRET_KNOWN, m->known[m->next].start,
                                  m->known[m->next].end);
                if (r < 0)
                        return r;
                m->next++;
        }
        return 0;
}

static int merge_sink(void *ud, enum bridle__secret_kind kind, size_t start, size_t end)
{
        struct merge *m = ud;
        int r = merge_known_until(m, start);
        return r < 0 ? r : merge_add(m, kind, start, end);
}

static int scan_all(const bridle__secrets *s, const char *text, size_t len, guard_sink_fn sink,
                    void *ud)
{
        const unsigned char *t = (const unsigned char *)text;
        _cleanup_free_ struct span *known = NULL;
        size_t nk = 0;
        int r = known_hits(s, t, len, &known, &nk);
        if (r < 0)
                return r;
        struct merge m = {.known = known, .n_known = nk, .sink = sink, .ud = ud};
        r = bridle__detect_secrets(t, len, merge_sink, &m);
        if (r >= 0)
                r = merge_known_until(&m, len);
        if (r >= 0 && m.pending)
                r = sink(ud, m.kind, m.start, m.end);
        return r;
}

static int scan_fail(bridle_error *err, int r)
{
        if (r == BRIDLE_E_LIMIT)
                return bridle__err(err, r, "scanning for secrets: more than %zu known-secret hits",
                                   MAX_KNOWN_HITS);
        return bridle__err(err, r, "scanning for secrets");
}

/* ---- scan ------------------------------------------------------------------ */

struct store {
        bridle__secret_finding *out;
        size_t max, count;
};

static int store_sink(void *ud, enum bridle__secret_kind kind, size_t start, size_t end)
{
        struct store *st = ud;
        if (st->count < st->max)
                st->out[st->count] = (bridle__secret_finding){kind, start, end - start};
        st->count++;
        return 0;
}

long bridle__secrets_scan(const bridle__secrets *s, const char *text, size_t len,
                          bridle__secret_finding *out, size_t max, bridle_error *err)
{
        if ((!text && len) || (!out && max))
                return bridle__err(err, -EINVAL, "scanning for secrets: no text");
        struct store st = {.out = out, .max = max};
        int r = scan_all(s, text, len, store_sink, &st);
        if (r < 0)
                return scan_fail(err, r);
        return (long)st.count;
}

/* ---- redact ---------------------------------------------------------------- */

struct redact {
        const char *text;
        char *buf;
        size_t len, cap, last, count;
};

static int put(struct redact *rd, const char *s, size_t n)
{
        if (n == 0)
                return 0;
        if (rd->cap - rd->len <= n) {
                size_t nc = rd->cap;
                while (nc - rd->len <= n)
                        nc = nc * 2;
                char *b = bridle__realloc(rd->buf, nc);
                if (!b)
                        return -ENOMEM;
                rd->buf = b;
                rd->cap = nc;
        }
        memcpy(rd->buf + rd->len, s, n);
        rd->len += n;
        rd->buf[rd->len] = '\0';
        return 0;
}

static int redact_sink(void *ud, enum bridle__secret_kind kind, size_t start, size_t end)
{
        struct redact *rd = ud;
        char tag[64];
        int tl = snprintf(tag, sizeof(tag), "[REDACTED:%s]", bridle__secret_kind_name(kind));
        int r = put(rd, rd->text + rd->last, start - rd->last);
        if (r >= 0)
                r = put(rd, tag, (size_t)tl);
        rd->last = end;
        rd->count++;
        return r;
}

int bridle__secrets_redact(const bridle__secrets *s, const char *text, size_t len, char **ret,
                           size_t *ret_len, size_t *ret_count, bridle_error *err)
{
        if ((!text && len) || !ret)
                return bridle__err(err, -EINVAL, "redacting secrets: no text");
        struct redact rd = {.text = text, .cap = len + 64};
        rd.buf = bridle__malloc(rd.cap);
        if (!rd.buf)
                return bridle__err(err, -ENOMEM, "redacting secrets");
        rd.buf[0] = '\0';
        int r = scan_all(s, text, len, redact_sink, &rd);
        if (r >= 0)
                r = put(&rd, text + rd.last, len - rd.last);
        if (r < 0) {
                free(rd.buf);
                return scan_fail(err, r);
        }
        if (ret_len)
                *ret_len = rd.len;
        if (ret_count)
                *ret_count = rd.count;
        *ret = rd.buf;
        return 0;
}

long bridle__secrets_redact_json(const bridle__secrets *s, json_t *v, bridle_error *err)
{
        long total = 0;
        if (json_is_string(v)) {
                char *out = NULL;
                size_t ol = 0, count = 0;
                int r = bridle__secrets_redact(s, json_string_value(v), json_string_length(v), &out,
                                               &ol, &count, err);
                if (r < 0)
                        return r;
                if (count && json_string_setn(v, out, ol) < 0)
                        r = bridle__err(err, -ENOMEM, "redacting secrets");
                free(out);
                return r < 0 ? r : (long)count;
        }
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        long r = bridle__secrets_redact_json(s, e, err);
                        if (r < 0)
                                return r;
                        total += r;
                }
        } else if (json_is_object(v)) {
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e)
                {
                        long r = bridle__secrets_redact_json(s, e, err);
                        if (r < 0)
                                return r;
                        total += r;
                }
        }
        return total;
}
