/* SPDX-License-Identifier: MIT */
/* Model providers: creation, one call with its retries, error classes (model.h). */
#include "model/model.h"

#include "model/curl_dl.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "model/model_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define DEFAULT_BASE_URL    "https://api.openai.com/v1"
#define DEFAULT_MAX_RETRIES 4u
#define DEFAULT_STALL_MS    60000u
#define DEFAULT_TIMEOUT_MS  600000u
#define DEFAULT_BACKOFF_MS  500u
#define MAX_BACKOFF_MS      30000u
#define MAX_RETRY_AFTER_MS  60000

struct bridle__model {
        const struct model_provider *prov; /* NULL: scripted */
        bridle__model_cfg cfg;
        char *url;       /* base_url + the provider's path */
        char *shown_url; /* the same without user info, query or fragment: for messages */
        bridle__http *http;
        uint64_t rng;
};

/* ---- small helpers ---------------------------------------------------------- */

int bridle__mbuf_add(struct mbuf *b, const char *s, size_t n, size_t max)
{
        if (b->len + n > max)
                return BRIDLE_E_LIMIT;
        if (b->len + n + 1 > b->cap) {
                size_t c = b->cap ? b->cap : 256;
                while (c < b->len + n + 1)
                        c *= 2;
                char *p = bridle__realloc(b->p, c);
                if (!p)
                        return -ENOMEM;
                b->p = p;
                b->cap = c;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return 0;
}

void bridle__mbuf_release(struct mbuf *b)
{
        free(b->p);
        *b = (struct mbuf){0};
}

bool bridle__model_is_reasoning(const char *model)
{
        if (!model)
                return false;
        if (strstr(model, "-chat"))
                return false;
        return strncmp(model, "gpt-5", 5) == 0 || strncmp(model, "o1", 2) == 0 ||
               strncmp(model, "o3", 2) == 0 || strncmp(model, "o4", 2) == 0;
}

const char *bridle__model_code_class(const char *code)
{
        static const struct {
                const char *code, *cls;
        } map[] = {
                {"rate_limit_exceeded", "rate_limit"},
                {"insufficient_quota", "rate_limit"},
                {"server_error", "server"},
                {"internal_error", "server"},
                {"server_is_overloaded", "server"},
                {"overloaded", "server"},
                {"service_unavailable", "server"},
                {"context_length_exceeded", "bad_request"},
                {"invalid_request_error", "bad_request"},
                {"model_not_found", "not_found"},
                {"invalid_api_key", "auth"},
        };
        if (!code || !*code)
                return "server";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strcmp(code, map[i].code) == 0)
                        return map[i].cls;
        return "refused";
}

/* ---- the stream of one attempt ---------------------------------------------- */

void bridle__stream_init(struct model_stream *st, const struct model_provider *prov,
                         const bridle__model_events *ev)
{
        memset(st, 0, sizeof(*st));
        st->prov = prov;
        st->ev = ev;
        bridle__sse_init(&st->sse, 0, 0);
}

void bridle__stream_release(struct model_stream *st)
{
        if (st->prov && st->prov->release)
                st->prov->release(st);
        bridle__sse_release(&st->sse);
        json_decref(st->output);
        json_decref(st->collected);
        free(st->response_id);
        st->output = st->collected = NULL;
        st->response_id = NULL;
}

int bridle__stream_fail(struct model_stream *st, const char *cls, const char *fmt, ...)
{
        if (!st->fail_class) {
                st->fail_class = cls;
                va_list ap;
                va_start(ap, fmt);
                /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
                (void)vsnprintf(st->fail_msg, sizeof(st->fail_msg), fmt, ap);
                va_end(ap);
        }
        return BRIDLE_E_MODEL;
}

static int on_sse(void *ud, const bridle__sse_event *ev)
{
        struct model_stream *st = ud;
        st->events++;
        return st->prov->event(st, ev);
}

