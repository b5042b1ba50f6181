/* SPDX-License-Identifier: MIT */
/* The YAML/JSON document loader: values, positions, refusals, caps, OOM. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/yaml.h"

static bridle__doc *load_ok(const char *text)
{
        bridle__doc *doc = NULL;
        bridle_error err = { 0 };
        int r = bridle__doc_load(text, strlen(text), "t.yaml", &doc, &err);
        if (r < 0)
                fail_msg("load failed: %s", err.msg);
        assert_non_null(doc);
        return doc;
}

static void load_err(const char *text, size_t len, int code, const char *msg)
{
        bridle__doc *doc = NULL;
        bridle_error err = { 0 };
        int r = bridle__doc_load(text, len, "t.yaml", &doc, &err);
        assert_int_equal(r, code);
        assert_int_equal(err.code, code);
        assert_null(doc);
        if (msg)
                assert_string_equal(err.msg, msg);
}

#define LOAD_ERR(text, code, msg) load_err((text), strlen(text), (code), (msg))

static void assert_pos(const bridle__docpos *p, int line, int col)
{
        assert_non_null(p);
        assert_int_equal(p->line, line);
        assert_int_equal(p->col, col);
}

static void test_scalars(void **state)
{
        (void)state;
        bridle__doc *doc = load_ok("n1: null\nn2: ~\nn3:\nt: True\nf: false\n"
                                   "i: -12\no: 0o17\nx: 0x1F\nlz: 0644\nr: 1.5e3\n"
                                   "s1: yes\ns2: on\ns3: 1_000\ns4: '12'\ns5: \"true\"\n"
                                   "s6: 1.2.3\ns7: .5.\nd: .5\n");
        json_t *root = bridle__doc_root(doc);
        assert_true(json_is_null(json_object_get(root, "n1")));
        assert_true(json_is_null(json_object_get(root, "n2")));
        assert_true(json_is_null(json_object_get(root, "n3")));
        assert_true(json_is_true(json_object_get(root, "t")));
        assert_true(json_is_false(json_object_get(root, "f")));
        assert_int_equal(json_integer_value(json_object_get(root, "i")), -12);
        assert_int_equal(json_integer_value(json_object_get(root, "o")), 15);
        assert_int_equal(json_integer_value(json_object_get(root, "x")), 31);
        /* YAML 1.2: a leading zero is decimal; the text is kept. */
        assert_int_equal(json_integer_value(json_object_get(root, "lz")), 644);
        assert_string_equal(bridle__doc_slot(doc, root, "lz", 0)->raw, "0644");
        assert_true(json_is_real(json_object_get(root, "r")));
        assert_true(json_real_value(json_object_get(root, "r")) == 1500.0);
        assert_true(json_real_value(json_object_get(root, "d")) == 0.5);
        const char *strings[][2] = { { "s1", "yes" }, { "s2", "on" },     { "s3", "1_000" },
                                     { "s4", "12" },  { "s5", "true" },   { "s6", "1.2.3" },
                                     { "s7", ".5." } };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                json_t *v = json_object_get(root, strings[i][0]);
                assert_true(json_is_string(v));
                assert_string_equal(json_string_value(v), strings[i][1]);
                assert_null(bridle__doc_slot(doc, root, strings[i][0], 0)->raw);
        }
        bridle__doc_free(doc);
}

static void test_positions_yaml(void **state)
{
        (void)state;
        bridle__doc *doc = load_ok("# comment\n"
                                   "a: 1\n"
                                   "list:\n"
                                   "  - x\n"
                                   "  - {k: true, m: [null, 'q']}\n");
        json_t *root = bridle__doc_root(doc);
        assert_pos(bridle__doc_slot(doc, NULL, NULL, 0), 2, 1);
        const bridle__docpos *a = bridle__doc_slot(doc, root, "a", 0);
        assert_pos(a, 2, 4);
        assert_int_equal(a->key_line, 2);
        assert_int_equal(a->key_col, 1);
        json_t *list = json_object_get(root, "list");
        assert_pos(bridle__doc_node(doc, list), 4, 3);
        assert_pos(bridle__doc_slot(doc, list, NULL, 0), 4, 5);
        json_t *map = json_array_get(list, 1);
        assert_pos(bridle__doc_node(doc, map), 5, 5);
        /* true is a shared singleton: found by slot, not by identity. */
        const bridle__docpos *k = bridle__doc_slot(doc, map, "k", 0);
        assert_pos(k, 5, 9);
        assert_int_equal(k->key_col, 6);
        assert_null(bridle__doc_node(doc, json_object_get(map, "k")));
        json_t *m = json_object_get(map, "m");
        assert_pos(bridle__doc_slot(doc, m, NULL, 0), 5, 19);
        assert_pos(bridle__doc_slot(doc, m, NULL, 1), 5, 25);
        assert_null(bridle__doc_slot(doc, m, NULL, 2));
        assert_null(bridle__doc_slot(doc, map, "nope", 0));
        int line = 0, col = 0;
        assert_int_equal(bridle__doc_pos(doc, json_array_get(m, 1), &line, &col), 0);
        assert_int_equal(line, 5);
        assert_int_equal(col, 25);
        assert_int_equal(bridle__doc_pos(doc, json_array_get(m, 0), &line, &col), -ENOENT);
        bridle__doc_free(doc);
}

