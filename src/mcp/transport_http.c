/* SPDX-License-Identifier: MIT */
/* The MCP streamable HTTP transport over libcurl (client.h). */
#include "mcp/client.h"

#include "model/curl_dl.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mcp/jsonrpc.h"
#include "model/sse.h"
#include "util/alloc.h"
#include "util/error.h"

#define HTTP_HEADERS_MAX 64
#define TRANSFERS_MAX    64

#define RESUME_ATTEMPTS     3     /* resumptions of a broken answer stream that bring nothing */
#define RESUME_BACKOFF_MS   250   /* 250, 500, 1000 ms unless the server said retry: */
#define RETRY_MAX_MS        60000 /* a server's retry: is honoured up to this */
#define GET_OPENS_PER_MIN   4     /* the GET stream is (re)opened at most this often a minute */
#define GET_FAILURES_MAX    5     /* failed reopens in a row before the GET stream is given up */
#define GET_BACKOFF_MS      1000  /* doubled per failure, unless the server said retry: */
#define GET_WAIT_HEADERS_MS 1000  /* set_version waits this long for the GET stream's headers */

enum transfer_kind {
        X_POST,   /* a message of ours */
        X_GET,    /* the GET stream for server messages */
        X_RESUME, /* a GET resuming a POST's broken answer stream (Last-Event-ID) */
};

typedef struct http_transport http_transport;

typedef struct transfer {
        http_transport *h;
        CURL *easy;
        struct curl_slist *headers;
        char *body_out;
        json_t *id; /* the request's id, or NULL */
        enum transfer_kind kind;
        bool started, sse_mode, done, too_big;
        bool headers_done; /* the response's headers all came */
        bool answered;     /* the answer to id came */
        unsigned messages; /* messages this transfer brought */
        int attempt;       /* X_RESUME: 1.. (attempts in a row that brought nothing) */
        long retry_ms;     /* X_RESUME: a retry: inherited from the stream resumed, or -1 */
        int64_t start_at;  /* > 0: waiting, added to the multi handle at that time */
        char last_id[BRIDLE__SSE_MAX_ID]; /* X_GET, X_RESUME: the Last-Event-ID sent */
        char why[400];                    /* X_RESUME: how the answer stream ended */
        CURLcode code;
        long status;
        bridle__sse sse;
        char *buf; /* a JSON answer, or an error body */
        size_t len;
        char errbuf[CURL_ERROR_SIZE];
        struct transfer *next;
} transfer;

struct http_transport {
        bridle__mcp_transport base;
        CURLM *multi;
        char *url;
        char **headers; /* the caller's "Name: value" lines */
        size_t n_headers;
        char *session_id;
        char version[16];
        char *noproxy;
        json_t *queue; /* messages received, not yet taken */
        transfer *transfers;
        size_t n_transfers;
        enum { GET_NONE, GET_ON, GET_OFF } get; /* GET_ON: a GET transfer open or waiting */
        transfer *get_x;                        /* that transfer */
        char get_last_id[BRIDLE__SSE_MAX_ID];   /* the last event id seen on the GET stream */
        int64_t get_opens[GET_OPENS_PER_MIN];   /* when it was (to be) opened, a ring */
        size_t get_open_next;
        int get_failures; /* reopens in a row that failed */
};

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void queue_one(transfer *x, json_t *m)
{
        if (!json_is_object(m))
                return;
        if (x->id && !json_object_get(m, "method") && json_equal(json_object_get(m, "id"), x->id))
                x->answered = true;
        x->messages++;
        (void)json_array_append(x->h->queue, m);
}

static void queue_msg(transfer *x, const char *data, size_t len)
{
        json_error_t je;
        json_t *j = json_loadb(data, len, 0, &je);
        if (json_is_object(j))
                queue_one(x, j);
        else if (json_is_array(j)) { /* a batch (2025-03-26): each message */
                size_t i;
                json_t *m;
                json_array_foreach(j, i, m) queue_one(x, m);
        }
        json_decref(j);
}

