/* SPDX-License-Identifier: MIT */
/* OTLP export: the JSON body field by field, the attribute cap, redaction,
 * the endpoint and header variables, gzip, and the POST with its retries
 * against a small HTTP server on 127.0.0.1 in a thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "trace/otlp.h"
#include "util/error.h"

#define TID      "0123456789ABCDEF0123456789abcdef"
#define SID_RUN  "00000000000000a1"
#define SID_CHAT "00000000000000b2"

static json_t *spans_fixture(void)
{
        json_t *s = json_pack(
                "[{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:{s:s,s:I,s:f,s:b,s:b,s:[s,s],s:n,s:{s:i}},s:[{s:s,"
                "s:I,s:{s:s}}]},"
                "{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:{s:s,s:I},s:[]}]",
                /* run */
                "trace_id", TID, "span_id", SID_RUN, "name", "run", "kind", "internal", "start_ms",
                (json_int_t)1700000000123, "end_ms", (json_int_t)1700000005000, "status", "ok",
                "attributes", "bridle.run.id", "0123456789abcdef0123456789abcdef",
                "gen_ai.usage.input_tokens", (json_int_t)1234, "bridle.cost_usd", 0.25, "bridle.ok",
                1, "bridle.no", 0, "bridle.list", "a", "b", "bridle.null", "bridle.obj", "k", 7,
                "events", "name", "retry", "time_ms", (json_int_t)1700000001000, "attributes",
                "reason", "429",
                /* chat */
                "trace_id", TID, "span_id", SID_CHAT, "parent_span_id", SID_RUN, "name",
                "chat test-model", "kind", "client", "start_ms", (json_int_t)1700000000200,
                "end_ms", (json_int_t)1700000000900, "status", "error", "status_message",
                "HTTP 500", "attributes", "gen_ai.request.model", "test-model",
                "gen_ai.usage.output_tokens", (json_int_t)56, "events");
        assert_non_null(s);
        return s;
}

static json_t *the_spans(json_t *body)
{
        json_t *rs = json_array_get(json_object_get(body, "resourceSpans"), 0);
        return json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "spans");
}

/* The value object of attribute key in an OTLP attribute array, or NULL. */
static json_t *attr(json_t *attrs, const char *key)
{
        size_t i;
        json_t *a;
        json_array_foreach(attrs, i, a) if (!strcmp(json_string_value(json_object_get(a, "key")),
                                                    key)) return json_object_get(a, "value");
        return NULL;
}