static int sse_failed(struct model_stream *st, int r, const bridle_error *e)
{
        if (st->fail_class)
                return r;
        if (r == -ENOMEM)
                return bridle__stream_fail(st, "oom", "out of memory");
        return bridle__stream_fail(st, "protocol", "%s", e->msg);
}

int bridle__stream_feed(struct model_stream *st, const char *buf, size_t len)
{
        if (st->fail_class)
                return BRIDLE_E_MODEL;
        bridle_error e = {0};
        int r = bridle__sse_feed(&st->sse, buf, len, on_sse, st, &e);
        return r < 0 ? sse_failed(st, r, &e) : 0;
}

int bridle__stream_end(struct model_stream *st)
{
        if (st->fail_class)
                return BRIDLE_E_MODEL;
        bridle_error e = {0};
        int r = bridle__sse_finish(&st->sse, on_sse, st, &e);
        if (r < 0)
                return sse_failed(st, r, &e);
        return st->prov->end(st);
}

static int stream_body(void *ud, const char *p, size_t n)
{
        return bridle__stream_feed(ud, p, n);
}

/* ---- creation ---------------------------------------------------------------- */

static const struct model_provider *provider_named(const char *name, bool *scripted)
{
        *scripted = false;
        if (strcmp(name, "openai-responses") == 0)
                return &bridle__provider_responses;
        if (strcmp(name, "openai-chat") == 0)
                return &bridle__provider_chat;
        *scripted = strcmp(name, "scripted") == 0;
        return NULL;
}

/* The URL as shown in messages: no user info, no query, no fragment. */
static char *shown_url(const char *url)
{
        const char *scheme = strstr(url, "://");
        const char *host = scheme ? scheme + 3 : url;
        const char *path = host + strcspn(host, "/?#");
        const char *at = memchr(host, '@', (size_t)(path - host));
        if (at)
                host = at + 1;
        size_t rest = strcspn(path, "?#");
        char *s = NULL;
        if (asprintf(&s, "%.*s%.*s%.*s", scheme ? (int)(scheme + 3 - url) : 0, url,
                     (int)(path - host), host, (int)rest, path) < 0)
                return NULL;
        return s;
}

static int make_urls(bridle__model *m)
{
        const char *base = m->cfg.base_url && *m->cfg.base_url ? m->cfg.base_url : DEFAULT_BASE_URL;
        size_t n = strlen(base);
        while (n && base[n - 1] == '/')
                n--;
        if (asprintf(&m->url, "%.*s%s", (int)n, base, m->prov->path) < 0) {
                m->url = NULL;
                return -ENOMEM;
        }
        m->shown_url = shown_url(m->url);
        return m->shown_url ? 0 : -ENOMEM;
}

static void apply_defaults(bridle__model_cfg *c)
{
        if (!c->max_retries)
                c->max_retries = DEFAULT_MAX_RETRIES;
        if (!c->stall_ms)
                c->stall_ms = DEFAULT_STALL_MS;
        if (!c->timeout_ms)
                c->timeout_ms = DEFAULT_TIMEOUT_MS;
        if (!c->backoff_ms)
                c->backoff_ms = DEFAULT_BACKOFF_MS;
}

static uint64_t seed(void)
{
        uint64_t s = 0;
        if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
                struct timespec ts;
                (void)clock_gettime(CLOCK_MONOTONIC, &ts);
                s = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        }
        return s ? s : 0x9e3779b97f4a7c15u;
}

static void model_freep(bridle__model **m)
{
        bridle__model_free(*m);
}