static int on_event(void *ud, const bridle__sse_event *ev)
{
        transfer *x = ud;
        if (strcmp(ev->type, "message") != 0 || ev->data_len == 0)
                return 0; /* priming events carry only an id */
        queue_msg(x, ev->data, ev->data_len);
        return 0;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
        transfer *x = ud;
        size_t n = size * nmemb;
        if (!x->started) {
                const char *ct = NULL;
                (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
                (void)curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
                x->sse_mode = x->status >= 200 && x->status < 300 && ct &&
                              strncasecmp(ct, "text/event-stream", 17) == 0;
                x->started = true;
        }
        if (x->sse_mode)
                return bridle__sse_feed(&x->sse, p, n, on_event, x, NULL) < 0 ? 0 : n;
        if (x->len + n > BRIDLE__RPC_LINE_MAX) {
                x->too_big = true;
                return 0;
        }
        char *b = bridle__realloc(x->buf, x->len + n + 1);
        if (!b)
                return 0;
        memcpy(b + x->len, p, n);
        x->len += n;
        b[x->len] = '\0';
        x->buf = b;
        return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
        transfer *x = ud;
        size_t n = size * nmemb;
        static const char name[] = "mcp-session-id:";
        if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n'))
                x->headers_done = true;
        if (n <= sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1) != 0)
                return n;
        const char *v = p + sizeof(name) - 1;
        size_t vl = n - (sizeof(name) - 1);
        while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
        while (vl && isspace((unsigned char)v[vl - 1]))
                vl--;
        if (!vl || vl > 1024)
                return n;
        for (size_t i = 0; i < vl; i++)
                if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
                        return n; /* visible ASCII only (the spec's rule) */
        char *id = bridle__strndup(v, vl);
        if (id) {
                free(x->h->session_id);
                x->h->session_id = id;
        }
        return n;
}

static transfer *transfer_free(transfer *x)
{
        if (!x)
                return NULL;
        if (x->easy) {
                (void)curl_multi_remove_handle(x->h->multi, x->easy);
                curl_easy_cleanup(x->easy);
        }
        curl_slist_free_all(x->headers);
        free(x->body_out);
        json_decref(x->id);
        bridle__sse_release(&x->sse);
        free(x->buf);
        free(x);
        return NULL;
}

static int add_header(struct curl_slist **l, const char *line)
{
        struct curl_slist *n = curl_slist_append(*l, line);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

/* POST: Content-Type and both Accept types; GET (last_id: Last-Event-ID, or
 * NULL/""): the event stream only. */
static int build_headers(http_transport *h, const char *method, const char *last_id,
                         struct curl_slist **ret)
{
        struct curl_slist *l = NULL;
        bool get = method && strcmp(method, "GET") == 0;
        int r = get ? add_header(&l, "Accept: text/event-stream")
                    : add_header(&l, "Content-Type: application/json");
        if (!r && !get)
                r = add_header(&l, "Accept: application/json, text/event-stream");
        if (!r)
                r = add_header(&l, "Expect:");
        for (size_t i = 0; !r && i < h->n_headers; i++)
                r = add_header(&l, h->headers[i]);
        char line[1100];
        if (!r && h->session_id) {
                (void)snprintf(line, sizeof(line), "Mcp-Session-Id: %s", h->session_id);
                r = add_header(&l, line);
        }
        if (!r && h->version[0]) {
                (void)snprintf(line, sizeof(line), "MCP-Protocol-Version: %s", h->version);
                r = add_header(&l, line);
        }
        if (!r && get && last_id && *last_id && !strpbrk(last_id, "\r\n")) {
                (void)snprintf(line, sizeof(line), "Last-Event-ID: %s", last_id);
                r = add_header(&l, line);
        }
        if (r) {
                curl_slist_free_all(l);
                return r;
        }
        *ret = l;
        return 0;
}

static int setup_easy(http_transport *h, transfer *x, const char *method)
{
        CURL *e = x->easy;
        bridle__curl_base b = {.url = h->url, .headers = x->headers, .on_body = on_write, .on_header = on_header,
                               .ud = x, .errbuf = x->errbuf, .noproxy = h->noproxy};
        CURLcode c = bridle__curl_base_opts(e, &b);
#define SET(opt, val)                                                                              \
        if (c == CURLE_OK)                                                                         \
        c = curl_easy_setopt(e, opt, val)
        if (method && strcmp(method, "GET") == 0) {
                SET(CURLOPT_HTTPGET, 1L);
        } else if (method) {
                SET(CURLOPT_CUSTOMREQUEST, method);
        } else {
                SET(CURLOPT_POST, 1L);
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body_out));
                SET(CURLOPT_POSTFIELDS, x->body_out);
        }
