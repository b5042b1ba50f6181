/* SPDX-License-Identifier: MIT */
/* The SSE parser: the format's rules, every chunking, caps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/sse.h"
#include "testutil.h"
#include "util/alloc.h"

/* Events rendered as "TYPE|DATA|ID;" (newlines in data as "\n" escapes). */
struct sink {
        char out[8192];
        size_t len;
        int stop_at; /* stop (return -42) at this event, 1-based; 0: never */
        int n;
};

static int collect(void *ud, const bridle__sse_event *ev)
{
        struct sink *s = ud;
        s->n++;
        char data[4096];
        size_t k = 0;
        for (size_t i = 0; i < ev->data_len && k + 2 < sizeof(data); i++) {
                if (ev->data[i] == '\n') {
                        data[k++] = '\\';
                        data[k++] = 'n';
                } else {
                        data[k++] = ev->data[i] ? ev->data[i] : '0';
                }
        }
        data[k] = '\0';
        assert_int_equal(ev->data[ev->data_len], '\0');
        int w = snprintf(s->out + s->len, sizeof(s->out) - s->len, "%s|%s|%s;", ev->type, data,
                         ev->id);
        assert_true(w > 0 && (size_t)w < sizeof(s->out) - s->len);
        s->len += (size_t)w;
        return s->stop_at && s->n == s->stop_at ? -42 : 0;
}

/* Parse input fed in pieces of `chunk` bytes (0: at once), finish included. */
static int parse(const char *in, size_t len, size_t chunk, struct sink *s)
{
        bridle__sse p;
        bridle_error err = {0};
        bridle__sse_init(&p, 0, 0);
        memset(s->out, 0, sizeof(s->out));
        s->len = 0;
        s->n = 0;
        int r = 0;
        if (!chunk)
                chunk = len ? len : 1;
        for (size_t off = 0; off < len && r == 0; off += chunk)
                r = bridle__sse_feed(&p, in + off, len - off < chunk ? len - off : chunk, collect,
                                     s, &err);
        if (r == 0)
                r = bridle__sse_finish(&p, collect, s, &err);
        bridle__sse_release(&p);
        return r;
}

static const struct {
        const char *in, *out;
} cases[] = {
        {"data: hello\n\n", "message|hello|;"},
        {"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n", "a|1|;b|2|;"},
        {"data: x\n\ndata: y\n\n", "message|x|;message|y|;"},
        /* the event type is reset after each dispatch */
        {"event: a\ndata: 1\n\ndata: 2\n\n", "a|1|;message|2|;"},
        {"data: line1\ndata: line2\n\n", "message|line1\\nline2|;"},
        {"data: crlf\r\n\r\n", "message|crlf|;"},
        {"data: cr\r\rdata: two\r\r", "message|cr|;message|two|;"},
        {": a comment\ndata: c\n:another\n\n", "message|c|;"},
        {"data:nospace\n\n", "message|nospace|;"},
        {"data:  two spaces\n\n", "message| two spaces|;"},
        {"data\n\n", "message||;"},
        {"data:\ndata:\n\n", "message|\\n|;"},
        {"id: 7\ndata: a\n\ndata: b\n\n", "message|a|7;message|b|7;"},
        {"retry: 100\nfoo: bar\ndata: z\n\n", "message|z|;"},
        /* no data: nothing to dispatch */
        {"event: ping\n\n", ""},
        {"\n\n\n", ""},
        {"\xEF\xBB\xBF"
         "data: bom\n\n",
         "message|bom|;"},
        /* a complete last line without the blank line: dispatched at the end */
        {"data: last\n", "message|last|;"},
        /* a cut line drops its event */
        {"data: a\ndata: cut", ""},
        {"data: {\"a\":1}\n\nevent: e\ndata: 2", "message|{\"a\":1}|;"},
        {"event: x\r\ndata: 1\r\n\r\nevent: y\rdata: 2\n\r\n", "x|1|;y|2|;"},
        {"data: a:b: c\n\n", "message|a:b: c|;"},
};

static void test_cases(void **state)
{
        (void)state;
        struct sink s = {0};
        for (size_t i = 0; i < (sizeof(cases) / sizeof(cases[0])); i++) {
                size_t len = strlen(cases[i].in);
                assert_int_equal(parse(cases[i].in, len, 0, &s), 0);
                if (strcmp(s.out, cases[i].out) != 0)
                        fail_msg("case %zu: got '%s', want '%s'", i, s.out, cases[i].out);
        }
}

/* Every chunking gives the same events as one feed. */
static void test_chunkings(void **state)
{
        (void)state;
        struct sink whole = {0}, part = {0};
        for (size_t i = 0; i < (sizeof(cases) / sizeof(cases[0])); i++) {
                size_t len = strlen(cases[i].in);
                assert_int_equal(parse(cases[i].in, len, 0, &whole), 0);
                for (size_t chunk = 1; chunk <= len; chunk++) {
                        assert_int_equal(parse(cases[i].in, len, chunk, &part), 0);
                        if (strcmp(whole.out, part.out) != 0)
                                fail_msg("case %zu, chunk %zu: '%s' vs '%s'", i, chunk, part.out,
                                         whole.out);
                }
        }
}

