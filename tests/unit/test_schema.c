/* SPDX-License-Identifier: MIT */
/* The JSON Schema subset of tools/tools.h: checks of values (with the place
 * named) and of user-given schemas. Data-driven: one row per case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools.h"
#include "testutil.h"

struct ccase {
        const char *schema;
        const char *value;
        const char *want; /* NULL: valid; else the exact error message */
};

static const struct ccase check_cases[] = {
        /* types */
        {"{\"type\":\"string\"}", "\"a\"", NULL},
        {"{\"type\":\"string\"}", "1", "arguments: expected a string, got integer"},
        {"{\"type\":\"integer\"}", "3", NULL},
        {"{\"type\":\"integer\"}", "3.0", NULL},
        {"{\"type\":\"integer\"}", "3.5", "arguments: expected an integer, got number"},
        {"{\"type\":\"integer\"}", "\"3\"", "arguments: expected an integer, got string"},
        {"{\"type\":\"number\"}", "3", NULL},
        {"{\"type\":\"number\"}", "2.5", NULL},
        {"{\"type\":\"number\"}", "true", "arguments: expected a number, got boolean"},
        {"{\"type\":\"boolean\"}", "false", NULL},
        {"{\"type\":\"boolean\"}", "0", "arguments: expected a boolean, got integer"},
        {"{\"type\":\"null\"}", "null", NULL},
        {"{\"type\":\"null\"}", "{}", "arguments: expected a null, got object"},
        {"{\"type\":\"array\"}", "[]", NULL},
        {"{\"type\":\"array\"}", "{}", "arguments: expected an array, got object"},
        {"{\"type\":\"object\"}", "[]", "arguments: expected an object, got array"},
        {"{\"type\":[\"string\",\"null\"]}", "null", NULL},
        {"{\"type\":[\"string\",\"null\"]}", "\"x\"", NULL},
        {"{\"type\":[\"string\",\"null\"]}", "7",
         "arguments: expected string or null, got integer"},
        {"{}", "[1,{\"a\":null}]", NULL},
        {"true", "5", NULL},
        /* objects */
        {"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}", "{\"path\":3}",
         "arguments.path: expected a string, got integer"},
        {"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":["
         "\"path\"]}",
         "{}", "arguments.path: missing (required)"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":false}",
         "{\"a\":1,\"b\":2}", "arguments.b: unknown property"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":true}",
         "{\"a\":1,\"b\":2}", NULL},
        {"{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
         "{\"x\":1,\"y\":\"no\"}", "arguments.y: expected an integer, got string"},
        {"{\"type\":\"object\",\"properties\":{\"o\":{\"type\":\"object\",\"properties\":{\"p\":{"
         "\"type\":"
         "\"object\",\"properties\":{\"q\":{\"type\":\"boolean\"}}}}}}}",
         "{\"o\":{\"p\":{\"q\":\"yes\"}}}", "arguments.o.p.q: expected a boolean, got string"},
        {"{\"type\":\"object\",\"properties\":{\"o\":{\"type\":\"object\",\"required\":[\"z\"]}}}",
         "{\"o\":{}}", "arguments.o.z: missing (required)"},
        /* arrays */
        {"{\"type\":\"array\",\"items\":{\"type\":\"string\"}}", "[\"a\",\"b\"]", NULL},
        {"{\"type\":\"array\",\"items\":{\"type\":\"string\"}}", "[\"a\",2]",
         "arguments[1]: expected a string, got integer"},
        {"{\"type\":\"object\",\"properties\":{\"files\":{\"type\":\"array\",\"items\":{\"type\":"
         "\"object\","
         "\"properties\":{\"path\":{\"type\":\"string\"}}}}}}",
         "{\"files\":[{\"path\":\"a\"},{\"path\":\"b\"},{\"path\":9}]}",
         "arguments.files[2].path: expected a string, got integer"},
        {"{\"type\":\"array\",\"minItems\":2}", "[1]",
         "arguments: expected at least 2 items, got 1"},
        {"{\"type\":\"array\",\"maxItems\":1}", "[1,2]",
         "arguments: expected at most 1 items, got 2"},
        {"{\"type\":\"array\",\"minItems\":1,\"maxItems\":3}", "[1,2,3]", NULL},
        /* enum, const */
        {"{\"enum\":[\"a\",\"b\"]}", "\"b\"", NULL},
        {"{\"enum\":[\"a\",\"b\"]}", "\"c\"", "arguments: expected one of [\"a\",\"b\"]"},
        {"{\"enum\":[1,null]}", "null", NULL},
        {"{\"const\":\"x\"}", "\"x\"", NULL},
        {"{\"const\":\"x\"}", "\"y\"", "arguments: expected \"x\""},
        /* bounds */
        {"{\"type\":\"integer\",\"minimum\":1}", "0", "arguments: 0 is less than the minimum 1"},
        {"{\"type\":\"integer\",\"minimum\":1}", "1", NULL},
        {"{\"type\":\"integer\",\"maximum\":5}", "6", "arguments: 6 is more than the maximum 5"},
        {"{\"type\":\"number\",\"maximum\":1.5}", "1.5", NULL},
        {"{\"type\":\"string\",\"minLength\":1}", "\"\"",
         "arguments: expected at least 1 characters, got 0"},
        {"{\"type\":\"string\",\"maxLength\":2}", "\"h\\u00e9\"", NULL},
        {"{\"type\":\"string\",\"maxLength\":2}", "\"abc\"",
         "arguments: expected at most 2 characters, got 3"},
        /* unknown keywords are ignored when checking */
        {"{\"type\":\"string\",\"pattern\":\"^a$\"}", "\"b\"", NULL},
};

static void test_check_cases(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
                const struct ccase *c = &check_cases[i];
                json_error_t je;
                json_t *s = json_loads(c->schema, JSON_DECODE_ANY, &je);
                json_t *v = json_loads(c->value, JSON_DECODE_ANY, &je);
                assert_non_null(s);
                assert_non_null(v);
                bridle_error e = {0};
                int r = bridle__schema_check(s, v, &e);
                if (c->want) {
                        if (r >= 0 || strcmp(e.msg, c->want) != 0)
                                fprintf(stderr, "case %zu: %s / %s: got %d '%s'\n", i, c->schema,
                                        c->value, r, e.msg);
                        assert_int_equal(r, BRIDLE_E_INVALID);
                        assert_string_equal(e.msg, c->want);
                } else {
                        if (r < 0)
                                fprintf(stderr, "case %zu: %s / %s: %s\n", i, c->schema, c->value,
                                        e.msg);
                        assert_int_equal(r, 0);
                }
                json_decref(s);
                json_decref(v);
        }
}