static void test_body_fields(void **state)
{
        (void)state;
        json_t *spans = spans_fixture();
        json_t *body = bridle__trace_otlp_body(spans);
        assert_non_null(body);
        json_t *rs = json_array_get(json_object_get(body, "resourceSpans"), 0);
        json_t *res = json_object_get(json_object_get(rs, "resource"), "attributes");
        assert_string_equal(
                json_string_value(json_object_get(attr(res, "service.name"), "stringValue")),
                "bridle");
        assert_string_equal(
                json_string_value(json_object_get(attr(res, "service.version"), "stringValue")),
                BRIDLE_VERSION);
        json_t *scope =
                json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "scope");
        assert_string_equal(json_string_value(json_object_get(scope, "name")), "bridle");
        assert_string_equal(json_string_value(json_object_get(scope, "version")), BRIDLE_VERSION);

        json_t *out = the_spans(body);
        assert_int_equal(json_array_size(out), 2);
        json_t *run = json_array_get(out, 0), *chat = json_array_get(out, 1);
        /* ids: lower-case hex */
        assert_string_equal(json_string_value(json_object_get(run, "traceId")),
                            "0123456789abcdef0123456789abcdef");
        assert_string_equal(json_string_value(json_object_get(run, "spanId")), SID_RUN);
        assert_null(json_object_get(run, "parentSpanId"));
        assert_string_equal(json_string_value(json_object_get(chat, "parentSpanId")), SID_RUN);
        /* kind: enum integers */
        assert_int_equal(json_integer_value(json_object_get(run, "kind")), 1);
        assert_int_equal(json_integer_value(json_object_get(chat, "kind")), 3);
        assert_string_equal(json_string_value(json_object_get(run, "name")), "run");
        /* times: decimal strings of nanoseconds */
        assert_string_equal(json_string_value(json_object_get(run, "startTimeUnixNano")),
                            "1700000000123000000");
        assert_string_equal(json_string_value(json_object_get(run, "endTimeUnixNano")),
                            "1700000005000000000");
        /* status */
        assert_int_equal(
                json_integer_value(json_object_get(json_object_get(run, "status"), "code")), 1);
        assert_int_equal(
                json_integer_value(json_object_get(json_object_get(chat, "status"), "code")), 2);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(chat, "status"), "message")),
                "HTTP 500");
        /* attributes of each type */
        json_t *a = json_object_get(run, "attributes");
        assert_string_equal(
                json_string_value(json_object_get(attr(a, "bridle.run.id"), "stringValue")),
                "0123456789abcdef0123456789abcdef");
        assert_string_equal(json_string_value(json_object_get(attr(a, "gen_ai.usage.input_tokens"),
                                                              "intValue")),
                            "1234");
        assert_true(json_is_real(json_object_get(attr(a, "bridle.cost_usd"), "doubleValue")));
        assert_true(json_real_value(json_object_get(attr(a, "bridle.cost_usd"), "doubleValue")) ==
                    0.25);
        assert_true(json_is_true(json_object_get(attr(a, "bridle.ok"), "boolValue")));
        assert_true(json_is_false(json_object_get(attr(a, "bridle.no"), "boolValue")));
        json_t *vals =
                json_object_get(json_object_get(attr(a, "bridle.list"), "arrayValue"), "values");
        assert_int_equal(json_array_size(vals), 2);
        assert_string_equal(
                json_string_value(json_object_get(json_array_get(vals, 1), "stringValue")), "b");
        assert_null(attr(a, "bridle.null")); /* null: left out */
        json_t *kvl =
                json_object_get(json_object_get(attr(a, "bridle.obj"), "kvlistValue"), "values");
        assert_string_equal(json_string_value(json_object_get(json_array_get(kvl, 0), "key")), "k");
        assert_null(attr(a, "bridle.list.truncated"));
        /* every attribute is exactly {key, value} */
        size_t i;
        json_t *kv;
        json_array_foreach(a, i, kv) assert_int_equal(json_object_size(kv), 2);
        /* events */
        json_t *ev = json_array_get(json_object_get(run, "events"), 0);
        assert_string_equal(json_string_value(json_object_get(ev, "name")), "retry");
        assert_string_equal(json_string_value(json_object_get(ev, "timeUnixNano")),
                            "1700000001000000000");
        assert_string_equal(
                json_string_value(json_object_get(attr(json_object_get(ev, "attributes"), "reason"),
                                                  "stringValue")),
                "429");
        assert_int_equal(json_array_size(json_object_get(chat, "events")), 0);
        json_decref(body);
        json_decref(spans);
}

static void test_body_bad_ids(void **state)
{
        (void)state;
        json_t *spans = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]",
                                  "trace_id", "xyz", "span_id", SID_RUN, "name", "a", "trace_id",
                                  TID, "span_id", "0000000000000000", "name", "b", "trace_id", TID,
                                  "span_id", SID_RUN, "name", "c", "trace_id", TID, "span_id",
                                  SID_CHAT, "parent_span_id", "nothex", "name", "d");
        json_t *body = bridle__otlp_body(spans, 0);
        json_t *out = the_spans(body);
        assert_int_equal(json_array_size(out), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "name")),
                            "c");
        /* an unusable parent id is left out (the span becomes a root), not sent broken */
        assert_null(json_object_get(json_array_get(out, 1), "parentSpanId"));
        /* missing times are 0, not absent */
        assert_string_equal(
                json_string_value(json_object_get(json_array_get(out, 0), "startTimeUnixNano")),
                "0");
        json_decref(body);
        json_decref(spans);
        assert_null(bridle__otlp_body(NULL, 0));
}