static void test_positions_json(void **state)
{
        (void)state;
        /* Valid JSON, with what libyaml alone refuses: escaped surrogate pairs. */
        bridle__doc *doc = load_ok("{\"a\":1,\n\t\"b\": [true, \"\\ud83d\\ude00\", 2.5],\r\n"
                                   " \"\\u00e9\": {\"n\": null}}");
        json_t *root = bridle__doc_root(doc);
        const bridle__docpos *a = bridle__doc_slot(doc, root, "a", 0);
        assert_pos(a, 1, 6);
        assert_int_equal(a->key_col, 2);
        assert_string_equal(a->raw, "1");
        json_t *b = json_object_get(root, "b");
        assert_pos(bridle__doc_node(doc, b), 2, 7);
        assert_pos(bridle__doc_slot(doc, b, NULL, 0), 2, 8);
        assert_string_equal(json_string_value(json_array_get(b, 1)), "\xf0\x9f\x98\x80");
        assert_pos(bridle__doc_slot(doc, b, NULL, 2), 2, 30);
        assert_string_equal(bridle__doc_slot(doc, b, NULL, 2)->raw, "2.5");
        json_t *e = json_object_get(root, "\xc3\xa9");
        assert_non_null(e);
        assert_pos(bridle__doc_node(doc, e), 3, 12);
        assert_pos(bridle__doc_slot(doc, e, "n", 0), 3, 18);
        bridle__doc_free(doc);
}

static void test_json_nul_and_fallback(void **state)
{
        (void)state;
        /* NUL inside a JSON string value is kept (length-aware). */
        bridle__doc *doc = load_ok("{\"c\": \"a\\u0000b\"}");
        json_t *c = json_object_get(bridle__doc_root(doc), "c");
        assert_int_equal(json_string_length(c), 3);
        bridle__doc_free(doc);
        /* Not JSON (trailing comma): parsed as YAML flow syntax. */
        doc = load_ok("[1, 2,]");
        assert_int_equal(json_array_size(bridle__doc_root(doc)), 2);
        bridle__doc_free(doc);
        /* A flow mapping with plain scalars is YAML, not JSON. */
        doc = load_ok("{a: b}");
        assert_string_equal(json_string_value(json_object_get(bridle__doc_root(doc), "a")), "b");
        bridle__doc_free(doc);
}

static void test_empty(void **state)
{
        (void)state;
        bridle__doc *doc = load_ok("# nothing\n");
        assert_true(json_is_null(bridle__doc_root(doc)));
        assert_pos(bridle__doc_slot(doc, NULL, NULL, 0), 1, 1);
        bridle__doc_free(doc);
        doc = NULL;
        assert_int_equal(bridle__doc_load(NULL, 0, NULL, &doc, NULL), 0);
        assert_string_equal(bridle__doc_name(doc), "<input>");
        bridle__doc_free(doc);
}