static void test_depth_bounded(void **state)
{
        (void)state;
        /* A schema nested 40 levels deep, and a value that follows it. */
        json_t *schema = json_pack("{s:s}", "type", "string");
        json_t *value = json_string("x");
        for (int i = 0; i < 40; i++) {
                schema = json_pack("{s:s,s:{s:o}}", "type", "object", "properties", "a", schema);
                value = json_pack("{s:o}", "a", value);
        }
        bridle_error e = {0};
        assert_int_equal(bridle__schema_check(schema, value, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "nested more than"));
        assert_int_equal(bridle__schema_valid(schema, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "nested more than"));
        json_decref(schema);
        json_decref(value);
}

static void test_long_path_does_not_overflow(void **state)
{
        (void)state;
        char key[300];
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        json_t *schema = json_pack("{s:s,s:{s:{s:s}}}", "type", "object", "properties", key, "type",
                                   "integer");
        json_t *value = json_pack("{s:s}", key, "x");
        bridle_error e = {0};
        assert_int_equal(bridle__schema_check(schema, value, &e), BRIDLE_E_INVALID);
        assert_true(strncmp(e.msg, "arguments.kkk", 13) == 0);
        json_decref(schema);
        json_decref(value);
}

struct vcase {
        const char *schema;
        const char *want; /* NULL: valid; else a substring of the error */
};

static const struct vcase valid_cases[] = {
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"description\":\"x\"}},"
         "\"required\":[\"a\"],\"additionalProperties\":false}",
         NULL},
        {"{\"type\":\"object\"}", NULL},
        {"{\"type\":\"object\",\"properties\":{\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":"
         "0}}}",
         NULL},
        {"{\"type\":\"object\",\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"enum\":[1,2]}"
         ","
         "\"maxItems\":4}}}",
         NULL},
        {"{\"type\":\"object\",\"properties\":{\"f\":{\"type\":\"string\",\"format\":\"uri\","
         "\"default\":\"x\"}}}",
         NULL},
        {"[]", "expected a schema (a mapping), got array"},
        {"{\"type\":\"string\"}", "the top level must have type 'object'"},
        {"{\"properties\":{}}", "the top level must have type 'object'"},
        {"{\"type\":\"objekt\"}", "unknown type 'objekt'"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"float\"}}}",
         "parameters.properties.a: unknown type 'float'"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":[\"string\",5]}}}", "type[1]"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"anyOf\":[]}}}",
         "keyword 'anyOf' is not supported"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/x\"}}}",
         "keyword '$ref' is not supported"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"x\"}}}",
         "keyword 'pattern' is not supported"},
        {"{\"type\":\"object\",\"properties\":[]}", "properties: expected a mapping"},
        {"{\"type\":\"object\",\"required\":\"a\"}", "required: expected a list"},
        {"{\"type\":\"object\",\"required\":[1]}", "required[0]: expected a string"},
        {"{\"type\":\"object\",\"additionalProperties\":1}",
         "additionalProperties: expected a boolean"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":-1}}}",
         "minLength: expected a non-negative integer"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"minimum\":\"1\"}}}",
         "minimum: expected a number"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"enum\":[]}}}",
         "enum: expected a non-empty list"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"items\":3}}}",
         "items: expected a schema"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"type\":\"x\"}"
         "}}}",
         "parameters.properties.a.items: unknown type 'x'"},
        {"{\"type\":\"object\",\"properties\":{\"a\":3}}",
         "parameters.properties.a: expected a schema"},
};

static void test_valid_cases(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
                const struct vcase *c = &valid_cases[i];
                json_error_t je;
                json_t *s = json_loads(c->schema, JSON_DECODE_ANY, &je);
                assert_non_null(s);
                bridle_error e = {0};
                int r = bridle__schema_valid(s, &e);
                if ((c->want && (r >= 0 || !strstr(e.msg, c->want))) || (!c->want && r < 0))
                        fprintf(stderr, "case %zu: %s: got %d '%s'\n", i, c->schema, r, e.msg);
                if (c->want) {
                        assert_int_equal(r, BRIDLE_E_INVALID);
                        assert_non_null(strstr(e.msg, c->want));
                } else {
                        assert_int_equal(r, 0);
                }
                json_decref(s);
        }
}

static void test_null_value(void **state)
{
        (void)state;
        bridle_error e = {0};
        json_t *s = json_pack("{s:s}", "type", "object");
        assert_true(bridle__schema_check(s, NULL, &e) < 0);
        json_decref(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_cases),
                cmocka_unit_test(test_depth_bounded),
                cmocka_unit_test(test_long_path_does_not_overflow),
                cmocka_unit_test(test_valid_cases),
                cmocka_unit_test(test_null_value),
        };
        return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