static void test_attr_cap(void **state)
{
        (void)state;
        char big[5001];
        memset(big, 'a', 5000);
        big[5000] = 0;
        json_t *spans = json_pack("[{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:b,s:[s]}}]", "trace_id", TID,
                                  "span_id", SID_RUN, "name", "tool", "attributes",
                                  "bridle.tool.output", big, "utf8", "\xc3\xa9\xc3\xa9\xc3\xa9",
                                  "said", big, "said.truncated", 1, "list", big);
        json_t *body = bridle__otlp_body(spans, 0);
        json_t *a = json_object_get(json_array_get(the_spans(body), 0), "attributes");
        assert_int_equal(strlen(json_string_value(
                                 json_object_get(attr(a, "bridle.tool.output"), "stringValue"))),
                         BRIDLE__TRACE_ATTR_CAP);
        assert_true(json_is_true(
                json_object_get(attr(a, "bridle.tool.output.truncated"), "boolValue")));
        assert_true(json_is_true(json_object_get(attr(a, "list.truncated"), "boolValue")));
        /* an attribute that already says its cut is not said twice */
        size_t i, n = 0;
        json_t *kv;
        json_array_foreach(a, i, kv) n +=
                !strcmp(json_string_value(json_object_get(kv, "key")), "said.truncated");
        assert_int_equal(n, 1);
        assert_null(attr(a, "utf8.truncated"));
        json_decref(body);

        /* a small cap: never inside a UTF-8 character */
        body = bridle__otlp_body(spans, 5);
        a = json_object_get(json_array_get(the_spans(body), 0), "attributes");
        assert_string_equal(json_string_value(json_object_get(attr(a, "utf8"), "stringValue")),
                            "\xc3\xa9\xc3\xa9");
        assert_true(json_is_true(json_object_get(attr(a, "utf8.truncated"), "boolValue")));
        assert_int_equal(strlen(json_string_value(
                                 json_object_get(attr(a, "bridle.tool.output"), "stringValue"))),
                         5);
        json_decref(body);
        json_decref(spans);
}

static void test_body_text_redacts(void **state)
{
        (void)state;
        const char *key = "sk-proj-Zq3xT9vLm2Nw8Rk4Yp6Hs1Jd5Fg7Bc0Ae";
        const char *known = "my-collector-token-0123";
        json_t *spans =
                json_pack("[{s:s,s:s,s:s,s:{s:s,s:s}}]", "trace_id", TID, "span_id", SID_RUN,
                          "name", "tool", "attributes", "bridle.tool.output", key, "other", known);
        bridle__secrets *s = NULL;
        assert_int_equal(bridle__secrets_new(&s, NULL), 0);
        assert_int_equal(bridle__secrets_add_known(s, known, strlen(known), NULL), 0);
        char *text = NULL;
        size_t len = 0;
        bridle_error e = {0};
        assert_int_equal(bridle__otlp_body_text(spans, 0, s, &text, &len, &e), 0);
        assert_int_equal(strlen(text), len);
        assert_null(strstr(text, key));
        assert_null(strstr(text, known));
        assert_non_null(strstr(text, "[REDACTED:openai_key]"));
        assert_non_null(strstr(text, "[REDACTED:known]"));
        json_t *back = json_loads(text, 0, NULL); /* still JSON */
        assert_non_null(back);
        json_decref(back);
        free(text);
        bridle__secrets_free(s);
        json_decref(spans);
}

/* ---- endpoint and headers ------------------------------------------------- */

static void clear_env(void)
{
        (void)unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
        (void)unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        (void)unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
        (void)unsetenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
}

static void url_is(const char *endpoint, const char *want)
{
        char *u = NULL;
        bridle_error e = {0};
        assert_int_equal(bridle__otlp_url(endpoint, &u, &e), 0);
        assert_string_equal(u, want);
        free(u);
}