static void test_refusals(void **state)
{
        (void)state;
        LOAD_ERR("a: 1\nb: 2\na: 3\n", BRIDLE_E_INVALID, "t.yaml:3:1: duplicate key 'a' (first at 1:1)");
        LOAD_ERR("{\"a\": 1, \"a\": 2}", BRIDLE_E_INVALID,
                 "t.yaml:1:10: duplicate key 'a' (first at 1:2)");
        LOAD_ERR("a: &x 1\nb: *x\n", BRIDLE_E_INVALID,
                 "t.yaml:1:4: anchors and aliases are not supported");
        LOAD_ERR("a: *x\n", BRIDLE_E_INVALID, NULL);
        LOAD_ERR("a: &x [1]\n", BRIDLE_E_INVALID,
                 "t.yaml:1:4: anchors and aliases are not supported");
        LOAD_ERR("a: !!str 1\n", BRIDLE_E_INVALID, "t.yaml:1:4: tags are not supported");
        LOAD_ERR("a: !custom {}\n", BRIDLE_E_INVALID, "t.yaml:1:4: tags are not supported");
        LOAD_ERR("a: 1\n---\nb: 2\n", BRIDLE_E_INVALID,
                 "t.yaml:2:1: more than one document ('---') is not supported");
        LOAD_ERR("1: a\n", BRIDLE_E_INVALID, "t.yaml:1:1: key '1' is not a string (quote it)");
        LOAD_ERR("null: a\n", BRIDLE_E_INVALID, NULL);
        LOAD_ERR("? [a]\n: 1\n", BRIDLE_E_INVALID,
                 "t.yaml:1:3: a list cannot be a key (keys are strings)");
        LOAD_ERR("{? {a: 1}: 1}\n", BRIDLE_E_INVALID, NULL);
        LOAD_ERR("\"a\\0b\": 1\n", BRIDLE_E_INVALID, "t.yaml:1:1: key 'a?b' contains a NUL byte");
        LOAD_ERR("a: .inf\n", BRIDLE_E_INVALID,
                 "t.yaml:1:4: '.inf': infinite and NaN numbers are not supported");
        LOAD_ERR("a: .NaN\n", BRIDLE_E_INVALID, NULL);
        LOAD_ERR("a: 9223372036854775808\n", BRIDLE_E_INVALID,
                 "t.yaml:1:4: number '9223372036854775808' is out of range");
        LOAD_ERR("a: 0x8000000000000000\n", BRIDLE_E_INVALID, NULL);
        LOAD_ERR("a: 1e999\n", BRIDLE_E_INVALID, NULL);
        LOAD_ERR("a: [1\n", BRIDLE_E_INVALID,
                 "t.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at 1:4)");
        LOAD_ERR("a:\n\tb: 1\n", BRIDLE_E_INVALID,
                 "t.yaml:2:1: found character that cannot start any token (a tab: YAML is "
                 "indented with spaces)");
        /* Invalid UTF-8: the reader's byte offset becomes a line and column. */
        LOAD_ERR("a: 1\nb: \xff\n", BRIDLE_E_INVALID, NULL);
        load_err("a: 1\0", 5, BRIDLE_E_INVALID, NULL);
}

static void test_reader_error_position(void **state)
{
        (void)state;
        bridle_error err = { 0 };
        bridle__doc *doc = NULL;
        const char text[] = "a: 1\nb: x\xff\n";
        assert_int_equal(bridle__doc_load(text, sizeof(text) - 1, "t.yaml", &doc, &err),
                         BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "t.yaml:2:"));
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
        size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
        char *s = malloc(hl + ul * n + tl + 1);
        assert_non_null(s);
        memcpy(s, head, hl);
        for (size_t i = 0; i < n; i++)
                memcpy(s + hl + i * ul, unit, ul);
        memcpy(s + hl + n * ul, tail, tl + 1);
        return s;
}

static void test_depth_cap(void **state)
{
        (void)state;
        char *ok = repeat("", "[", BRIDLE__DOC_MAX_DEPTH, "");
        char *deep = repeat("", "[", BRIDLE__DOC_MAX_DEPTH + 1, "");
        char *okc = repeat(ok, "]", BRIDLE__DOC_MAX_DEPTH, "");
        char *deepc = repeat(deep, "]", BRIDLE__DOC_MAX_DEPTH + 1, "");
        bridle__doc *doc = load_ok(okc);
        bridle__doc_free(doc);
        /* As JSON (jansson) and as YAML (unterminated: libyaml). */
        LOAD_ERR(deepc, BRIDLE_E_LIMIT, "t.yaml:1:65: nested deeper than 64 levels");
        LOAD_ERR(deep, BRIDLE_E_LIMIT, "t.yaml:1:65: nested deeper than 64 levels");
        char *blocks = repeat("", "- ", 100, "x\n");
        LOAD_ERR(blocks, BRIDLE_E_LIMIT, NULL);
        free(ok);
        free(deep);
        free(okc);
        free(deepc);
        free(blocks);
}

