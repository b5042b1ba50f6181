/* SPDX-License-Identifier: MIT */
/* The MCP client's CallToolResult rendering (src/mcp/client.h) on good and hostile input. */
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/client.h"

static void render(const char *json, bridle__mcp_result *res)
{
        json_error_t je;
        json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
        assert_non_null(j);
        assert_int_equal(bridle__mcp_result_from_json(j, res), 0);
        json_decref(j);
        assert_non_null(res->text);
}

static void test_items(void **state)
{
        (void)state;
        bridle__mcp_result res;
        render("{\"content\":[{\"type\":\"text\",\"text\":\"one\"},"
               "{\"type\":\"image\",\"mimeType\":\"image/png\",\"data\":\"AAAA\"},"
               "{\"type\":\"audio\",\"mimeType\":\"audio/wav\",\"data\":\"AAAAAA==\"},"
               "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///a\",\"text\":\"body\"}},"
               "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///b\",\"blob\":\"AAAA\"}},"
               "{\"type\":\"resource_link\",\"uri\":\"file:///c\",\"name\":\"c\"},"
               "{\"type\":\"hologram\"}],\"isError\":true}",
               &res);
        assert_string_equal(res.text, "one\n[image/png, 3 bytes]\n[audio/wav, 4 bytes]\n[resource file:///a]\nbody\n"
                                      "[resource file:///b, 3 bytes]\n[resource file:///c]\n[hologram content]");
        assert_true(res.is_error);
        assert_null(res.structured);
        bridle__mcp_result_clear(&res);
}

static void test_structured(void **state)
{
        (void)state;
        bridle__mcp_result res;
        render("{\"content\":[],\"structuredContent\":{\"a\":1}}", &res);
        assert_string_equal(res.text, "{\"a\":1}");
        assert_non_null(res.structured);
        assert_false(res.is_error);
        bridle__mcp_result_clear(&res);
        /* with a text item, the text stands alone (servers serialize it there) */
        render("{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\": 1}\"}],\"structuredContent\":{\"a\":1}}", &res);
        assert_string_equal(res.text, "{\"a\": 1}");
        assert_non_null(res.structured);
        bridle__mcp_result_clear(&res);
}

static void test_hostile(void **state)
{
        (void)state;
        static const char *const cases[] = {
                "{}", "[]", "3", "{\"content\":7}", "{\"content\":[1,null,\"x\",[]]}",
                "{\"content\":[{\"type\":3},{\"type\":\"text\",\"text\":5},{\"type\":\"image\",\"data\":7}]}",
                "{\"content\":[{\"type\":\"resource\",\"resource\":\"x\"}],\"isError\":\"yes\"}",
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                bridle__mcp_result res;
                render(cases[i], &res);
                assert_false(res.is_error);
                bridle__mcp_result_clear(&res);
        }
}

static void test_bad_transports(void **state)
{
        (void)state;
        bridle_error err = {0};
        bridle__mcp_transport *t = NULL;
        static const char *const empty[] = {NULL};
        assert_int_equal(bridle__mcp_stdio_new(empty, NULL, NULL, &t, &err), BRIDLE_E_INVALID);
        assert_int_equal(bridle__mcp_http_new("ftp://x/", NULL, &t, &err), BRIDLE_E_INVALID);
        static const char *const bad[] = {"X-A: b\r\nX-Evil: c", NULL};
        int r = bridle__mcp_http_new("http://127.0.0.1:1/mcp", bad, &t, &err);
        if (r != BRIDLE_E_UNSUPPORTED) /* no libcurl on the host */
                assert_int_equal(r, BRIDLE_E_INVALID);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_items),
                cmocka_unit_test(test_structured),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_bad_transports),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