static void test_url_precedence(void **state)
{
        (void)state;
        clear_env();
        char *u = NULL;
        bridle_error e = {0};
        assert_int_equal(bridle__otlp_url(NULL, &u, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "OTEL_EXPORTER_OTLP_ENDPOINT"));
        assert_null(u);
        url_is("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces");
        url_is("http://127.0.0.1:4318///", "http://127.0.0.1:4318/v1/traces");
        url_is("https://collector.example/otel/", "https://collector.example/otel/v1/traces");
        assert_int_equal(setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318/", 1), 0);
        url_is(NULL, "http://generic:4318/v1/traces");
        url_is("", "http://generic:4318/v1/traces");
        assert_int_equal(
                setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom/path", 1),
                0);
        url_is(NULL, "http://traces:9999/custom/path");     /* the traces variable, as is */
        url_is("http://flag:1", "http://flag:1/v1/traces"); /* the flag wins */
        assert_int_equal(bridle__otlp_url("ftp://user:hunter2@x/", &u, &e), BRIDLE_E_INVALID);
        assert_null(strstr(e.msg, "hunter2"));
        assert_int_equal(bridle__otlp_url("http://a b", &u, &e), BRIDLE_E_INVALID);
        clear_env();
}

static const char *hval(json_t *h, const char *name)
{
        size_t i;
        json_t *p;
        json_array_foreach(h, i,
                           p) if (!strcasecmp(json_string_value(json_array_get(p, 0)),
                                              name)) return json_string_value(json_array_get(p, 1));
        return NULL;
}

static void test_headers(void **state)
{
        (void)state;
        clear_env();
        json_t *h = NULL;
        bridle_error e = {0};
        assert_int_equal(bridle__otlp_headers(NULL, &h, &e), 0);
        assert_int_equal(json_array_size(h), 0);
        json_decref(h);

        assert_int_equal(setenv("OTEL_EXPORTER_OTLP_HEADERS",
                                " api-key = s3cr%20et%3D ,, "
                                "x-tenant=one,x-both=env,Authorization=Basic%20abc",
                                1),
                         0);
        assert_int_equal(setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=two", 1), 0);
        const char *given[] = {"X-Both=flag", "x-flag=a=b", NULL};
        assert_int_equal(bridle__otlp_headers(given, &h, &e), 0);
        assert_string_equal(hval(h, "api-key"), "s3cr et=");
        assert_string_equal(hval(h, "x-tenant"),
                            "two"); /* the traces variable over the general one */
        assert_string_equal(hval(h, "x-both"), "flag"); /* given over both, whatever the case */
        assert_string_equal(hval(h, "x-flag"), "a=b");
        assert_string_equal(hval(h, "authorization"), "Basic abc");
        assert_int_equal(json_array_size(h), 5);
        json_decref(h);
        h = NULL;

        /* errors never quote a value */
        assert_int_equal(setenv("OTEL_EXPORTER_OTLP_HEADERS", "good=1,secretvalue", 1), 0);
        assert_int_equal(bridle__otlp_headers(NULL, &h, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "entry 2"));
        assert_null(strstr(e.msg, "secretvalue"));
        assert_int_equal(setenv("OTEL_EXPORTER_OTLP_HEADERS", "x=a%0D%0AInjected: 1", 1), 0);
        assert_int_equal(bridle__otlp_headers(NULL, &h, &e), BRIDLE_E_INVALID);
        assert_null(strstr(e.msg, "Injected"));
        clear_env();
        const char *crlf[] = {"X-A=tok\r\nX-B: 1", NULL};
        assert_int_equal(bridle__otlp_headers(crlf, &h, &e), BRIDLE_E_INVALID);
        assert_null(strstr(e.msg, "tok"));
        const char *noeq[] = {"X-A", NULL};
        assert_int_equal(bridle__otlp_headers(noeq, &h, &e), BRIDLE_E_INVALID);
        const char *ctype[] = {"content-type=text/plain", NULL};
        assert_int_equal(bridle__otlp_headers(ctype, &h, &e), BRIDLE_E_INVALID);
        const char *badname[] = {"X A=1", NULL};
        assert_int_equal(bridle__otlp_headers(badname, &h, &e), BRIDLE_E_INVALID);
        assert_null(h);
}

static void test_gzip(void **state)
{
        (void)state;
        char in[20000];
        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (char)('a' + i % 7);
        void *gz = NULL;
        size_t gzlen = 0;
        assert_int_equal(bridle__otlp_gzip(in, sizeof(in), &gz, &gzlen, NULL), 0);
        assert_true(gzlen < sizeof(in) / 4);
        assert_int_equal(((unsigned char *)gz)[0], 0x1f); /* gzip magic */
        assert_int_equal(((unsigned char *)gz)[1], 0x8b);
        char back[sizeof(in)];
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
        zs.next_in = gz;
        zs.avail_in = (uInt)gzlen;
        zs.next_out = (Bytef *)back;
        zs.avail_out = sizeof(back);
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.total_out, sizeof(in));
        (void)inflateEnd(&zs);
        assert_memory_equal(back, in, sizeof(in));
        free(gz);
        /* nothing in, a valid (empty) gzip out */
        assert_int_equal(bridle__otlp_gzip("", 0, &gz, &gzlen, NULL), 0);
        assert_true(gzlen >= 18);
        free(gz);
}

/* ---- the POST against a server in a thread ---------------------------------- */

struct srv {
        int fd;
        int port;
        int statuses[16]; /* answer to request i (0: 200) */
        const char *ok_body;
        int n; /* requests served */
        char head[16][2048];
        size_t body_len[16];
        unsigned char body[4][8192];
};

static size_t find_len(const char *head)
{
        const char *p = strcasestr(head, "\ncontent-length:");
        return p ? strtoul(p + 16, NULL, 10) : 0;
}

/* Read one request into buf (NUL-terminated): *hl the head's length, *got
 * the bytes read. false: no complete head. */
static bool read_request(int c, char *buf, size_t cap, size_t *hl, size_t *got)
{
        char *end = NULL;
        *got = 0;
        buf[0] = 0;
        while (*got < cap - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
                ssize_t r = read(c, buf + *got, cap - 1 - *got);
                if (r <= 0)
                        return false;
                *got += (size_t)r;
                buf[*got] = 0;
        }
        if (!end)
                return false;
        *hl = (size_t)(end + 4 - buf);
        size_t want = find_len(buf);
        while (*got < *hl + want && *got < cap - 1) {
                ssize_t r = read(c, buf + *got, cap - 1 - *got);
                if (r <= 0)
                        break;
                *got += (size_t)r;
        }
        return true;
}

static void answer(const struct srv *s, int c, int i)
{
        int st = s->statuses[i] ? s->statuses[i] : 200;
        const char *b = st == 200 && s->ok_body ? s->ok_body : "{}";
        char resp[512];
        int rl = snprintf(
                resp, sizeof(resp),
                "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n\r\n%s",
                st, strlen(b), b);
        (void)!write(c, resp, (size_t)rl);
}

static void *serve(void *arg)
{
        struct srv *s = arg;
        for (int k = 0; k < 16; k++) {
                struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
                if (poll(&pfd, 1, 20000) <= 0)
                        break;
                int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        break;
                char buf[16384];
                size_t hl = 0, got = 0;
                if (!read_request(c, buf, sizeof(buf), &hl, &got)) {
                        close(c);
                        continue;
                }
                int i = s->n++;
                (void)snprintf(s->head[i], sizeof(s->head[i]), "%.*s", (int)hl, buf);
                s->body_len[i] = got - hl;
                if (i < 4)
                        memcpy(s->body[i], buf + hl,
                               got - hl < sizeof(s->body[i]) ? got - hl : sizeof(s->body[i]));
                answer(s, c, i);
                close(c);
        }
        return NULL;
}

static void srv_start(struct srv *s, pthread_t *t)
{
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->fd, 16), 0);
        socklen_t al = sizeof(a);
        assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(t, NULL, serve, s), 0);
}