#undef SET
        return c == CURLE_OK ? 0 : c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* A transfer of kind for id (may be NULL) with body (POST) or last_id (GET),
 * not yet in the multi handle. NULL: out of memory. */
static transfer *transfer_new(http_transport *h, enum transfer_kind kind, const json_t *id,
                              const json_t *body, const char *last_id)
{
        transfer *x = bridle__calloc(1, sizeof(*x));
        if (!x)
                return NULL;
        x->h = h;
        x->kind = kind;
        x->retry_ms = -1;
        bridle__sse_init(&x->sse, BRIDLE__RPC_LINE_MAX, BRIDLE__RPC_LINE_MAX);
        if (id)
                x->id = json_incref((json_t *)id);
        if (last_id)
                (void)snprintf(x->last_id, sizeof(x->last_id), "%s", last_id);
        if (body && !(x->body_out = json_dumps(body, JSON_COMPACT)))
                return transfer_free(x);
        const char *method = kind == X_POST ? NULL : "GET";
        if (!(x->easy = curl_easy_init()) ||
            build_headers(h, method, x->last_id, &x->headers) < 0 || setup_easy(h, x, method) < 0) {
                if (x->easy) {
                        curl_easy_cleanup(x->easy);
                        x->easy = NULL;
                }
                return transfer_free(x);
        }
        return x;
}

/* Put x in the list; it starts after delay_ms (<= 0: now). 0 or -ENOMEM (x freed). */
static int schedule(http_transport *h, transfer *x, int64_t delay_ms)
{
        if (delay_ms > 0)
                x->start_at = mono_ms() + delay_ms;
        else if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
                curl_easy_cleanup(x->easy);
                x->easy = NULL;
                transfer_free(x);
                return -ENOMEM;
        }
        x->next = h->transfers;
        h->transfers = x;
        h->n_transfers++;
        return 0;
}

static int64_t retry_delay(long server_ms, int64_t fallback_ms)
{
        if (server_ms >= 0)
                return server_ms > RETRY_MAX_MS ? RETRY_MAX_MS : server_ms;
        return fallback_ms;
}

/* (Re)open the GET stream after delay_ms, at most GET_OPENS_PER_MIN times a minute. */
static void open_get(http_transport *h, int64_t delay_ms)
{
        int64_t now = mono_ms(), at = now + (delay_ms > 0 ? delay_ms : 0);
        int64_t oldest = h->get_opens[h->get_open_next];
        if (oldest && at < oldest + 60000)
                at = oldest + 60000;
        transfer *x = h->n_transfers < TRANSFERS_MAX
                              ? transfer_new(h, X_GET, NULL, NULL, h->get_last_id)
                              : NULL;
        if (!x || schedule(h, x, at - now) < 0) { /* schedule frees x when it fails */
                h->get = GET_OFF;
                h->get_x = NULL;
                return;
        }
        h->get_opens[h->get_open_next] = at;
        h->get_open_next = (h->get_open_next + 1) % GET_OPENS_PER_MIN;
        h->get = GET_ON;
        h->get_x = x;
}

/* How x ended, in words. */
static void describe(const transfer *x, char *buf, size_t size)
{
        if (x->code != CURLE_OK && !(x->code == CURLE_WRITE_ERROR && x->status >= 300)) {
                (void)snprintf(buf, size, "HTTP request failed: %s",
                               x->too_big     ? "the answer is too large"
                               : x->errbuf[0] ? x->errbuf
                                              : curl_easy_strerror(x->code));
                return;
        }
        if (x->status >= 200 && x->status < 300) {
                (void)snprintf(buf, size, "%s",
                               x->sse_mode ? "the server closed the event stream"
                                           : "the server ended the response");
                return;
        }
        char body[256] = "";
        size_t k = 0;
        for (size_t i = 0; x->buf && i < x->len && k + 1 < sizeof(body); i++)
                body[k++] = (unsigned char)x->buf[i] < 0x20 ? ' ' : x->buf[i];
        body[k] = '\0';
        (void)snprintf(buf, size, "HTTP %ld%s%s%s", x->status,
                       x->status == 404 && x->h->session_id ? " (the session ended)" : "",
                       body[0] ? ": " : "", body);
}

