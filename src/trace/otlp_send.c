/* SPDX-License-Identifier: MIT */
/* OTLP/HTTP: the endpoint and headers (flags and OTEL_EXPORTER_OTLP_*),
 * gzip, and the POST with bounded retries. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "model/curl_dl.h"
#include "model/http.h"
#include "trace/otlp.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MAX_URL 4096

/* ---- the endpoint ---------------------------------------------------------- */

/* url without user:password@ and without its query, for messages. */
static void url_for_msg(const char *url, char *out, size_t cap)
{
        if (!url)
                url = "";
        const char *p = strstr(url, "://");
        const char *host = p ? p + 3 : url;
        size_t hostlen = strcspn(host, "/?#");
        const char *at = memchr(host, '@', hostlen);
        const char *from = at ? at + 1 : host;
        size_t pathlen = strcspn(from, "?#");
        (void)snprintf(out, cap, "%.*s%.*s", (int)(host - url), url, (int)pathlen, from);
}

static bool url_ok(const char *u)
{
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
                return false;
        if (strlen(u) >= MAX_URL - 16)
                return false;
        for (const char *p = u; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

int bridle__otlp_url(const char *endpoint, char **ret, bridle_error *err)
{
        const char *base = endpoint, *src = "the endpoint";
        bool append = true;
        if (!base || !*base) {
                base = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
                src = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
                append = false;
        }
        if (!base || !*base) {
                base = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
                src = "OTEL_EXPORTER_OTLP_ENDPOINT";
                append = true;
        }
        if (!base || !*base)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "no OTLP endpoint: give one (--endpoint URL) or set "
                                   "OTEL_EXPORTER_OTLP_ENDPOINT");
        if (!url_ok(base)) {
                char shown[256];
                url_for_msg(base, shown, sizeof(shown));
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "%s '%s' is not an http:// or https:// URL", src, shown);
        }
        size_t n = strlen(base);
        if (append)
                while (n > 0 && base[n - 1] == '/')
                        n--;
        char *u = NULL;
        if (asprintf(&u, "%.*s%s", (int)n, base, append ? "/v1/traces" : "") < 0)
                return bridle__err(err, -ENOMEM, "OTLP endpoint");
        *ret = u;
        return 0;
}

/* ---- headers ------------------------------------------------------------------ */

static bool is_tchar(unsigned char c)
{
        return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *const reserved[] = {"content-type",
                                       "content-encoding",
                                       "content-length",
                                       "transfer-encoding",
                                       "host",
                                       "expect",
                                       NULL};

static int check_header(const char *name, const char *value, const char *what, bridle_error *err)
{
        if (!*name)
                return bridle__err(err, BRIDLE_E_INVALID, "%s: a header with no name", what);
        for (const char *p = name; *p; p++)
                if (!is_tchar((unsigned char)*p))
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "%s: '%.64s' is not a header name", what, name);
        for (const char *const *r = reserved; *r; r++)
                if (!strcasecmp(name, *r))
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "%s: the header '%s' is set by bridle", what, name);
        for (const char *p = value; *p; p++)
                if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
                        return bridle__err(
                                err, BRIDLE_E_INVALID,
                                "%s: the value of header '%.64s' holds a control character", what,
                                name);
        if (strlen(name) + strlen(value) + 2 > BRIDLE__OTLP_MAX_HEADER_LEN)
                return bridle__err(err, BRIDLE_E_LIMIT, "%s: header '%.64s' is too long", what,
                                   name);
        return 0;
}

