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

typedef struct http_transport http_transport;

typedef struct transfer {
        http_transport *h;
        CURL *easy;
        struct curl_slist *headers;
        char *body_out;
        json_t *id; /* the request's id, or NULL */
        bool started, sse_mode, done, too_big;
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
};

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void queue_msg(http_transport *h, const char *data, size_t len)
{
        json_error_t je;
        json_t *j = json_loadb(data, len, 0, &je);
        if (json_is_object(j))
                (void)json_array_append(h->queue, j);
        else if (json_is_array(j)) { /* a batch (2025-03-26): each message */
                size_t i;
                json_t *m;
                json_array_foreach(j, i, m) if (json_is_object(m))(void) json_array_append(h->queue, m);
        }
        json_decref(j);
}

static int on_event(void *ud, const bridle__sse_event *ev)
{
        transfer *x = ud;
        if (strcmp(ev->type, "message") != 0 || ev->data_len == 0)
                return 0; /* priming events carry only an id */
        queue_msg(x->h, ev->data, ev->data_len);
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

static int build_headers(http_transport *h, struct curl_slist **ret)
{
        struct curl_slist *l = NULL;
        int r = add_header(&l, "Content-Type: application/json");
        if (!r)
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
        CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
        if (c == CURLE_OK)                                                                         \
        c = curl_easy_setopt(e, opt, val)
        SET(CURLOPT_URL, h->url);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_TCP_NODELAY, 1L);
        SET(CURLOPT_HTTPHEADER, x->headers);
        SET(CURLOPT_WRITEFUNCTION, on_write);
        SET(CURLOPT_WRITEDATA, x);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, x);
        SET(CURLOPT_ERRORBUFFER, x->errbuf);
        SET(CURLOPT_USERAGENT, "bridle/" BRIDLE_VERSION);
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_CONNECTTIMEOUT_MS, 30000L);
        SET(CURLOPT_NOPROXY, h->noproxy);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        if (method) {
                SET(CURLOPT_CUSTOMREQUEST, method);
        } else {
                SET(CURLOPT_POST, 1L);
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body_out));
                SET(CURLOPT_POSTFIELDS, x->body_out);
        }
#undef SET
        return c == CURLE_OK ? 0 : c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* A transfer ended: queue what it brought, or an error answer for its request. */