static void fail_request(http_transport *h, const json_t *id, const char *msg)
{
        json_t *e = bridle__rpc_error(id, BRIDLE__RPC_INTERNAL_ERROR, msg);
        if (e)
                (void)json_array_append_new(h->queue, e);
}

/* Resume the answer stream for id with a GET carrying last_id. */
static void resume(http_transport *h, const json_t *id, const char *last_id, int attempt,
                   long retry_ms, const char *why)
{
        transfer *x = h->n_transfers < TRANSFERS_MAX ? transfer_new(h, X_RESUME, id, NULL, last_id)
                                                     : NULL;
        if (x) {
                x->attempt = attempt;
                x->retry_ms = retry_ms;
                (void)snprintf(x->why, sizeof(x->why), "%s", why);
        }
        if (!x ||
            schedule(h, x, retry_delay(retry_ms, (int64_t)RESUME_BACKOFF_MS << (attempt - 1))) <
                    0) {
                char msg[512];
                (void)snprintf(msg, sizeof(msg),
                               "%.400s before the answer, and it cannot be resumed: out of memory",
                               why);
                fail_request(h, id, msg);
        }
}

static void finish_get(http_transport *h, transfer *x)
{
        h->get_x = NULL;
        if (x->sse.id[0])
                (void)snprintf(h->get_last_id, sizeof(h->get_last_id), "%s", x->sse.id);
        bool ok = x->status >= 200 && x->status < 300;
        if ((x->status >= 400 && x->status < 500) || (ok && !x->sse_mode && x->code == CURLE_OK)) {
                h->get = GET_OFF; /* 405: the server offers none */
                return;
        }
        if (ok && x->sse_mode)
                h->get_failures = 0;
        else if (++h->get_failures >= GET_FAILURES_MAX) {
                h->get = GET_OFF;
                return;
        }
        int shift = h->get_failures < 5 ? h->get_failures : 5;
        open_get(h, retry_delay(x->sse.retry_ms, (int64_t)GET_BACKOFF_MS << shift));
}

/* A transfer ended (already out of the list): queue what it brought, resume
 * its answer stream, or queue an error answer for its request. */
