/* SPDX-License-Identifier: MIT */
/*
 * The built-in secret detectors: one forward pass over the bytes, small
 * hand-written matchers, no regular expressions (docs/guard.md).
 *
 * Linear time: the prefix matchers start only at a word boundary and read the
 * word that follows (words do not overlap); the token matchers (entropy, AWS
 * secret keys) start only at a token boundary and read the token; the URL
 * and Authorization matchers read at most a fixed number of bytes; a PEM
 * block ends at its END line or the end of the text, and the pass resumes
 * after every finding.
 *
 * JSON escapes ("\n", "\u00e9", ...) count as separators, and a finding
 * never starts inside one, so redacted JSON text stays valid.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "guard/internal.h"

#define TOKEN_MIN        32 /* high-entropy tokens: length */
#define TOKEN_MAX        512
#define ENTROPY_MIN      4.3 /* bits per character */
#define SEGMENT_MIN      12  /* a token whose /_- segments are all shorter is a name or path */
#define AWS_NEAR         256 /* bytes between an access key id and its secret key */
#define LABEL_BACK       64  /* bytes before a secret key searched for "secret" */
#define URL_USERINFO_MAX 256
#define SCHEME_MAX       32

/* a stretch the pass jumps over without a finding */
#define SKIP BRIDLE__SECRET_KIND_COUNT

struct det {
        const unsigned char *t;
        size_t n;
        size_t aws_end; /* end of the last AWS access key id + 1, 0: none */
        /* the last search for a PEM END line: from where, and what it found
         * (NULL: none to the end), so a text of BEGIN lines stays linear */
        bool end_searched;
        size_t end_from;
        const unsigned char *end_at;
};

struct hit {
        enum bridle__secret_kind kind;
        size_t start, end;
};