static void srv_stop(struct srv *s, pthread_t t)
{
        shutdown(s->fd, SHUT_RDWR);
        close(s->fd);
        pthread_join(t, NULL);
}

static int post_to(struct srv *s, bool gzip, unsigned retries, const char *const *headers,
                   bridle_error *e)
{
        char url[64];
        (void)snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
        json_t *spans = spans_fixture();
        bridle__otlp_opts o = {.endpoint = url,
                               .headers = headers,
                               .gzip = gzip,
                               .max_retries = retries,
                               .timeout_ms = 5000};
        int r = bridle__trace_otlp_send(spans, &o, e);
        json_decref(spans);
        return r;
}

static int post_setup(void **state)
{
        (void)state;
        clear_env();
        return setenv("BRIDLE_OTLP_BACKOFF_MS", "1", 1);
}

static void test_post_retries(void **state)
{
        (void)state;
        static struct srv s = {.statuses = {503, 429, 0}};
        pthread_t t;
        srv_start(&s, &t);
        bridle_error e = {0};
        const char *hdrs[] = {"X-Test=yes", NULL};
        int r = post_to(&s, true, 0, hdrs, &e);
        if (r == BRIDLE_E_UNSUPPORTED) { /* no libcurl */
                srv_stop(&s, t);
                skip();
        }
        assert_int_equal(r, 0);
        srv_stop(&s, t);
        assert_int_equal(s.n, 3); /* 503, 429, then 200 */
        for (int i = 0; i < 3; i++) {
                assert_non_null(strstr(s.head[i], "POST /v1/traces HTTP/1.1"));
                assert_non_null(strcasestr(s.head[i], "\ncontent-type: application/json"));
                assert_non_null(strcasestr(s.head[i], "\ncontent-encoding: gzip"));
                assert_non_null(strcasestr(s.head[i], "\nx-test: yes"));
        }
        /* the body is gzip of the OTLP JSON */
        char json[65536];
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
        zs.next_in = s.body[2];
        zs.avail_in = (uInt)s.body_len[2];
        zs.next_out = (Bytef *)json;
        zs.avail_out = sizeof(json) - 1;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        json[zs.total_out] = 0;
        (void)inflateEnd(&zs);
        json_t *body = json_loads(json, 0, NULL);
        assert_non_null(body);
        assert_int_equal(json_array_size(the_spans(body)), 2);
        json_decref(body);
}