/* A CRLF split between two feeds is one line end, not two. */
static void test_split_crlf(void **state)
{
        (void)state;
        bridle__sse p;
        struct sink s = {0};
        bridle__sse_init(&p, 0, 0);
        assert_int_equal(bridle__sse_feed(&p, "event: a\r", 9, collect, &s, NULL), 0);
        assert_int_equal(bridle__sse_feed(&p, "\ndata: 1\r", 9, collect, &s, NULL), 0);
        assert_int_equal(bridle__sse_feed(&p, "\n\r", 2, collect, &s, NULL), 0);
        assert_int_equal(bridle__sse_feed(&p, "\n", 1, collect, &s, NULL), 0);
        assert_string_equal(s.out, "a|1|;");
        assert_int_equal(s.n, 1);
        bridle__sse_release(&p);
}

static void test_stop(void **state)
{
        (void)state;
        struct sink s = {.stop_at = 2};
        const char *in = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
        assert_int_equal(parse(in, strlen(in), 0, &s), -42);
        assert_int_equal(s.n, 2);
}

static void test_caps(void **state)
{
        (void)state;
        bridle__sse p;
        bridle_error err = {0};
        struct sink s = {0};
        char line[200];
        memset(line, 'x', sizeof(line));
        /* a line over the cap, in one feed and across feeds */
        bridle__sse_init(&p, 64, 128);
        assert_int_equal(bridle__sse_feed(&p, line, sizeof(line), collect, &s, &err),
                         BRIDLE_E_LIMIT);
        assert_non_null(strstr(err.msg, "line longer than 64"));
        bridle__sse_release(&p);
        bridle__sse_init(&p, 64, 128);
        int r = 0;
        for (int i = 0; i < 10 && r == 0; i++)
                r = bridle__sse_feed(&p, line, 10, collect, &s, &err);
        assert_int_equal(r, BRIDLE_E_LIMIT);
        bridle__sse_release(&p);
        /* an event over the cap, from lines under it */
        bridle__sse_init(&p, 64, 128);
        r = 0;
        for (int i = 0; i < 10 && r == 0; i++)
                r = bridle__sse_feed(&p, "data: 0123456789012345678901234567890\n", 38, collect, &s,
                                     &err);
        assert_int_equal(r, BRIDLE_E_LIMIT);
        assert_non_null(strstr(err.msg, "event longer than 128"));
        assert_int_equal(s.n, 0);
        bridle__sse_release(&p);
        /* a long type or id is cut or ignored, not an overflow */
        char big[5000];
        int n = snprintf(big, sizeof(big), "event: %02000d\nid: %02000d\ndata: d\n\n", 1, 2);
        assert_int_equal(parse(big, (size_t)n, 0, &s), 0);
        assert_int_equal(s.n, 1);
}

/* NUL bytes in data are kept (data_len counts them). */
static void test_nul(void **state)
{
        (void)state;
        struct sink s = {0};
        static const char in[] = "data: a\0b\n\n";
        assert_int_equal(parse(in, sizeof(in) - 1, 0, &s), 0);
        assert_string_equal(s.out, "message|a0b|;");
}

/* Allocation failures give -ENOMEM, never a crash or a leak. */
static int nothing(void *ud, const bridle__sse_event *ev)
{
        (void)ud;
        (void)ev;
        return 0;
}

/* retry: digits only, at most 9 of them; kept across events; -1 until one comes. */
static void test_retry(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                long want;
        } c[] = {
                {"data: a\n\n", -1},
                {"retry: 250\ndata: a\n\n", 250},
                {"retry: 250\n\nretry: 10\n\n", 10},
                {"retry: 250\nretry: 1x\n\n", 250}, /* not digits: ignored */
                {"retry: -5\n\n", -1},
                {"retry:\n\n", -1},
                {"retry: 1234567890\n\n", -1}, /* more than 9 digits */
                {"retry: 999999999\n\n", 999999999},
                {"retry: 7\r\n\r\n", 7},
        };
        for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
                bridle__sse p;
                bridle__sse_init(&p, 0, 0);
                assert_int_equal(bridle__sse_feed(&p, c[i].in, strlen(c[i].in), nothing, NULL, NULL), 0);
                if (p.retry_ms != c[i].want)
                        fail_msg("case %zu (%s): retry_ms %ld, want %ld", i, c[i].in, p.retry_ms, c[i].want);
                bridle__sse_release(&p);
        }
}

static void test_alloc_failures(void **state)
{
        (void)state;
        const char *in = "event: a\ndata: 1\ndata: 2\n\ndata: 3";
        for (unsigned long n = 1; n < 50; n++) {
                bridle__sse p;
                struct sink s = {0};
                bridle__sse_init(&p, 0, 0);
                bridle__alloc_fail_at(n);
                int r = bridle__sse_feed(&p, in, 20, collect, &s, NULL);
                if (r == 0)
                        r = bridle__sse_feed(&p, in + 20, strlen(in) - 20, collect, &s, NULL);
                bridle__alloc_fail_at(0);
                bridle__sse_release(&p);
                if (r == 0)
                        return;
                assert_int_equal(r, -ENOMEM);
        }
        fail_msg("never succeeded");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),          cmocka_unit_test(test_chunkings),
                cmocka_unit_test(test_split_crlf),     cmocka_unit_test(test_stop),
                cmocka_unit_test(test_caps),           cmocka_unit_test(test_nul),
                cmocka_unit_test(test_alloc_failures), cmocka_unit_test(test_retry),
        };
        return cmocka_run_group_tests_name("sse", tests, NULL, NULL);
}