static void finish(http_transport *h, transfer *x)
{
        x->done = true;
        if (!x->started)
                (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        if (x->sse_mode) {
                (void)bridle__sse_finish(&x->sse, on_event, x, NULL);
        } else if (x->code == CURLE_OK && x->status >= 200 && x->status < 300 && x->len) {
                queue_msg(h, x->buf, x->len);
                return;
        }
        bool failed = x->code != CURLE_OK || x->status < 200 || x->status >= 300;
        if (!failed || !x->id)
                return;
        char msg[512];
        if (x->code != CURLE_OK && !(x->code == CURLE_WRITE_ERROR && x->status >= 300))
                (void)snprintf(msg, sizeof(msg), "HTTP request failed: %s",
                               x->too_big ? "the answer is too large"
                               : x->errbuf[0] ? x->errbuf
                                              : curl_easy_strerror(x->code));
        else {
                char body[256] = "";
                size_t k = 0;
                for (size_t i = 0; x->buf && i < x->len && k + 1 < sizeof(body); i++)
                        body[k++] = (unsigned char)x->buf[i] < 0x20 ? ' ' : x->buf[i];
                body[k] = '\0';
                (void)snprintf(msg, sizeof(msg), "HTTP %ld%s%s%s", x->status,
                               x->status == 404 && h->session_id ? " (the session ended)" : "",
                               body[0] ? ": " : "", body);
        }
        json_t *e = bridle__rpc_error(x->id, BRIDLE__RPC_INTERNAL_ERROR, msg);
        if (e)
                (void)json_array_append_new(h->queue, e);
}

static int drive(http_transport *h, int wait_ms)
{
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
                        if ((*p)->easy != m->easy_handle)
                                continue;
                        transfer *x = *p;
                        x->code = m->data.result;
                        finish(h, x);
                        *p = x->next;
                        h->n_transfers--;
                        transfer_free(x);
                        break;
                }
        }
        if (wait_ms > 0 && json_array_size(h->queue) == 0 && h->transfers) {
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
        transfer *x = bridle__calloc(1, sizeof(*x));
        if (!x)
                return bridle__err(err, -ENOMEM, "mcp");
        x->h = h;
        bridle__sse_init(&x->sse, BRIDLE__RPC_LINE_MAX, BRIDLE__RPC_LINE_MAX);
        bool is_request = json_object_get(msg, "method") && json_object_get(msg, "id");
        if (is_request)
                x->id = json_incref(json_object_get(msg, "id"));
        x->body_out = json_dumps(msg, JSON_COMPACT);
        x->easy = curl_easy_init();
        int r = x->body_out && x->easy ? build_headers(h, &x->headers) : -ENOMEM;
        if (!r)
                r = setup_easy(h, x, NULL);
        if (!r && curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
                r = -ENOMEM;
        if (r) {
                if (x->easy) {
                        curl_easy_cleanup(x->easy);
                        x->easy = NULL;
                }
                transfer_free(x);
                return bridle__err(err, r, "mcp: cannot make the HTTP request");
        }
        x->next = h->transfers;
        h->transfers = x;
        h->n_transfers++;
        if (is_request)
                return 0; /* recv drives it */
        /* Notifications and answers: sent before anything else is. */
        int64_t deadline = mono_ms() + (timeout_ms < 0 ? 30000 : timeout_ms);
        for (int i = 0; i < 100000 && in_flight(h, x); i++) {
                if (mono_ms() >= deadline)
                        return bridle__err(err, BRIDLE_E_TIMEOUT, "the HTTP server does not answer");
                r = drive(h, 50);
                if (r < 0)
                        return bridle__err(err, r, "mcp: HTTP");
        }
        return 0;
}

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

static void ht_set_version(bridle__mcp_transport *t, const char *version)
{
        http_transport *h = (http_transport *)t;
        (void)snprintf(h->version, sizeof(h->version), "%s", version ? version : "");
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
        if (h->session_id && h->multi) {
                /* End the session (a server may answer 405: it keeps sessions itself). */
                transfer *x = bridle__calloc(1, sizeof(*x));
                if (x) {
                        x->h = h;
                        bridle__sse_init(&x->sse, 0, 0);
                        x->easy = curl_easy_init();
                        if (x->easy && build_headers(h, &x->headers) == 0 && setup_easy(h, x, "DELETE") == 0 &&
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

static char *noproxy_list(void)
{
        static const char loopback[] = "localhost,127.0.0.1,::1";
        const char *env = getenv("no_proxy");
        if (!env || !*env)
                env = getenv("NO_PROXY");
        if (!env || !*env)
                return bridle__strdup(loopback);
        char *s = NULL;
        if (asprintf(&s, "%s,%s", env, loopback) < 0)
                return NULL;
        return s;
}

int bridle__mcp_http_new(const char *url, const char *const *headers, bridle__mcp_transport **ret,
                         bridle_error *err)
{
        if (!url || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0))
                return bridle__err(err, BRIDLE_E_INVALID, "mcp: '%s' is not an http(s) URL", url ? url : "");
        int r = bridle__curl_load(err);
        if (r < 0)
                return r;
        http_transport *h = bridle__calloc(1, sizeof(*h));
        if (!h)
                return bridle__err(err, -ENOMEM, "mcp");
        h->base.ops = &http_ops;
        h->url = bridle__strdup(url);
        h->noproxy = noproxy_list();
        h->queue = json_array();
        h->multi = curl_multi_init();
        if (!h->url || !h->noproxy || !h->queue || !h->multi)
                goto oom;
        size_t n = 0;
        while (headers && headers[n])
                n++;
        if (n > HTTP_HEADERS_MAX) {
                ht_close(&h->base);
                return bridle__err(err, BRIDLE_E_LIMIT, "mcp: more than %d headers", HTTP_HEADERS_MAX);
        }
        h->headers = bridle__calloc(n + 1, sizeof(char *));
        if (!h->headers)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                if (strpbrk(headers[i], "\r\n") || !strchr(headers[i], ':')) {
                        ht_close(&h->base);
                        return bridle__err(err, BRIDLE_E_INVALID, "mcp: a header is not one 'Name: value' line");
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