static bool is_alnum(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_upper(unsigned char c)
{
        return c >= 'A' && c <= 'Z';
}
static bool is_lower(unsigned char c)
{
        return c >= 'a' && c <= 'z';
}
static bool is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}
static bool is_hex(unsigned char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* word characters: key bodies */
static bool is_w(unsigned char c)
{
        return is_alnum(c) || c == '_' || c == '-';
}
static bool is_w_nodash(unsigned char c)
{
        return is_alnum(c) || c == '_';
}
static bool is_alnum_dash(unsigned char c)
{
        return is_alnum(c) || c == '-';
}
/* base64 and base64url characters (padding apart) */
static bool is_b(unsigned char c)
{
        return is_alnum(c) || c == '+' || c == '/' || c == '_' || c == '-';
}
static bool is_scheme(unsigned char c)
{
        return is_alnum(c) || c == '+' || c == '.' || c == '-';
}
/* RFC 7235 token68 */
static bool is_token68(unsigned char c)
{
        return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
               c == '/' || c == '=';
}

static size_t run(const struct det *d, size_t i, bool (*in)(unsigned char))
{
        size_t j = i;
        while (j < d->n && in(d->t[j]))
                j++;
        return j - i;
}

static bool has_at(const struct det *d, size_t i, const char *s)
{
        size_t l = strlen(s);
        return i <= d->n && d->n - i >= l && !memcmp(d->t + i, s, l);
}

static bool has_at_ci(const struct det *d, size_t i, const char *s)
{
        size_t l = strlen(s);
        return i <= d->n && d->n - i >= l && !strncasecmp((const char *)d->t + i, s, l);
}

/* Length of the JSON escape sequence at i, 0 if none. */
static size_t esc_len(const struct det *d, size_t i)
{
        if (d->t[i] != '\\' || i + 1 >= d->n)
                return 0;
        unsigned char c = d->t[i + 1];
        if (!c || !strchr("nrtbf\"\\/u", c))
                return 0;
        if (c == 'u') {
                size_t k = 0;
                while (k < 4 && i + 2 + k < d->n && is_hex(d->t[i + 2 + k]))
                        k++;
                return 2 + k;
        }
        return 2;
}

struct body_stats {
        bool digit, upper, lower;
        size_t max_alnum_run;
};

static struct body_stats stats(const unsigned char *t, size_t n)
{
        struct body_stats s = {0};
        size_t cur = 0;
        for (size_t k = 0; k < n; k++) {
                s.digit |= is_digit(t[k]);
                s.upper |= is_upper(t[k]);
                s.lower |= is_lower(t[k]);
                cur = is_alnum(t[k]) ? cur + 1 : 0;
                if (cur > s.max_alnum_run)
                        s.max_alnum_run = cur;
        }
        return s;
}

static bool set_hit(struct hit *h, enum bridle__secret_kind kind, size_t start, size_t end)
{
        h->kind = kind;
        h->start = start;
        h->end = end;
        return true;
}

/* ---- keys with a known prefix ------------------------------------------ */

static bool match_sk(const struct det *d, size_t i, struct hit *h)
{
        if (has_at(d, i, "sk_live_") || has_at(d, i, "sk_test_")) {
                size_t b = run(d, i + 8, is_alnum);
                return b >= 16 && set_hit(h, BRIDLE__SECRET_STRIPE_KEY, i, i + 8 + b);
        }
        if (has_at(d, i, "sk-ant-")) {
                size_t b = run(d, i + 7, is_w);
                struct body_stats s = stats(d->t + i + 7, b);
                return b >= 20 && s.digit && (s.upper || s.lower) &&
                       set_hit(h, BRIDLE__SECRET_ANTHROPIC_KEY, i, i + 7 + b);
        }
        if (has_at(d, i, "sk-")) {
                size_t b = run(d, i + 3, is_w);
                struct body_stats s = stats(d->t + i + 3, b);
                return b >= 20 && s.max_alnum_run >= 16 && s.digit && (s.upper || s.lower) &&
                       set_hit(h, BRIDLE__SECRET_OPENAI_KEY, i, i + 3 + b);
        }
        return false;
}

static bool match_rk(const struct det *d, size_t i, struct hit *h)
{
        if (!has_at(d, i, "rk_live_") && !has_at(d, i, "rk_test_"))
                return false;
        size_t b = run(d, i + 8, is_alnum);
        return b >= 16 && set_hit(h, BRIDLE__SECRET_STRIPE_KEY, i, i + 8 + b);
}

static const char *const aws_prefixes[] = {"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA",
                                           "ANPA", "ANVA", "APKA", "ABIA", "ACCA"};

static bool is_aws_id_char(unsigned char c)
{
        return is_upper(c) || is_digit(c);
}

static bool aws_id_at(const struct det *d, size_t i)
{
        bool prefix = false;
        for (size_t k = 0; k < sizeof(aws_prefixes) / sizeof(aws_prefixes[0]); k++)
                prefix = prefix || has_at(d, i, aws_prefixes[k]);
        return prefix && d->n - i >= 20 && run(d, i + 4, is_aws_id_char) == 16 &&
               (i + 20 == d->n || !is_alnum(d->t[i + 20]));
}

static bool match_A(struct det *d, size_t i, struct hit *h)
{
        if (has_at(d, i, "AIza")) {
                size_t b = run(d, i + 4, is_w);
                return b >= 35 && b <= 64 &&
                       set_hit(h, BRIDLE__SECRET_GOOGLE_API_KEY, i, i + 4 + b);
        }
        if (aws_id_at(d, i)) {
                d->aws_end = i + 20 + 1;
                return set_hit(h, BRIDLE__SECRET_AWS_ACCESS_KEY, i, i + 20);
        }
        return false;
}

static bool match_g(const struct det *d, size_t i, struct hit *h)
{
        static const char *const gh[] = {"ghp_", "gho_", "ghs_", "ghu_", "ghr_"};
        for (size_t k = 0; k < sizeof(gh) / sizeof(gh[0]); k++)
                if (has_at(d, i, gh[k])) {
                        size_t b = run(d, i + 4, is_alnum);
                        return b >= 30 && set_hit(h, BRIDLE__SECRET_GITHUB_TOKEN, i, i + 4 + b);
                }
        if (has_at(d, i, "github_pat_")) {
                size_t b = run(d, i + 11, is_w_nodash);
                return b >= 40 && set_hit(h, BRIDLE__SECRET_GITHUB_TOKEN, i, i + 11 + b);
        }
        if (has_at(d, i, "glpat-")) {
                size_t b = run(d, i + 6, is_w);
                return b >= 20 && set_hit(h, BRIDLE__SECRET_GITLAB_TOKEN, i, i + 6 + b);
        }
        return false;
}

static bool match_x(const struct det *d, size_t i, struct hit *h)
{
        if (!has_at(d, i, "xox") || d->n - i < 5 || !strchr("abpre", d->t[i + 3]) ||
            d->t[i + 3] == 0 || d->t[i + 4] != '-')
                return false;
        size_t b = run(d, i + 5, is_alnum_dash);
        struct body_stats s = stats(d->t + i + 5, b);
        return b >= 10 && s.digit && set_hit(h, BRIDLE__SECRET_SLACK_TOKEN, i, i + 5 + b);
}

static bool is_b64url(unsigned char c)
{
        return is_alnum(c) || c == '-' || c == '_';
}

static bool match_jwt(const struct det *d, size_t i, struct hit *h)
{
        if (!has_at(d, i, "eyJ"))
                return false;
        size_t a = run(d, i, is_b64url);
        size_t j = i + a;
        if (a < 10 || j >= d->n || d->t[j] != '.' || !has_at(d, j + 1, "eyJ"))
                return false;
        size_t b = run(d, j + 1, is_b64url);
        size_t k = j + 1 + b;
        if (b < 10 || k >= d->n || d->t[k] != '.')
                return false;
        size_t c = run(d, k + 1, is_b64url);
        return set_hit(h, BRIDLE__SECRET_JWT, i, k + 1 + c);
}

/* ---- headers, URLs, PEM ------------------------------------------------- */

static size_t skip_spaces(const struct det *d, size_t j, size_t max)
{
        size_t k = 0;
        while (k < max && j + k < d->n && (d->t[j + k] == ' ' || d->t[j + k] == '\t'))
                k++;
        return k;
}

/* "Authorization: <scheme> <credential>" or "Authorization: <credential>" */
static bool match_authorization(const struct det *d, size_t i, struct hit *h)
{
        if (!has_at_ci(d, i, "authorization"))
                return false;
        size_t j = i + 13;
        bool assign = false;
        for (size_t k = 0; k < 6 && j < d->n && strchr("\"' \t:=", d->t[j]) && d->t[j]; k++, j++)
                assign |= d->t[j] == ':' || d->t[j] == '=';
        if (!assign)
                return false;
        size_t w1 = run(d, j, is_token68);
        size_t sp = skip_spaces(d, j + w1, 4);
        if (w1 >= 1 && w1 <= 20 && sp > 0 && run(d, j, is_alnum) == w1) {
                size_t c = j + w1 + sp;
                size_t w2 = run(d, c, is_token68);
                if (w2 >= 8)
                        return set_hit(h, BRIDLE__SECRET_BEARER_TOKEN, c, c + w2);
        }
        return w1 >= 16 && set_hit(h, BRIDLE__SECRET_BEARER_TOKEN, j, j + w1);
}

static bool match_bearer(const struct det *d, size_t i, struct hit *h)
{
        if (!has_at_ci(d, i, "bearer"))
                return false;
        size_t sp = skip_spaces(d, i + 6, 4);
        if (sp == 0)
                return false;
        size_t c = i + 6 + sp;
        size_t w = run(d, c, is_token68);
        struct body_stats s = stats(d->t + c, w);
        return w >= 20 && s.digit && set_hit(h, BRIDLE__SECRET_BEARER_TOKEN, c, c + w);
}

/* scheme://user:password@host: the password */
static bool match_url(const struct det *d, size_t i, struct hit *h)
{
        size_t s = run(d, i, is_scheme);
        if (s == 0 || s > SCHEME_MAX || !has_at(d, i + s, "://"))
                return false;
        size_t u = i + s + 3, colon = 0;
        for (size_t j = u; j < d->n && j - u < URL_USERINFO_MAX; j++) {
                unsigned char c = d->t[j];
                if (c == '@')
                        return colon && j > colon + 1 &&
                               set_hit(h, BRIDLE__SECRET_URL_PASSWORD, colon + 1, j);
                if (c <= ' ' || c == 0x7f || strchr("/?#\"'<>\\", c))
                        return false;
                if (c == ':' && !colon)
                        colon = j;
        }
        return false;
}

static const unsigned char *find_end(struct det *d, size_t from)
{
        if (from >= d->n)
                return NULL;
        if (d->end_searched && from >= d->end_from && (!d->end_at || d->t + from <= d->end_at))
                return d->end_at;
        d->end_searched = true;
        d->end_from = from;
        d->end_at = memmem(d->t + from, d->n - from, "-----END ", 9);
        return d->end_at;
}

static bool is_pem_label(unsigned char c)
{
        return is_upper(c) || is_digit(c) || c == ' ';
}

static bool match_pem(struct det *d, size_t i, struct hit *h)
{
        if (!has_at(d, i, "-----BEGIN "))
                return false;
        size_t l = run(d, i + 11, is_pem_label);
        if (l > 64 || !has_at(d, i + 11 + l, "-----"))
                return false;
        const unsigned char *lab = d->t + i + 11;
        size_t body = i + 11 + l + 5;
        const unsigned char *e = find_end(d, body);
        if (!memmem(lab, l, "PRIVATE KEY", 11)) {
                /* a certificate or public key: skipped whole, its base64 is not a secret */
                if (!e)
                        return false;
                size_t after = (size_t)(e - d->t) + 9;
                size_t el = run(d, after, is_pem_label);
                return set_hit(h, SKIP, i, has_at(d, after + el, "-----") ? after + el + 5 : after);
        }
        if (!e)
                return set_hit(h, BRIDLE__SECRET_PRIVATE_KEY, i, d->n);
        size_t after = (size_t)(e - d->t) + 9;
        size_t el = run(d, after, is_pem_label);
        if (el <= 64 && has_at(d, after + el, "-----"))
                return set_hit(h, BRIDLE__SECRET_PRIVATE_KEY, i, after + el + 5);
        return set_hit(h, BRIDLE__SECRET_PRIVATE_KEY, i, after);
}

/* ---- tokens: AWS secret keys, high entropy ------------------------------ */

double bridle__entropy(const unsigned char *t, size_t n)
{
        unsigned counts[256] = {0};
        if (n == 0)
                return 0;
        for (size_t k = 0; k < n; k++)
                counts[t[k]]++;
        double h = 0;
        for (size_t c = 0; c < 256; c++)
                if (counts[c]) {
                        double p = (double)counts[c] / (double)n;
                        h -= p * log2(p);
                }
        return h;
}

static bool aws_id_within(const struct det *d, size_t from, size_t to)
{
        if (to > d->n)
                to = d->n;
        for (size_t k = from; k + 20 <= to; k++)
                if (d->t[k] == 'A' && (k == 0 || !is_alnum(d->t[k - 1])) && aws_id_at(d, k))
                        return true;
        return false;
}

static bool secret_label_before(const struct det *d, size_t i)
{
        size_t from = i > LABEL_BACK ? i - LABEL_BACK : 0;
        return memmem(d->t + from, i - from, "secret", 6) ||
               memmem(d->t + from, i - from, "Secret", 6) ||
               memmem(d->t + from, i - from, "SECRET", 6);
}

static bool is_aws_secret(const struct det *d, size_t i, size_t len, const struct body_stats *s)
{
        if (len != 40 || !s->upper || !s->lower)
                return false;
        for (size_t k = i; k < i + len; k++)
                if (d->t[k] == '-' || d->t[k] == '_')
                        return false;
        return (d->aws_end && i < d->aws_end + AWS_NEAR) || secret_label_before(d, i) ||
               aws_id_within(d, i + len, i + len + AWS_NEAR);
}

/* Not a secret whatever its entropy: hex (hashes, UUIDs), hashes written as
 * sha512-<base64>, data: URLs, and paths or names (short segments). */
static bool is_benign_token(const struct det *d, size_t i, size_t len)
{
        const unsigned char *t = d->t + i;
        bool hex = true;
        size_t seg = 0, max_seg = 0;
        for (size_t k = 0; k < len; k++) {
                hex = hex && (is_hex(t[k]) || t[k] == '-' || t[k] == '_');
                seg = (t[k] == '/' || t[k] == '-' || t[k] == '_') ? 0 : seg + 1;
                if (seg > max_seg)
                        max_seg = seg;
        }
        if (hex || max_seg < SEGMENT_MIN)
                return true;
        if (i >= 7 && !memcmp(d->t + i - 7, "base64,", 7))
                return true;
        /* go.sum: "h1:<base64 of a SHA-256>" */
        if (i >= 3 && !memcmp(d->t + i - 3, "h1:", 3))
                return true;
        static const char *const hashes[] = {"sha1-", "sha256-", "sha384-", "sha512-"};
        for (size_t k = 0; k < sizeof(hashes) / sizeof(hashes[0]); k++)
                if (has_at(d, i, hashes[k]))
                        return true;
        return false;
}

static bool match_token(const struct det *d, size_t i, struct hit *h)
{
        size_t len = run(d, i, is_b);
        size_t pad = 0;
        while (pad < 2 && i + len + pad < d->n && d->t[i + len + pad] == '=')
                pad++;
        if (len < TOKEN_MIN)
                return false;
        struct body_stats s = stats(d->t + i, len);
        if (is_aws_secret(d, i, len, &s))
                return set_hit(h, BRIDLE__SECRET_AWS_SECRET_KEY, i, i + len + pad);
        if (len > TOKEN_MAX || !s.upper || !s.lower || !s.digit || is_benign_token(d, i, len))
                return false;
        return bridle__entropy(d->t + i, len) > ENTROPY_MIN &&
               set_hit(h, BRIDLE__SECRET_HIGH_ENTROPY, i, i + len + pad);
}

/* ---- the pass ------------------------------------------------------------ */

static bool match_word(struct det *d, size_t i, struct hit *h)
{
        switch (d->t[i]) {
        case 's':
                return match_sk(d, i, h);
        case 'r':
                return match_rk(d, i, h);
        case 'A':
                return match_A(d, i, h) || match_authorization(d, i, h);
        case 'g':
                return match_g(d, i, h);
        case 'x':
                return match_x(d, i, h);
        case 'e':
                return match_jwt(d, i, h);
        case 'a':
                return match_authorization(d, i, h);
        case 'b':
        case 'B':
                return match_bearer(d, i, h);
        default:
                return false;
        }
}

static bool match_at(struct det *d, size_t i, unsigned char prev, struct hit *h)
{
        unsigned char c = d->t[i];
        if (c == '-' && match_pem(d, i, h))
                return true;
        if (!is_w(prev) && match_word(d, i, h))
                return true;
        if (!is_scheme(prev) && (is_lower(c) || is_upper(c)) && match_url(d, i, h))
                return true;
        return !is_b(prev) && is_b(c) && match_token(d, i, h);
}

int bridle__detect_secrets(const unsigned char *t, size_t n, guard_sink_fn sink, void *ud)
{
        struct det d = {.t = t, .n = n};
        unsigned char prev = ' ';
        size_t i = 0;
        while (i < n) {
                size_t e = esc_len(&d, i);
                if (e) {
                        i += e;
                        prev = ' ';
                        continue;
                }
                struct hit h;
                if (match_at(&d, i, prev, &h) && h.end > h.start) {
                        int r = h.kind == SKIP ? 0 : sink(ud, h.kind, h.start, h.end);
                        if (r < 0)
                                return r;
                        i = h.end;
                        prev = t[i - 1];
                        continue;
                }
                prev = t[i];
                i++;
        }
        return 0;
}