static void test_node_cap(void **state)
{
        (void)state;
        char *many = repeat("[", "0,", BRIDLE__DOC_MAX_NODES, "0]");
        char *yaml_many = repeat("[", "0, ", BRIDLE__DOC_MAX_NODES, "a]");
        char *fits = repeat("[", "0,", BRIDLE__DOC_MAX_NODES - 2, "0]");
        LOAD_ERR(many, BRIDLE_E_LIMIT, NULL);
        LOAD_ERR(yaml_many, BRIDLE_E_LIMIT, NULL);
        bridle__doc *doc = load_ok(fits);
        assert_int_equal(json_array_size(bridle__doc_root(doc)), BRIDLE__DOC_MAX_NODES - 1);
        bridle__doc_free(doc);
        free(many);
        free(yaml_many);
        free(fits);
}

static void test_size_cap(void **state)
{
        (void)state;
        size_t n = BRIDLE__DOC_MAX_SIZE + 1;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, '#', n);
        load_err(big, n, BRIDLE_E_LIMIT, "t.yaml: larger than 4194304 bytes");
        big[n - 2] = '\n';
        /* Exactly the cap: a comment-only document loads. */
        bridle__doc *doc = NULL;
        assert_int_equal(bridle__doc_load(big, n - 1, "t.yaml", &doc, NULL), 0);
        bridle__doc_free(doc);
        free(big);
}

static void test_billion_laughs(void **state)
{
        (void)state;
        LOAD_ERR("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n", BRIDLE_E_INVALID,
                 "t.yaml:1:4: anchors and aliases are not supported");
}

static void test_quote(void **state)
{
        (void)state;
        char buf[16];
        assert_string_equal(bridle__doc_quote("a\nb\x7f", 4, buf, sizeof(buf)), "a?b?");
        assert_string_equal(bridle__doc_quote("0123456789abcdefghij", 20, buf, sizeof(buf)),
                            "0123456789ab...");
        /* Never cut inside a UTF-8 sequence. */
        assert_string_equal(bridle__doc_quote("0123456789a\xc3\xa9xxxxxx", 19, buf, sizeof(buf)),
                            "0123456789a...");
}

static void test_err_format(void **state)
{
        (void)state;
        bridle__doc *doc = load_ok("a: 1\n");
        bridle_error err = { 0 };
        assert_int_equal(bridle__doc_err(doc, 3, 7, &err, BRIDLE_E_INVALID, "x: %s", "bad"),
                         BRIDLE_E_INVALID);
        assert_string_equal(err.msg, "t.yaml:3:7: x: bad");
        assert_int_equal(bridle__doc_err(doc, 0, 0, &err, BRIDLE_E_LIMIT, "big"), BRIDLE_E_LIMIT);
        assert_string_equal(err.msg, "t.yaml: big");
        assert_int_equal(bridle__doc_err(doc, 1, 1, NULL, BRIDLE_E_LIMIT, "big"), BRIDLE_E_LIMIT);
        assert_string_equal(bridle__json_type_name(json_object_get(bridle__doc_root(doc), "a")),
                            "integer");
        bridle__doc_free(doc);
}

static void alloc_loop(const char *text)
{
        unsigned long n;
        for (n = 1; n < 100000; n++) {
                bridle__doc *doc = NULL;
                bridle_error err = { 0 };
                bridle__alloc_fail_at(n);
                int r = bridle__doc_load(text, strlen(text), "t.yaml", &doc, &err);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        assert_non_null(doc);
                        bridle__doc_free(doc);
                        break;
                }
                assert_int_equal(r, -ENOMEM);
                assert_int_equal(err.code, -ENOMEM);
                assert_null(doc);
        }
        assert_true(n > 1);
        assert_true(n < 100000);
}

static void test_alloc_failures(void **state)
{
        (void)state;
        alloc_loop("a: 1\nb: [x, true, {c: 2.5}]\nd: {e: f}\n");
        alloc_loop("{\"a\": 1, \"b\": [\"x\", true, {\"c\": 2.5}], \"d\": {\"e\": \"f\"}}");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalars),
                cmocka_unit_test(test_positions_yaml),
                cmocka_unit_test(test_positions_json),
                cmocka_unit_test(test_json_nul_and_fallback),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_reader_error_position),
                cmocka_unit_test(test_depth_cap),
                cmocka_unit_test(test_node_cap),
                cmocka_unit_test(test_size_cap),
                cmocka_unit_test(test_billion_laughs),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_err_format),
                cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