static void test_post_gives_up(void **state)
{
        (void)state;
        static struct srv s = {.statuses = {503, 503, 503, 503, 503, 503}};
        pthread_t t;
        srv_start(&s, &t);
        bridle_error e = {0};
        int r = post_to(&s, false, 2, NULL, &e);
        srv_stop(&s, t);
        if (r == BRIDLE_E_UNSUPPORTED)
                skip();
        assert_int_equal(r, BRIDLE_E_PROTOCOL);
        assert_int_equal(s.n, 3); /* 1 + 2 retries */
        assert_non_null(strstr(e.msg, "HTTP 503"));
        assert_non_null(strstr(e.msg, "after 3 attempts"));
        assert_null(strcasestr(s.head[0], "content-encoding"));
}

static void test_post_no_retry_on_400(void **state)
{
        (void)state;
        static struct srv s = {.statuses = {400, 0}};
        pthread_t t;
        srv_start(&s, &t);
        bridle_error e = {0};
        int r = post_to(&s, false, 3, NULL, &e);
        srv_stop(&s, t);
        if (r == BRIDLE_E_UNSUPPORTED)
                skip();
        assert_int_equal(r, BRIDLE_E_PROTOCOL);
        assert_int_equal(s.n, 1);
        assert_non_null(strstr(e.msg, "HTTP 400"));
}

static void test_post_partial(void **state)
{
        (void)state;
        static struct srv s = {.ok_body = "{\"partialSuccess\":{\"rejectedSpans\":\"1\","
                                          "\"errorMessage\":\"too old\"}}"};
        pthread_t t;
        srv_start(&s, &t);
        bridle_error e = {0};
        int r = post_to(&s, false, 0, NULL, &e);
        srv_stop(&s, t);
        if (r == BRIDLE_E_UNSUPPORTED)
                skip();
        assert_int_equal(r, BRIDLE_E_PROTOCOL);
        assert_non_null(strstr(e.msg, "rejected 1 span"));
        assert_non_null(strstr(e.msg, "too old"));
}

static void test_post_refused(void **state)
{
        (void)state;
        /* a port nobody listens on: bound, then closed */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        socklen_t al = sizeof(a);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        close(fd);
        struct srv s = {.port = ntohs(a.sin_port)};
        bridle_error e = {0};
        int r = post_to(&s, false, 2, NULL, &e);
        if (r == BRIDLE_E_UNSUPPORTED)
                skip();
        assert_int_equal(r, -ECONNREFUSED);
        assert_non_null(strstr(e.msg, "after 3 attempts"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_body_fields),
                cmocka_unit_test(test_body_bad_ids),
                cmocka_unit_test(test_attr_cap),
                cmocka_unit_test(test_body_text_redacts),
                cmocka_unit_test(test_url_precedence),
                cmocka_unit_test(test_headers),
                cmocka_unit_test(test_gzip),
                cmocka_unit_test_setup(test_post_retries, post_setup),
                cmocka_unit_test_setup(test_post_gives_up, post_setup),
                cmocka_unit_test_setup(test_post_no_retry_on_400, post_setup),
                cmocka_unit_test_setup(test_post_partial, post_setup),
                cmocka_unit_test_setup(test_post_refused, post_setup),
        };
        return cmocka_run_group_tests_name("otlp", tests, NULL, NULL);
}