/* Append [name, value] to into, replacing one of the same name. */
static int put_header(json_t *into, const char *name, const char *value, const char *what,
                      bridle_error *err)
{
        int r = check_header(name, value, what, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *h;
        json_array_foreach(into, i, h)
        {
                if (!strcasecmp(json_string_value(json_array_get(h, 0)), name)) {
                        if (json_array_set_new(h, 1, json_string(value)) < 0)
                                return bridle__err(err, -ENOMEM, "headers");
                        return 0;
                }
        }
        if (json_array_size(into) >= BRIDLE__OTLP_MAX_HEADERS)
                return bridle__err(err, BRIDLE_E_LIMIT, "%s: more than %d headers", what,
                                   BRIDLE__OTLP_MAX_HEADERS);
        json_t *pair = json_pack("[s,s]", name, value);
        if (!pair || json_array_append_new(into, pair) < 0)
                return bridle__err(err, -ENOMEM, "headers");
        return 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Trim spaces and tabs; percent-decode into out (cap bytes). false: too long
 * or a NUL byte encoded. */
static bool decode(const char *s, size_t len, char *out, size_t cap)
{
        while (len && (*s == ' ' || *s == '\t'))
                s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        c = (char)(unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                        if (!c)
                                return false;
                        i += 2;
                }
                if (o + 1 >= cap)
                        return false;
                out[o++] = c;
        }
        out[o] = 0;
        return true;
}

int bridle__otlp_parse_header_list(const char *list, const char *what, json_t *into,
                                   bridle_error *err)
{
        const char *p = list;
        for (unsigned n = 1; *p; n++) {
                size_t len = strcspn(p, ",");
                const char *eq = memchr(p, '=', len);
                bool blank = strspn(p, " \t") >= len;
                if (!blank) {
                        if (!eq)
                                return bridle__err(err, BRIDLE_E_INVALID, "%s: entry %u has no '='",
                                                   what, n);
                        _cleanup_free_ char *name = bridle__malloc(BRIDLE__OTLP_MAX_HEADER_LEN);
                        _cleanup_free_ char *value = bridle__malloc(BRIDLE__OTLP_MAX_HEADER_LEN);
                        if (!name || !value)
                                return bridle__err(err, -ENOMEM, "headers");
                        if (!decode(p, (size_t)(eq - p), name, BRIDLE__OTLP_MAX_HEADER_LEN) ||
                            !decode(eq + 1, len - (size_t)(eq - p) - 1, value,
                                    BRIDLE__OTLP_MAX_HEADER_LEN))
                                return bridle__err(err, BRIDLE_E_INVALID,
                                                   "%s: entry %u cannot be decoded", what, n);
                        int r = put_header(into, name, value, what, err);
                        explicit_bzero(value, BRIDLE__OTLP_MAX_HEADER_LEN);
                        if (r < 0)
                                return r;
                }
                p += len;
                if (*p == ',')
                        p++;
        }
        return 0;
}

int bridle__otlp_headers(const char *const *given, json_t **ret, bridle_error *err)
{
        json_t *h = json_array();
        if (!h)
                return bridle__err(err, -ENOMEM, "headers");
        static const char *const envs[] = {"OTEL_EXPORTER_OTLP_HEADERS",
                                           "OTEL_EXPORTER_OTLP_TRACES_HEADERS"};
        int r = 0;
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(envs); i++) {
                const char *v = getenv(envs[i]);
                if (v && *v)
                        r = bridle__otlp_parse_header_list(v, envs[i], h, err);
        }
        for (size_t i = 0; r == 0 && given && given[i]; i++) {
                const char *eq = strchr(given[i], '=');
                if (!eq) {
                        r = bridle__err(err, BRIDLE_E_INVALID, "header %zu: expected K=V", i + 1);
                        break;
                }
                _cleanup_free_ char *name = bridle__strndup(given[i], (size_t)(eq - given[i]));
                if (!name) {
                        r = bridle__err(err, -ENOMEM, "headers");
                        break;
                }
                r = put_header(h, name, eq + 1, "header", err);
        }
        if (r < 0) {
                json_decref(h);
                return r;
        }
        *ret = h;
        return 0;
}

/* ---- gzip ------------------------------------------------------------------- */

