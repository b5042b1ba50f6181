/* SPDX-License-Identifier: MIT */
/* POST over libcurl for the model providers (http.h). */
#include "model/http.h"

#include <ctype.h>
#include "model/curl_dl.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

struct bridle__http {
        volatile int *cancel;
        CURLM *multi; /* owns the connection pool: kept alive between calls */
        CURL *easy;
        struct curl_slist *headers;
        char errbuf[CURL_ERROR_SIZE];
        /* the call in progress */
        bridle__http_result *res;
        bridle__http_body_fn fn;
        void *ud;
        int64_t last_byte_ms;
        bool body_started, to_fn;
        int64_t retry_after_ms, retry_after_hdr_ms;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
        global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bridle__http_retry_after(const char *value, int64_t max_ms)
{
        while (*value == ' ' || *value == '\t')
                value++;
        if (!*value)
                return -1;
        int64_t ms;
        if (isdigit((unsigned char)*value)) {
                char *end;
                errno = 0;
                double secs = strtod(value, &end);
                while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
                        end++;
                if (errno || *end || secs < 0)
                        return -1;
                ms = secs * 1000 > (double)max_ms ? max_ms : (int64_t)(secs * 1000);
        } else {
                time_t t = bridle__curl_load(NULL) == 0 ? curl_getdate(value, NULL) : (time_t)-1;
                if (t == (time_t)-1)
                        return -1;
                time_t now = time(NULL);
                ms = t <= now ? 0 : (int64_t)(t - now) * 1000;
        }
        return ms > max_ms ? max_ms : ms;
}

static void keep_body(bridle__http *h, const char *p, size_t n)
{
        bridle__http_result *res = h->res;
        size_t room = BRIDLE__HTTP_MAX_ERROR_BODY - res->body_len;
        if (n > room)
                n = room;
        if (!n)
                return;
        char *b = bridle__realloc(res->body, res->body_len + n + 1);
        if (!b)
                return; /* the message only loses detail */
        memcpy(b + res->body_len, p, n);
        res->body_len += n;
        b[res->body_len] = '\0';
        res->body = b;
}

static void start_body(bridle__http *h)
{
        long status = 0;
        const char *ct = NULL;
        (void)curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
        (void)curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct);
        h->res->status = status;
        if (ct)
                (void)snprintf(h->res->content_type, sizeof(h->res->content_type), "%s", ct);
        h->body_started = true;
        if (status >= 200 && status < 300) {
                if (ct && strncasecmp(ct, "text/event-stream", 17) == 0)
                        h->to_fn = true;
                else
                        h->res->not_sse = true;
        }
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
        bridle__http *h = ud;
        size_t n = size * nmemb;
        h->last_byte_ms = now_ms();
        if (!h->body_started)
                start_body(h);
        if (!h->to_fn) {
                keep_body(h, p, n);
                return n;
        }
        if (h->fn && h->fn(h->ud, p, n) < 0) {
                h->res->aborted = true;
                return 0;
        }
        return n;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value)
{
        size_t k = strlen(name);
        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return false;
        *value = line + k + 1;
        return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
        bridle__http *h = ud;
        size_t n = size * nmemb;
        h->last_byte_ms = now_ms();
        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                /* A new response (after a 1xx, say): forget the last one's headers. */
                h->retry_after_ms = h->retry_after_hdr_ms = -1;
                return n;
        }
        char v[128];
        const char *val;
        bool ms_hdr = header_is(p, n, "retry-after-ms", &val);
        if (!ms_hdr && !header_is(p, n, "retry-after", &val))
                return n;
        size_t vl = n - (size_t)(val - p);
        if (vl >= sizeof(v))
                return n;
        memcpy(v, val, vl);
        v[vl] = '\0';
        if (ms_hdr) {
                char *end;
                errno = 0;
                double ms = strtod(v, &end);
                while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
                        end++;
                h->retry_after_ms = errno || *end || end == v || !(ms >= 0) ? -1
                                    : ms > 3600000.0                        ? 3600000
                                                                            : (int64_t)ms;
        } else {
                h->retry_after_hdr_ms = bridle__http_retry_after(v, INT64_C(3600000));
        }
        return n;
}

static int set_options(bridle__http *h)
{
        _cleanup_free_ char *noproxy = bridle__curl_noproxy();
        if (!noproxy)
                return -ENOMEM;
        bridle__curl_base b = {.headers = h->headers, .on_body = on_write, .on_header = on_header, .ud = h,
                               .errbuf = h->errbuf, .noproxy = noproxy};
        CURLcode c = bridle__curl_base_opts(h->easy, &b);
        if (c == CURLE_OK)
                c = curl_easy_setopt(h->easy, CURLOPT_TCP_KEEPALIVE, 1L);
        if (c == CURLE_OK)
                c = curl_easy_setopt(h->easy, CURLOPT_POST, 1L);
        return c == CURLE_OK ? 0 : -EINVAL;
}