static void finish(http_transport *h, transfer *x)
{
        x->done = true;
        if (!x->started)
                (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        bool ok = x->code == CURLE_OK && x->status >= 200 && x->status < 300;
        if (x->sse_mode)
                (void)bridle__sse_finish(&x->sse, on_event, x, NULL);
        else if (ok && x->len)
                queue_msg(x, x->buf, x->len);
        if (x->kind == X_GET) {
                finish_get(h, x);
                return;
        }
        if (!x->id || x->answered)
                return;
        char how[320], msg[1800];
        describe(x, how, sizeof(how));
        long retry = x->sse.retry_ms >= 0 ? x->sse.retry_ms : x->retry_ms;
        if (x->kind == X_POST) {
                bool broke = x->code != CURLE_OK;
                if (x->sse_mode && x->sse.id[0]) { /* it had event ids: resumable */
                        char why[400];
                        if (broke)
                                (void)snprintf(why, sizeof(why), "the answer stream broke (%s)",
                                               how);
                        else
                                (void)snprintf(why, sizeof(why),
                                               "the server closed the answer stream");
                        resume(h, x->id, x->sse.id, 1, retry, why);
                        return;
                }
                if (x->sse_mode && x->status >= 200 && x->status < 300)
                        (void)snprintf(msg, sizeof(msg),
                                       "%s%s%s without an answer (no event ids to resume it from)",
                                       broke ? "the answer stream broke ("
                                             : "the server closed the answer stream",
                                       broke ? how : "", broke ? ")" : "");
                else if (ok)
                        (void)snprintf(msg, sizeof(msg), "%s without an answer", how);
                else
                        (void)snprintf(msg, sizeof(msg), "%s", how);
                fail_request(h, x->id, msg);
                return;
        }
        /* X_RESUME: a stream that brought messages resets the count. */
        const char *last = x->sse.id[0] ? x->sse.id : x->last_id;
        int next = x->sse_mode && x->messages ? 1 : x->attempt + 1;
        if (x->status >= 400 && x->status < 500)
                (void)snprintf(msg, sizeof(msg),
                               "%s before the answer; resuming it with Last-Event-ID '%s': %s",
                               x->why, x->last_id, how);
        else if (next > RESUME_ATTEMPTS)
                (void)snprintf(msg, sizeof(msg),
                               "%s before the answer; resuming it with Last-Event-ID failed %d "
                               "times (last: %s)",
                               x->why, RESUME_ATTEMPTS, how);
        else {
                resume(h, x->id, last, next, retry, x->why);
                return;
        }
        fail_request(h, x->id, msg);
}

static int drive(http_transport *h, int wait_ms)
{
        int64_t now = mono_ms(), next_start = -1;
        for (transfer *x = h->transfers; x; x = x->next) {
                if (!x->start_at)
                        continue;
                if (x->start_at <= now) {
                        if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
                                return -ENOMEM;
                        x->start_at = 0;
                } else if (next_start < 0 || x->start_at < next_start)
                        next_start = x->start_at;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(h->multi, &running);
        if (mc != CURLM_OK)
                return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        CURLMsg *m;
        int left = 0;
        while ((m = curl_multi_info_read(h->multi, &left))) {
                if (m->msg != CURLMSG_DONE)
                        continue;
                for (transfer **p = &h->transfers; *p; p = &(*p)->next) {
                        if ((*p)->easy != m->easy_handle || (*p)->start_at)
                                continue;
                        transfer *x = *p;
                        *p = x->next; /* out of the list first: finish may add to it */
                        h->n_transfers--;
                        x->code = m->data.result;
                        finish(h, x);
                        transfer_free(x);
                        break;
                }
        }
        if (wait_ms > 0 && json_array_size(h->queue) == 0 && h->transfers) {
                if (next_start >= 0) {
                        int64_t until = next_start - mono_ms();
                        if (until < wait_ms)
                                wait_ms = until < 1 ? 1 : (int)until;
                }
                mc = curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL);
                if (mc != CURLM_OK)
                        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        }
        return 0;
}

static bool in_flight(http_transport *h, transfer *x)
{
        for (transfer *t = h->transfers; t; t = t->next)
                if (t == x)
                        return true;
        return false;
}

static int ht_send(bridle__mcp_transport *t, const json_t *msg, int timeout_ms, bridle_error *err)
{
        http_transport *h = (http_transport *)t;
        if (h->n_transfers >= TRANSFERS_MAX)
                return bridle__err(err, BRIDLE_E_LIMIT, "too many HTTP requests in flight");
        bool is_request = json_object_get(msg, "method") && json_object_get(msg, "id");
        transfer *x =
                transfer_new(h, X_POST, is_request ? json_object_get(msg, "id") : NULL, msg, NULL);
        int r = x ? schedule(h, x, 0) : -ENOMEM;
        if (r < 0)
                return bridle__err(err, r, "mcp: cannot make the HTTP request");
        if (is_request)
                return 0; /* recv drives it */
        /* Notifications and answers: sent before anything else is. */
        int64_t deadline = mono_ms() + (timeout_ms < 0 ? 30000 : timeout_ms);
        for (int i = 0; i < 100000 && in_flight(h, x); i++) {
                if (mono_ms() >= deadline)
                        return bridle__err(err, BRIDLE_E_TIMEOUT,
                                           "the HTTP server does not answer");
                r = drive(h, 50);
                if (r < 0)
                        return bridle__err(err, r, "mcp: HTTP");
        }
        return 0;
}

/* -EAGAIN only when nothing could bring a message: no request in flight, no
 * answer stream to resume, no GET stream open or to be reopened. */
static int ht_recv(bridle__mcp_transport *t, int timeout_ms, json_t **ret, bridle_error *err)
{
        http_transport *h = (http_transport *)t;
        *ret = NULL;
        int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
        for (int i = 0; i < 10000000; i++) {
                if (json_array_size(h->queue)) {
                        *ret = json_incref(json_array_get(h->queue, 0));
                        (void)json_array_remove(h->queue, 0);
                        return 0;
                }
                if (!h->transfers)
                        return -EAGAIN;
                int64_t left = deadline < 0 ? 100 : deadline - mono_ms();
                if (left <= 0 && i > 0)
                        return -ETIMEDOUT;
                int r = drive(h, left > 100 ? 100 : left < 1 ? 1 : (int)left);
                if (r < 0)
                        return bridle__err(err, r, "mcp: HTTP");
        }
        return -ETIMEDOUT;
}

/* The session is established: open the GET stream, and wait a little for its
 * headers so that what the server sends right after initialization (on
 * notifications/initialized) has a stream to go to. */
static void ht_set_version(bridle__mcp_transport *t, const char *version)
{
        http_transport *h = (http_transport *)t;
        (void)snprintf(h->version, sizeof(h->version), "%s", version ? version : "");
        if (!version || !*version || h->get != GET_NONE)
                return;
        open_get(h, 0);
        int64_t deadline = mono_ms() + GET_WAIT_HEADERS_MS;
        for (int i = 0; i < 1000 && h->get_x && !h->get_x->headers_done && !h->get_x->start_at;
             i++) {
                int64_t left = deadline - mono_ms();
                if (left <= 0 || drive(h, left > 50 ? 50 : (int)left) < 0)
                        break;
        }
}

static void ht_close(bridle__mcp_transport *t)
{
        http_transport *h = (http_transport *)t;
        if (!h)
                return;
        while (h->transfers) {
                transfer *x = h->transfers;
                h->transfers = x->next;
                transfer_free(x);
        }
        h->get_x = NULL;
        if (h->session_id && h->multi) {
                /* End the session (a server may answer 405: it keeps sessions itself). */
                transfer *x = bridle__calloc(1, sizeof(*x));
                if (x) {
                        x->h = h;
                        bridle__sse_init(&x->sse, 0, 0);
                        x->easy = curl_easy_init();
                        if (x->easy && build_headers(h, "DELETE", NULL, &x->headers) == 0 &&
                            setup_easy(h, x, "DELETE") == 0 &&
                            curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 2000L) == CURLE_OK)
                                (void)curl_easy_perform(x->easy);
                        if (x->easy) {
                                curl_easy_cleanup(x->easy);
                                x->easy = NULL;
                        }
                        transfer_free(x);
                }
        }
        if (h->multi)
                curl_multi_cleanup(h->multi);
        for (size_t i = 0; i < h->n_headers; i++)
                free(h->headers[i]);
        free(h->headers);
        free(h->url);
        free(h->session_id);
        free(h->noproxy);
        json_decref(h->queue);
        free(h);
}

