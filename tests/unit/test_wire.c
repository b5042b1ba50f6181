/* SPDX-License-Identifier: MIT */
/* The wire's frames: round trips, split and merged reads, every protocol error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/wire.h"
#include "testutil.h"

/* A frame: WRITE with a path and some bytes. */
static uint8_t *make_frame(uint32_t id, const char *path, const char *data, size_t *ret_len)
{
        bridle__plan p;
        bridle__wire_begin(&p);
        assert_int_equal(bridle__plan_add(&p, BRIDLE__OP_MODE, "sb", path, data, strlen(data)), 0);
        int n = bridle__wire_finish(&p, BRIDLE__MSG_WRITE, id);
        assert_true(n > (int)BRIDLE__WIRE_HDR);
        uint8_t *out = malloc((size_t)n);
        assert_non_null(out);
        memcpy(out, p.buf, (size_t)n);
        bridle__plan_release(&p);
        *ret_len = (size_t)n;
        return out;
}

static void check_frame(const struct bridle__frame *f, uint32_t id, const char *path, const char *data)
{
        assert_int_equal(f->type, BRIDLE__MSG_WRITE);
        assert_int_equal(f->id, id);
        bridle__cursor c;
        bridle__rec rec;
        bridle__wire_records(f, &c);
        assert_int_equal(bridle__plan_next(&c, &rec), 1);
        bridle__cursor fc = { rec.p, rec.len };
        char s[256];
        const uint8_t *b;
        uint32_t l;
        assert_int_equal(bridle__rec_str(&fc, s, sizeof(s)), 0);
        assert_string_equal(s, path);
        assert_int_equal(bridle__rec_bytes(&fc, &b, &l), 0);
        assert_int_equal(l, strlen(data));
        assert_memory_equal(b, data, l);
        assert_int_equal(bridle__plan_next(&c, &rec), 0);
}

static void test_round_trip_byte_by_byte(void **state)
{
        (void)state;
        size_t n;
        uint8_t *f = make_frame(7, "notes.md", "hello\n", &n);
        struct bridle__wire_reader r;
        struct bridle__frame fr;
        bridle__wire_reader_init(&r);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(bridle__wire_next(&r, &fr), 0);
                assert_int_equal(bridle__wire_feed(&r, f + i, 1), 0);
        }
        assert_int_equal(bridle__wire_next(&r, &fr), 1);
        check_frame(&fr, 7, "notes.md", "hello\n");
        assert_int_equal(bridle__wire_next(&r, &fr), 0);
        bridle__wire_reader_release(&r);
        free(f);
}

static void test_many_frames_in_one_read(void **state)
{
        (void)state;
        size_t n1, n2;
        uint8_t *a = make_frame(1, "a", "x", &n1);
        uint8_t *b = make_frame(2, "b/c", "yy", &n2);
        uint8_t buf[256];
        assert_true(n1 + n2 + n1 < sizeof(buf));
        memcpy(buf, a, n1);
        memcpy(buf + n1, b, n2);
        memcpy(buf + n1 + n2, a, 5); /* the start of a third */
        struct bridle__wire_reader r;
        struct bridle__frame fr;
        bridle__wire_reader_init(&r);
        assert_int_equal(bridle__wire_feed(&r, buf, n1 + n2 + 5), 0);
        assert_int_equal(bridle__wire_next(&r, &fr), 1);
        check_frame(&fr, 1, "a", "x");
        assert_int_equal(bridle__wire_next(&r, &fr), 1);
        check_frame(&fr, 2, "b/c", "yy");
        assert_int_equal(bridle__wire_next(&r, &fr), 0);
        assert_int_equal(bridle__wire_feed(&r, a + 5, n1 - 5), 0);
        assert_int_equal(bridle__wire_next(&r, &fr), 1);
        check_frame(&fr, 1, "a", "x");
        bridle__wire_reader_release(&r);
        free(a);
        free(b);
}

static void test_empty_frame(void **state)
{
        (void)state;
        bridle__plan p;
        bridle__wire_begin(&p);
        int n = bridle__wire_finish(&p, BRIDLE__MSG_QUIESCE, 9);
        assert_int_equal(n, (int)BRIDLE__WIRE_HDR);
        struct bridle__wire_reader r;
        struct bridle__frame fr;
        bridle__wire_reader_init(&r);
        assert_int_equal(bridle__wire_feed(&r, p.buf, (size_t)n), 0);
        assert_int_equal(bridle__wire_next(&r, &fr), 1);
        assert_int_equal(fr.type, BRIDLE__MSG_QUIESCE);
        assert_int_equal(fr.len, 0);
        bridle__wire_reader_release(&r);
        bridle__plan_release(&p);
}

/* Corrupt one header field; the reader must refuse and stay refused. */
static void expect_broken(size_t off, uint32_t value, size_t width, int code)
{
        size_t n;
        uint8_t *f = make_frame(3, "p", "d", &n);
        memcpy(f + off, &value, width);
        struct bridle__wire_reader r;
        struct bridle__frame fr;
        bridle__wire_reader_init(&r);
        assert_int_equal(bridle__wire_feed(&r, f, n), 0);
        assert_int_equal(bridle__wire_next(&r, &fr), code);
        assert_int_equal(bridle__wire_next(&r, &fr), code);
        assert_int_equal(bridle__wire_feed(&r, f, n), code);
        bridle__wire_reader_release(&r);
        free(f);
}

static void test_protocol_errors(void **state)
{
        (void)state;
        expect_broken(0, 0x12345678u, 4, -EPROTO);              /* magic */
        expect_broken(4, 2u, 2, -EPROTO);                       /* version */
        expect_broken(6, 0u, 2, -EPROTO);                       /* type 0 */
        expect_broken(6, BRIDLE__MSG_MAX, 2, -EPROTO);          /* unknown type */
        expect_broken(12, BRIDLE__WIRE_MAX + 1, 4, -EMSGSIZE);  /* oversized */
}

static void test_oversized_write_refused(void **state)
{
        (void)state;
        bridle__plan p;
        bridle__wire_begin(&p);
        size_t big = (size_t)BRIDLE__WIRE_MAX + 1;
        char *data = calloc(1, big);
        assert_non_null(data);
        /* The record encoder's own cap is larger; the frame's is the one that bites. */
        if (bridle__plan_add(&p, BRIDLE__OP_MODE, "b", data, big) == 0)
                assert_int_equal(bridle__wire_finish(&p, BRIDLE__MSG_WRITE, 1), -EMSGSIZE);
        free(data);
        bridle__plan_release(&p);
}

/* A malformed record inside a well-framed payload is the consumer's to refuse. */
static void test_bad_records(void **state)
{
        (void)state;
        uint8_t payload[8] = { 1, 0, 0, 0, 0xff, 0xff, 0, 0 }; /* record length past the end */
        struct bridle__frame f = { BRIDLE__MSG_WRITE, 1, payload, sizeof(payload) };
        bridle__cursor c;
        bridle__rec rec;
        bridle__wire_records(&f, &c);
        assert_true(bridle__plan_next(&c, &rec) < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip_byte_by_byte),
                cmocka_unit_test(test_many_frames_in_one_read),
                cmocka_unit_test(test_empty_frame),
                cmocka_unit_test(test_protocol_errors),
                cmocka_unit_test(test_oversized_write_refused),
                cmocka_unit_test(test_bad_records),
        };
        return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