int bridle__otlp_gzip(const void *in, size_t len, void **ret, size_t *ret_len, bridle_error *err)
{
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        if (len > UINT32_MAX / 2)
                return bridle__err(err, BRIDLE_E_LIMIT, "gzip: %zu bytes is too much", len);
        /* 15 + 16: a gzip wrapper, not zlib's. */
        if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK)
                return bridle__err(err, -ENOMEM, "gzip");
        size_t cap = deflateBound(&zs, (uLong)len) + 32;
        unsigned char *out = bridle__malloc(cap);
        if (!out) {
                (void)deflateEnd(&zs);
                return bridle__err(err, -ENOMEM, "gzip");
        }
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)len;
        zs.next_out = out;
        zs.avail_out = (uInt)cap;
        int zr = deflate(&zs, Z_FINISH);
        size_t n = cap - zs.avail_out;
        (void)deflateEnd(&zs);
        if (zr != Z_STREAM_END) {
                free(out);
                return bridle__err(err, BRIDLE_E_LIMIT, "gzip: deflate did not finish (%d)", zr);
        }
        *ret = out;
        *ret_len = n;
        return 0;
}

/* ---- the POST --------------------------------------------------------------- */

struct resp {
        char buf[BRIDLE__OTLP_MAX_RESPONSE + 1];
        size_t len;
        int64_t retry_after_ms;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
        struct resp *r = ud;
        size_t n = size * nmemb, room = BRIDLE__OTLP_MAX_RESPONSE - r->len;
        size_t take = n < room ? n : room;
        memcpy(r->buf + r->len, data, take);
        r->len += take;
        r->buf[r->len] = 0;
        return n; /* the rest is dropped, not an error */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
        struct resp *r = ud;
        size_t n = size * nmemb;
        static const char name[] = "retry-after:";
        if (n > sizeof(name) - 1 && n < 200 && !strncasecmp(data, name, sizeof(name) - 1)) {
                char v[200];
                size_t vl = n - (sizeof(name) - 1);
                memcpy(v, data + sizeof(name) - 1, vl);
                v[vl] = 0;
                v[strcspn(v, "\r\n")] = 0;
                r->retry_after_ms = bridle__http_retry_after(v, BRIDLE__OTLP_MAX_BACKOFF_MS);
        }
        return n;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
static void global_init(void)
{
        global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void free_slist(struct curl_slist **l)
{
        if (*l)
                curl_slist_free_all(*l);
}

static int build_slist(const json_t *extra, bool gzip, struct curl_slist **ret, bridle_error *err)
{
        const char *fixed[] = {"Content-Type: application/json",
                               "Expect:", gzip ? "Content-Encoding: gzip" : NULL};
        struct curl_slist *l = NULL;
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                struct curl_slist *n = fixed[i] ? curl_slist_append(l, fixed[i]) : l;
                if (!n)
                        goto oom;
                l = n;
        }
        size_t i;
        json_t *h;
        json_array_foreach(extra, i, h)
        {
                char *line = NULL;
                if (asprintf(&line, "%s: %s", json_string_value(json_array_get(h, 0)),
                             json_string_value(json_array_get(h, 1))) < 0)
                        goto oom;
                struct curl_slist *n = curl_slist_append(l, line);
                explicit_bzero(line, strlen(line));
                free(line);
                if (!n)
                        goto oom;
                l = n;
        }
        *ret = l;
        return 0;
oom:
        free_slist(&l);
        return bridle__err(err, -ENOMEM, "headers");
}

static unsigned backoff_base_ms(void)
{
        const char *e = getenv("BRIDLE_OTLP_BACKOFF_MS");
        if (!e || !*e)
                return 200;
        char *end;
        unsigned long v = strtoul(e, &end, 10);
        return *end || v > BRIDLE__OTLP_MAX_BACKOFF_MS ? 200 : (unsigned)v;
}

static void sleep_ms(int64_t ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static bool retryable_curl(CURLcode c)
{
        return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT ||
               c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING ||
               c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_PARTIAL_FILE;
}

static bool retryable_status(long s)
{
        return s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505);
}

/* The collector's answer to a 2xx: rejected spans are an error. */
static int check_partial(const struct resp *rs, const char *shown, bridle_error *err)
{
        json_t *j = rs->len ? json_loadb(rs->buf, rs->len, 0, NULL) : NULL;
        json_t *ps = json_object_get(j, "partialSuccess");
        json_t *rej = json_object_get(ps, "rejectedSpans");
        long long n = json_is_integer(rej)  ? (long long)json_integer_value(rej)
                      : json_is_string(rej) ? strtoll(json_string_value(rej), NULL, 10)
                                            : 0;
        int r = 0;
        if (n > 0) {
                const char *m = json_string_value(json_object_get(ps, "errorMessage"));
                r = bridle__err(err, BRIDLE_E_PROTOCOL,
                                "OTLP export to '%s': the collector rejected %lld span(s)%s%.200s",
                                shown, n, m ? ": " : "", m ? m : "");
        }
        json_decref(j);
        return r;
}

/* A printable excerpt of a response body for a message. */
static void excerpt(const struct resp *rs, char *out, size_t cap)
{
        size_t o = 0;
        for (size_t i = 0; i < rs->len && o + 1 < cap; i++) {
                unsigned char c = (unsigned char)rs->buf[i];
                out[o++] = (char)(c >= ' ' && c < 0x7f ? c : ' ');
        }
        out[o] = 0;
}

struct post {
        CURL *e;
        struct resp *rs;
        const char *shown;
        unsigned attempts, timeout_ms;
        char errbuf[CURL_ERROR_SIZE];
};

static int setup(struct post *p, const char *url, const void *body, size_t len,
                 struct curl_slist *hdrs, const char *noproxy)
{
        bridle__curl_base b = {.url = url, .headers = hdrs, .on_body = on_write, .on_header = on_header,
                               .ud = p->rs, .errbuf = p->errbuf, .noproxy = noproxy,
                               .connect_timeout_ms = (long)p->timeout_ms};
        CURLcode c = bridle__curl_base_opts(p->e, &b);
#define SET(opt, val)                                                                              \
        if (c == CURLE_OK)                                                                         \
        c = curl_easy_setopt(p->e, opt, val)
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        SET(CURLOPT_POSTFIELDS, body);
        SET(CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
#undef SET
        return c == CURLE_OK ? 0 : -EINVAL;
}

/* The error of the last attempt (a: its index). */
static int final_error(const struct post *p, CURLcode c, long status, unsigned a, bridle_error *err)
{
        char ex[240], tries[48] = "";
        excerpt(p->rs, ex, sizeof(ex));
        if (a)
                (void)snprintf(tries, sizeof(tries), " (after %u attempts)", a + 1);
        if (c == CURLE_OK)
                return bridle__err(err, BRIDLE_E_PROTOCOL, "OTLP export to '%s': HTTP %ld%s%s%s",
                                   p->shown, status, tries, ex[0] ? ": " : "", ex);
        int code = c == CURLE_COULDNT_CONNECT      ? -ECONNREFUSED
                   : c == CURLE_OPERATION_TIMEDOUT ? BRIDLE_E_TIMEOUT
                                                   : BRIDLE_E_PROTOCOL;
        return bridle__err(err, code, "OTLP export to '%s': %s%s", p->shown, curl_easy_strerror(c),
                           tries);
}

/* The pause before attempt a + 1: exponential from base, capped, with
 * jitter; the collector's Retry-After (capped) when it gave one. */
static int64_t pause_ms(unsigned base, unsigned a, int64_t retry_after_ms, uint64_t *seed)
{
        if (retry_after_ms >= 0)
                return retry_after_ms < BRIDLE__OTLP_MAX_BACKOFF_MS ? retry_after_ms
                                                                    : BRIDLE__OTLP_MAX_BACKOFF_MS;
        int64_t ms = (int64_t)base << (a < 10 ? a : 10);
        if (ms > BRIDLE__OTLP_MAX_BACKOFF_MS)
                ms = BRIDLE__OTLP_MAX_BACKOFF_MS;
        *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return ms / 2 + (ms > 1 ? (int64_t)((*seed >> 33) % (uint64_t)(ms / 2 + 1)) : 0);
}

/* Attempts until one is final (success, or an error not worth retrying), at
 * most 1 + retries, with backoff between them. */
static int attempts(struct post *p, unsigned retries, bridle_error *err)
{
        unsigned base = backoff_base_ms();
        uint64_t seed = (uint64_t)time(NULL) ^ (uintptr_t)p;
        for (unsigned a = 0;; a++) {
                p->rs->len = 0;
                p->rs->buf[0] = 0;
                p->rs->retry_after_ms = -1;
                p->errbuf[0] = 0;
                p->attempts = a + 1;
                CURLcode c = curl_easy_perform(p->e);
                long status = 0;
                if (c == CURLE_OK)
                        (void)curl_easy_getinfo(p->e, CURLINFO_RESPONSE_CODE, &status);
                if (c == CURLE_OK && status >= 200 && status < 300)
                        return check_partial(p->rs, p->shown, err);
                bool again = c == CURLE_OK ? retryable_status(status) : retryable_curl(c);
                if (!again || a >= retries)
                        return final_error(p, c, status, a, err);
                sleep_ms(pause_ms(base, a, p->rs->retry_after_ms, &seed));
        }
}

/* gzip when asked, or when OTEL_EXPORTER_OTLP_TRACES_COMPRESSION (else
 * OTEL_EXPORTER_OTLP_COMPRESSION) says "gzip". */
static bool want_gzip(bool asked)
{
        const char *v = getenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");
        if (!v || !*v)
                v = getenv("OTEL_EXPORTER_OTLP_COMPRESSION");
        return asked || (v && !strcasecmp(v, "gzip"));
}

int bridle__otlp_post(const char *body, size_t len, const bridle__otlp_opts *o, bridle_error *err)
{
        bool gzip = want_gzip(o->gzip);
        _cleanup_free_ char *url = NULL;
        int r = bridle__otlp_url(o->endpoint, &url, err);
        if (r < 0)
                return r;
        char shown[512];
        url_for_msg(url, shown, sizeof(shown));
        json_t *extra = NULL;
        if ((r = bridle__otlp_headers(o->headers, &extra, err)) < 0)
                return r;
        _cleanup_free_ void *gz = NULL;
        size_t gzlen = 0;
        if (gzip && (r = bridle__otlp_gzip(body, len, &gz, &gzlen, err)) < 0) {
                json_decref(extra);
                return r;
        }
        if ((r = bridle__curl_load(err)) < 0) {
                json_decref(extra);
                return err ? bridle__err_prefix(err, "OTLP export") : r;
        }
        (void)pthread_once(&global_once, global_init);
        if (global_rc != CURLE_OK) {
                json_decref(extra);
                return bridle__err(err, BRIDLE_E_UNSUPPORTED, "libcurl: %s",
                                   curl_easy_strerror(global_rc));
        }
        _cleanup_(free_slist) struct curl_slist *hdrs = NULL;
        r = build_slist(extra, gzip, &hdrs, err);
        json_decref(extra);
        if (r < 0)
                return r;
        _cleanup_free_ char *noproxy = bridle__curl_noproxy();
        _cleanup_free_ struct resp *rs = bridle__calloc(1, sizeof(*rs));
        if (!noproxy || !rs)
                return bridle__err(err, -ENOMEM, "OTLP export");
        struct post p = {.rs = rs,
                         .shown = shown,
                         .timeout_ms =
                                 o->timeout_ms ? o->timeout_ms : BRIDLE__OTLP_DEFAULT_TIMEOUT};
        if (!(p.e = curl_easy_init()))
                return bridle__err(err, -ENOMEM, "OTLP export");
        r = setup(&p, url, gz ? gz : (const void *)body, gz ? gzlen : len, hdrs, noproxy);
        if (r < 0)
                r = bridle__err(err, BRIDLE_E_UNSUPPORTED,
                                "libcurl: cannot set the options of an OTLP export");
        else
                r = attempts(&p,
                             o->max_retries ? (o->max_retries < BRIDLE__OTLP_MAX_RETRIES
                                                       ? o->max_retries
                                                       : BRIDLE__OTLP_MAX_RETRIES)
                                            : BRIDLE__OTLP_DEFAULT_RETRIES,
                             err);
        curl_easy_cleanup(p.e);
        return r;
}

int bridle__trace_otlp_send(const json_t *spans, const bridle__otlp_opts *o, bridle_error *err)
{
        if (!spans || !o)
                return bridle__err(err, -EINVAL, "no spans or options");
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = bridle__otlp_body_text(spans, 0, NULL, &body, &len, err);
        if (r < 0)
                return r;
        return bridle__otlp_post(body, len, o, err);
}