int bridle__http_new(const char *api_key, bridle__http **ret, bridle_error *err)
{
        int lr = bridle__curl_load(err);
        if (lr < 0)
                return lr;
        (void)pthread_once(&global_once, global_init);
        if (global_rc != CURLE_OK)
                return bridle__err(err, BRIDLE_E_MODEL, "libcurl: %s",
                                   curl_easy_strerror(global_rc));
        bridle__http *h = bridle__calloc(1, sizeof(*h));
        if (!h)
                return bridle__err(err, -ENOMEM, "http");
        h->multi = curl_multi_init();
        h->easy = curl_easy_init();
        if (!h->multi || !h->easy)
                goto oom;
        static const char *const fixed[] = {"Content-Type: application/json",
                                            "Accept: text/event-stream", "Expect:"};
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                struct curl_slist *l = curl_slist_append(h->headers, fixed[i]);
                if (!l)
                        goto oom;
                h->headers = l;
        }
        if (api_key && *api_key) {
                _cleanup_free_ char *auth = NULL;
                if (asprintf(&auth, "Authorization: Bearer %s", api_key) < 0)
                        goto oom;
                struct curl_slist *l = curl_slist_append(h->headers, auth);
                explicit_bzero(auth, strlen(auth));
                if (!l)
                        goto oom;
                h->headers = l;
        }
        int r = set_options(h);
        if (r < 0) {
                bridle__http_free(h);
                return r == -ENOMEM
                               ? bridle__err(err, r, "http")
                               : bridle__err(err, BRIDLE_E_MODEL, "libcurl: cannot set options");
        }
        *ret = h;
        return 0;
oom:
        bridle__http_free(h);
        return bridle__err(err, -ENOMEM, "http");
}

bridle__http *bridle__http_free(bridle__http *h)
{
        if (!h)
                return NULL;
        if (h->easy)
                curl_easy_cleanup(h->easy);
        if (h->multi)
                curl_multi_cleanup(h->multi);
        curl_slist_free_all(h->headers);
        free(h);
        return NULL;
}

void bridle__http_set_cancel(bridle__http *h, volatile int *cancel)
{
        h->cancel = cancel;
}

void bridle__http_result_release(bridle__http_result *res)
{
        free(res->body);
        res->body = NULL;
        res->body_len = 0;
}

/* Drive the transfer until it ends, stalls or fails. */
static int run(bridle__http *h, unsigned stall_ms)
{
        int running = 1;
        for (;;) {
                CURLMcode mc = curl_multi_perform(h->multi, &running);
                if (mc != CURLM_OK)
                        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
                if (!running)
                        return 0;
                if (h->cancel && *h->cancel)
                        return -ECANCELED;
                int64_t now = now_ms();
                if (stall_ms && now - h->last_byte_ms >= stall_ms) {
                        h->res->stalled = true;
                        return 0;
                }
                int64_t wait = stall_ms ? h->last_byte_ms + stall_ms - now : 1000;
                if (wait > 100)
                        wait = 100; /* so a cancel is seen soon */
                if (wait < 1)
                        wait = 1;
                mc = curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
                if (mc != CURLM_OK)
                        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        }
}

static void finish(bridle__http *h, bridle__http_result *res)
{
        int left = 0;
        CURLMsg *msg;
        res->curl_code = CURLE_OK;
        while ((msg = curl_multi_info_read(h->multi, &left)))
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->easy)
                        res->curl_code = msg->data.result;
        if (!h->body_started) {
                const char *ct = NULL;
                (void)curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &res->status);
                if (curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
                        (void)snprintf(res->content_type, sizeof(res->content_type), "%s", ct);
        }
        if (res->curl_code == CURLE_OPERATION_TIMEDOUT)
                res->timed_out = true;
        if (res->curl_code != CURLE_OK)
                (void)snprintf(res->curl_msg, sizeof(res->curl_msg), "%s",
                               h->errbuf[0] ? h->errbuf : curl_easy_strerror(res->curl_code));
        res->retry_after_ms = h->retry_after_ms >= 0 ? h->retry_after_ms : h->retry_after_hdr_ms;
}

int bridle__http_post(bridle__http *h, const char *url, const char *body, size_t len,
                      unsigned stall_ms, unsigned timeout_ms, bridle__http_body_fn fn, void *ud,
                      bridle__http_result *res)
{
        memset(res, 0, sizeof(*res));
        res->retry_after_ms = -1;
        h->res = res;
        h->fn = fn;
        h->ud = ud;
        h->body_started = h->to_fn = false;
        h->retry_after_ms = h->retry_after_hdr_ms = -1;
        h->errbuf[0] = '\0';
        CURLcode c = curl_easy_setopt(h->easy, CURLOPT_URL, url);
        if (c == CURLE_OK)
                c = curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (c == CURLE_OK)
                c = curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
        if (c == CURLE_OK)
                c = curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        if (c != CURLE_OK) {
                res->curl_code = c;
                (void)snprintf(res->curl_msg, sizeof(res->curl_msg), "%s", curl_easy_strerror(c));
                return c == CURLE_OUT_OF_MEMORY ? -ENOMEM : 0;
        }
        if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK)
                return -ENOMEM;
        h->last_byte_ms = now_ms();
        int r = run(h, stall_ms);
        if (r == 0) {
                finish(h, res);
                if (res->stalled)
                        res->curl_code = CURLE_OK;
        }
        (void)curl_multi_remove_handle(h->multi, h->easy);
        h->res = NULL;
        if (r == -ECANCELED) {
                (void)curl_multi_remove_handle(h->multi, h->easy);
                return r;
        }
        if (r == -EIO) {
                res->curl_code = CURLE_RECV_ERROR;
                (void)snprintf(res->curl_msg, sizeof(res->curl_msg), "multi interface failed");
                r = 0;
        }
        return r;
}