static const bridle__mcp_transport_ops http_ops = {
        .send = ht_send,
        .recv = ht_recv,
        .set_version = ht_set_version,
        .close = ht_close,
};

int bridle__mcp_http_new(const char *url, const char *const *headers, bridle__mcp_transport **ret,
                         bridle_error *err)
{
        if (!url || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0))
                return bridle__err(err, BRIDLE_E_INVALID, "mcp: '%s' is not an http(s) URL",
                                   url ? url : "");
        int r = bridle__curl_load(err);
        if (r < 0)
                return r;
        http_transport *h = bridle__calloc(1, sizeof(*h));
        if (!h)
                return bridle__err(err, -ENOMEM, "mcp");
        h->base.ops = &http_ops;
        h->url = bridle__strdup(url);
        h->noproxy = bridle__curl_noproxy();
        h->queue = json_array();
        h->multi = curl_multi_init();
        if (!h->url || !h->noproxy || !h->queue || !h->multi)
                goto oom;
        size_t n = 0;
        while (headers && headers[n])
                n++;
        if (n > HTTP_HEADERS_MAX) {
                ht_close(&h->base);
                return bridle__err(err, BRIDLE_E_LIMIT, "mcp: more than %d headers",
                                   HTTP_HEADERS_MAX);
        }
        h->headers = bridle__calloc(n + 1, sizeof(char *));
        if (!h->headers)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                if (strpbrk(headers[i], "\r\n") || !strchr(headers[i], ':')) {
                        ht_close(&h->base);
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "mcp: a header is not one 'Name: value' line");
                }
                if (!(h->headers[i] = bridle__strdup(headers[i])))
                        goto oom;
                h->n_headers++;
        }
        *ret = &h->base;
        return 0;
oom:
        ht_close(&h->base);
        return bridle__err(err, -ENOMEM, "mcp");
}