int bridle__model_new(const bridle__model_cfg *cfg, bridle__model **ret, bridle_error *err)
{
        if (!cfg || !ret || !cfg->provider)
                return bridle__err(err, -EINVAL, "bridle__model_new: invalid arguments");
        bool scripted;
        const struct model_provider *prov = provider_named(cfg->provider, &scripted);
        if (!prov && !scripted)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "unknown model provider '%s' (known: openai-responses, "
                                   "openai-chat, scripted)",
                                   cfg->provider);
        if (scripted) {
                if (!cfg->script)
                        return bridle__err(err, BRIDLE_E_INVALID, "scripted provider: no script");
                int r = bridle__script_check(cfg->script,
                                             cfg->script_name ? cfg->script_name : "<script>", err);
                if (r < 0)
                        return r;
        } else if (!cfg->model || !*cfg->model) {
                return bridle__err(err, BRIDLE_E_INVALID, "%s: no model name", cfg->provider);
        }
        _cleanup_(model_freep) bridle__model *m = bridle__calloc(1, sizeof(*m));
        if (!m)
                return bridle__err(err, -ENOMEM, "model");
        m->prov = prov;
        m->cfg = *cfg;
        apply_defaults(&m->cfg);
        m->rng = seed();
        if (prov) {
                if (make_urls(m) < 0)
                        return bridle__err(err, -ENOMEM, "model");
                int r = bridle__http_new(cfg->api_key, &m->http, err);
                if (r == 0)
                        bridle__http_set_cancel(m->http, cfg->cancel);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

bridle__model *bridle__model_free(bridle__model *m)
{
        if (!m)
                return NULL;
        bridle__http_free(m->http);
        free(m->url);
        free(m->shown_url);
        free(m);
        return NULL;
}

void bridle__model_resp_clear(bridle__model_resp *resp)
{
        if (!resp)
                return;
        json_decref(resp->output);
        free(resp->response_id);
        memset(resp, 0, sizeof(*resp));
}

/* ---- one attempt's outcome --------------------------------------------------- */

struct outcome {
        const char *cls; /* NULL: success */
        bool retry;
        int64_t retry_after_ms; /* -1: back off */
        char msg[400];
};

static const char *status_text(long status)
{
        static const struct {
                long status;
                const char *text;
        } t[] = {
                {400, "bad request"},       {401, "unauthorized"},
                {403, "forbidden"},         {404, "not found"},
                {408, "request timeout"},   {409, "conflict"},
                {413, "payload too large"}, {422, "unprocessable entity"},
                {429, "too many requests"}, {500, "internal server error"},
                {502, "bad gateway"},       {503, "service unavailable"},
                {504, "gateway timeout"},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (t[i].status == status)
                        return t[i].text;
        return status >= 500 ? "server error" : "http error";
}

/* Replace every occurrence of the key (should a server echo it) and control bytes. */
static void scrub(char *s, const char *key)
{
        size_t kl = key ? strlen(key) : 0;
        if (kl >= 4)
                for (char *p = strstr(s, key); p; p = strstr(p, key)) {
                        memset(p, '*', 3);
                        memmove(p + 3, p + kl, strlen(p + kl) + 1);
                        p += 3;
                }
        for (char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = ' ';
}

/* The error object of an error body: {"error":{"message","code","type"}}. */
static void body_error(const bridle__http_result *res, char *msg, size_t size, char *code,
                       size_t code_size)
{
        msg[0] = code[0] = '\0';
        if (!res->body)
                return;
        _cleanup_(json_decrefp) json_t *j = json_loadb(res->body, res->body_len, 0, NULL);
        json_t *e = json_object_get(j, "error");
        const char *m = json_string_value(json_object_get(e, "message"));
        const char *c = json_string_value(json_object_get(e, "code"));
        if (!c)
                c = json_string_value(json_object_get(e, "type"));
        if (!m && json_is_string(e))
                m = json_string_value(e);
        if (m)
                (void)snprintf(msg, size, "%s", m);
        if (c)
                (void)snprintf(code, code_size, "%s", c);
}

static void http_status(const bridle__model *m, const bridle__http_result *res, struct outcome *o)
{
        long s = res->status;
        char smsg[300], code[64];
        body_error(res, smsg, sizeof(smsg), code, sizeof(code));
        o->retry = false;
        if (s == 401 || s == 403) {
                o->cls = "auth";
                smsg[0] = '\0'; /* such messages may quote part of the key */
        } else if (s == 404) {
                o->cls = "not_found";
        } else if (s == 429) {
                o->cls = "rate_limit";
                o->retry = strcmp(code, "insufficient_quota") != 0;
        } else if (s == 408) {
                o->cls = "network";
                o->retry = true;
        } else if (s >= 500 || s == 409) {
                o->cls = "server";
                o->retry = true;
        } else if (s >= 400) {
                o->cls = "bad_request";
        } else {
                o->cls = "protocol";
        }
        if (o->retry) /* the server's word on when to come back, whatever the status */
                o->retry_after_ms = res->retry_after_ms > MAX_RETRY_AFTER_MS ? MAX_RETRY_AFTER_MS
                                                                             : res->retry_after_ms;
        scrub(smsg, m->cfg.api_key);
        (void)snprintf(o->msg, sizeof(o->msg), "%ld %s%s%s", s, status_text(s), smsg[0] ? ": " : "",
                       smsg);
}

static void transport(const bridle__model *m, const bridle__http_result *res, struct outcome *o)
{
        o->cls = "network";
        if (res->timed_out) {
                o->retry = false;
                (void)snprintf(o->msg, sizeof(o->msg), "timed out after %u ms", m->cfg.timeout_ms);
                return;
        }
        switch (res->curl_code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
                o->retry = false;
                break;
        default:
                o->retry = true;
        }
        char c[sizeof(res->curl_msg)];
        memcpy(c, res->curl_msg, sizeof(c));
        scrub(c, m->cfg.api_key);
        (void)snprintf(o->msg, sizeof(o->msg), "%s", c);
}

static void stream_outcome(struct model_stream *st, struct outcome *o)
{
        o->cls = st->fail_class;
        (void)snprintf(o->msg, sizeof(o->msg), "%s", st->fail_msg);
        o->retry = strcmp(o->cls, "truncated") == 0;
}

/* Classify one finished attempt. */
static void judge(const bridle__model *m, struct model_stream *st, const bridle__http_result *res,
                  struct outcome *o)
{
        *o = (struct outcome){.retry_after_ms = -1};
        if (st->completed && !st->fail_class) {
                /* The final event came: a reset after it loses nothing. */
                if (bridle__stream_end(st) == 0)
                        return;
                stream_outcome(st, o);
                return;
        }
        if (res->stalled) {
                o->cls = "stall";
                o->retry = true;
                (void)snprintf(o->msg, sizeof(o->msg), "no data for %u ms", m->cfg.stall_ms);
                return;
        }
        if (st->fail_class)
                return stream_outcome(st, o);
        if (res->curl_code != CURLE_OK)
                return transport(m, res, o);
        if (res->status < 200 || res->status >= 300)
                return http_status(m, res, o);
        if (res->not_sse) {
                o->cls = "protocol";
                (void)snprintf(o->msg, sizeof(o->msg), "%ld: expected an event stream, got '%s'",
                               res->status, res->content_type[0] ? res->content_type : "no type");
                return;
        }
        if (bridle__stream_end(st) < 0)
                stream_outcome(st, o);
}

/* ---- the call ------------------------------------------------------------------ */

static uint64_t next_rand(bridle__model *m)
{
        /* xorshift64*: jitter only, not security. */
        m->rng ^= m->rng >> 12;
        m->rng ^= m->rng << 25;
        m->rng ^= m->rng >> 27;
        return m->rng * UINT64_C(2685821657736338717);
}

static unsigned backoff(bridle__model *m, unsigned attempt, int64_t retry_after_ms)
{
        if (retry_after_ms >= 0)
                return (unsigned)retry_after_ms;
        uint64_t cap = m->cfg.backoff_ms;
        for (unsigned i = 0; i < attempt && cap < MAX_BACKOFF_MS; i++)
                cap *= 2;
        if (cap > MAX_BACKOFF_MS)
                cap = MAX_BACKOFF_MS;
        return (unsigned)(next_rand(m) % (cap + 1));
}

/* Sleep in slices so that a cancel is seen within ~100 ms. */
static void sleep_ms(unsigned ms, volatile int *cancel)
{
        while (ms > 0 && !(cancel && *cancel)) {
                unsigned step = ms > 100 ? 100 : ms;
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000L};
                while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
                        if (cancel && *cancel)
                                return;
                ms -= step;
        }
}

static bool may_retry(const bridle__model *m, const bridle__model_req *req, unsigned retries)
{
        return retries < m->cfg.max_retries &&
               (!req->run_retries_left || *req->run_retries_left > 0);
}

static int fail(const bridle__model *m, const struct outcome *o, unsigned retries,
                bridle__model_resp *resp, bridle_error *err)
{
        (void)snprintf(resp->error_class, sizeof(resp->error_class), "%s", o->cls);
        resp->retries = retries;
        if (strcmp(o->cls, "oom") == 0)
                return bridle__err(err, -ENOMEM, "%s: POST %s", m->prov->name, m->shown_url);
        char after[48] = "";
        if (retries)
                (void)snprintf(after, sizeof(after), " (after %u retr%s)", retries,
                               retries == 1 ? "y" : "ies");
        return bridle__err(err, BRIDLE_E_MODEL, "%s: POST %s: %s%s", m->prov->name, m->shown_url,
                           o->msg, after);
}

static void succeed(struct model_stream *st, unsigned retries, bridle__model_resp *resp)
{
        resp->output = TAKE_PTR(st->output);
        resp->response_id = TAKE_PTR(st->response_id);
        resp->usage = st->usage;
        resp->retries = retries;
}

static int http_call(bridle__model *m, const bridle__model_req *req, const bridle__model_events *ev,
                     bridle__model_resp *resp, bridle_error *err)
{
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = m->prov->build(&m->cfg, req, &body, &len, err);
        if (r < 0)
                return r;
        for (unsigned retries = 0;; retries++) {
                struct model_stream st;
                bridle__http_result res;
                struct outcome o;
                bridle__stream_init(&st, m->prov, ev);
                r = bridle__http_post(m->http, m->url, body, len, m->cfg.stall_ms,
                                      m->cfg.timeout_ms, stream_body, &st, &res);
                if (r == -ECANCELED) {
                        bridle__stream_release(&st);
                        (void)snprintf(resp->error_class, sizeof(resp->error_class), "interrupted");
                        return bridle__err(err, BRIDLE_E_INTERRUPTED, "%s: POST %s: interrupted",
                                           m->prov->name, m->shown_url);
                }
                if (r < 0) {
                        bridle__stream_release(&st);
                        return bridle__err(err, r, "%s: POST %s", m->prov->name, m->shown_url);
                }
                judge(m, &st, &res, &o);
                bridle__http_result_release(&res);
                if (!o.cls) {
                        succeed(&st, retries, resp);
                        bridle__stream_release(&st);
                        return 0;
                }
                bridle__stream_release(&st);
                if (!o.retry || !may_retry(m, req, retries))
                        return fail(m, &o, retries, resp, err);
                unsigned delay = backoff(m, retries, o.retry_after_ms);
                if (req->run_retries_left)
                        (*req->run_retries_left)--;
                if (ev && ev->retry)
                        ev->retry(ev->ud, retries + 1, o.cls, o.msg, delay);
                sleep_ms(delay, m->cfg.cancel);
        }
}

int bridle__model_call(bridle__model *m, const bridle__model_req *req,
                       const bridle__model_events *ev, bridle__model_resp *resp, bridle_error *err)
{
        if (!m || !req || !resp || (req->input && !json_is_array(req->input)) ||
            (req->tools && !json_is_array(req->tools)))
                return bridle__err(err, -EINVAL, "bridle__model_call: invalid arguments");
        memset(resp, 0, sizeof(*resp));
        if (!m->prov)
                return bridle__scripted_call(&m->cfg, req, ev, resp, err);
        return http_call(m, req, ev, resp, err);
}
