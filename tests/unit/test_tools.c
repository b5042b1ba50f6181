/* SPDX-License-Identifier: MIT */
/*
 * The tools module: registry, caps, argument errors, C function tools, and
 * every built-in, command tool, native item and the instructions builder
 * against a real living sandbox (private BRIDLE_HOME). Sandbox tests skip when
 * the host cannot make one (no user namespaces); every wait is bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "tools/internal.h"
#include "tools/tools.h"
#include "util/alloc.h"
#include "testutil.h"

static char *home;
static char *sid;
static char create_error[512];
static int sandbox_calls;

static const char *sandbox_cb(void *ud, bridle_error *err)
{
        (void)err;
        sandbox_calls++;
        return ud;
}

static const char *no_sandbox_cb(void *ud, bridle_error *err)
{
        (void)ud;
        sandbox_calls++;
        (void)snprintf(err->msg, sizeof(err->msg), "no sandbox in this test");
        err->code = BRIDLE_E_SANDBOX;
        return NULL;
}

static int setup(void **state)
{
        (void)state;
        home = bridle_test_tmpdir();
        if (!home || setenv("BRIDLE_HOME", home, 1) < 0)
                return -1;
        if (!getenv("BRIDLE_INIT_PATH")) {
                (void)snprintf(create_error, sizeof(create_error),
                               "BRIDLE_INIT_PATH not set (run through meson test)");
                return 0;
        }
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_limits l = {.pids = 256};
        bridle_sandbox_spec_set_limits(s, &l);
        bridle_error e = {0};
        int r = bridle_sandbox_create(s, "unit-tools", &sid, &e);
        bridle_sandbox_spec_free(s);
        if (r < 0) {
                (void)snprintf(create_error, sizeof(create_error), "%s", e.msg);
                /* Only a host without the kernel features may skip. */
                if (r != BRIDLE_E_UNSUPPORTED && r != BRIDLE_E_FORBIDDEN && r != -EPERM) {
                        fprintf(stderr, "create: %s\n", e.msg);
                        return -1;
                }
                sid = NULL;
        }
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (sid)
                (void)bridle_sandbox_destroy(sid, NULL);
        free(sid);
        bridle_test_rmrf(home);
        free(home);
        return 0;
}

#define NEED_SANDBOX()                                                                             \
        do {                                                                                       \
                if (!sid) {                                                                        \
                        fprintf(stderr, "skip: no sandbox: %s\n", create_error);                   \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

static bridle__tool_env env_of(const char *id)
{
        bridle__tool_env env = {.sandbox = sandbox_cb, .ud = (void *)id};
        return env;
}

static bridle__tools *all_builtins(void)
{
        bridle__tools *t = NULL;
        bridle_error e;
        assert_int_equal(bridle__tools_new(&t, &e), 0);
        static const char *const names[] = {"exec_command", "write_stdin", "read_file",
                                            "write_file",   "list_dir",    "search",
                                            "apply_patch",  "load_skill"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                assert_int_equal(bridle__tools_add_builtin(t, names[i], &e), 0);
        return t;
}

/* Call name with args; returns the result (caller clears). */
static bridle__tool_result call(bridle__tools *t, const char *name, const char *args)
{
        bridle__tool_env env = env_of(sid);
        bridle__tool_result res;
        bridle_error e = {0};
        int r = bridle__tools_call(t, &env, name, args, &res, &e);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", name, e.msg);
        assert_int_equal(r, 0);
        assert_non_null(res.output);
        assert_false(res.sandbox_failed);
        return res;
}

static void put(const char *path, const char *text)
{
        bridle_error e;
        if (bridle_sandbox_write(sid, path, text, strlen(text), &e) < 0)
                fprintf(stderr, "write %s: %s\n", path, e.msg);
        assert_int_equal(bridle_sandbox_write(sid, path, text, strlen(text), &e), 0);
}

/* ---- registry ----------------------------------------------------------- */

static void test_registry(void **state)
{
        (void)state;
        bridle__tools *t = all_builtins();
        bridle_error e;
        assert_int_equal(bridle__tools_add_builtin(t, "read_file", &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "twice"));
        assert_int_equal(bridle__tools_add_builtin(t, "rm_rf", &e), BRIDLE_E_INVALID);
        assert_int_equal(bridle__tools_add_native(t, "shell", &e), 0);
        assert_int_equal(bridle__tools_add_native(t, "apply_patch", &e), 0);
        assert_int_equal(bridle__tools_add_native(t, "browser", &e), BRIDLE_E_INVALID);
        assert_true(bridle__tools_has(t, "list_dir"));
        assert_false(bridle__tools_has(t, "shell"));
        assert_true(bridle__tools_read_only(t, "read_file"));
        assert_true(bridle__tools_read_only(t, "search"));
        assert_false(bridle__tools_read_only(t, "write_file"));
        assert_false(bridle__tools_read_only(t, "exec_command"));
        assert_false(bridle__tools_read_only(t, "nope"));

        json_t *defs = bridle__tools_defs(t);
        assert_non_null(defs);
        assert_int_equal(json_array_size(defs), 10);
        json_t *d0 = json_array_get(defs, 0);
        assert_string_equal(json_string_value(json_object_get(d0, "type")), "function");
        assert_string_equal(json_string_value(json_object_get(d0, "name")), "exec_command");
        assert_true(json_is_false(json_object_get(d0, "strict")));
        /* Every built-in's schema passes the user-schema check. */
        for (size_t i = 0; i < 8; i++) {
                json_t *p = json_object_get(json_array_get(defs, i), "parameters");
                assert_int_equal(bridle__schema_valid(p, &e), 0);
                assert_true(json_string_length(
                                    json_object_get(json_array_get(defs, i), "description")) > 10);
        }
        assert_string_equal(json_string_value(json_object_get(json_array_get(defs, 8), "type")),
                            "shell");
        assert_string_equal(json_string_value(json_object_get(json_array_get(defs, 9), "type")),
                            "apply_patch");
        json_decref(defs);
        bridle__tools_free(t);
        assert_null(bridle__tools_free(NULL));
}

static void test_registry_limits(void **state)
{
        (void)state;
        bridle__tools *t = NULL;
        bridle_error e;
        assert_int_equal(bridle__tools_new(&t, &e), 0);
        json_t *p = json_pack("{s:s}", "type", "object");
        bridle__tool_fn fn = (bridle__tool_fn)(void (*)(void))abort; /* never called */
        assert_int_equal(bridle__tools_add_fn(t, "bad name", "", p, false, fn, NULL, &e),
                         BRIDLE_E_INVALID);
        assert_int_equal(bridle__tools_add_fn(t, "", "", p, false, fn, NULL, &e), BRIDLE_E_INVALID);
        int added = 0;
        for (int i = 0; i < BRIDLE__TOOLS_MAX + 50; i++) {
                char n[16];
                (void)snprintf(n, sizeof(n), "t%d", i);
                if (bridle__tools_add_fn(t, n, "", p, false, fn, NULL, &e) < 0)
                        break;
                added++;
        }
        assert_int_equal(added, BRIDLE__TOOLS_MAX);
        assert_int_equal(e.code, BRIDLE_E_LIMIT);
        /* all or nothing for a group: back to the first 5, the rest addable again */
        assert_int_equal(bridle__tools_count(t), BRIDLE__TOOLS_MAX);
        bridle__tools_truncate(t, 5);
        assert_int_equal(bridle__tools_count(t), 5);
        assert_true(bridle__tools_has(t, "t4"));
        assert_false(bridle__tools_has(t, "t5"));
        assert_int_equal(bridle__tools_add_fn(t, "t5", "", p, false, fn, NULL, &e), 0);
        bridle__tools_truncate(t, 99); /* more than it holds: nothing happens */
        assert_int_equal(bridle__tools_count(t), 6);
        json_decref(p);
        bridle__tools_free(t);
}

/* ---- caps --------------------------------------------------------------- */

static void test_cap(void **state)
{
        (void)state;
        char *s = bridle__tools_cap("hello", 5, 100);
        assert_string_equal(s, "hello");
        free(s);

        char big[10000];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)('a' + i % 26);
        s = bridle__tools_cap(big, sizeof(big), 1000);
        assert_true(strlen(s) <= 1000);
        assert_true(strlen(s) > 900);
        assert_memory_equal(s, big, 400);                                       /* head */
        assert_memory_equal(s + strlen(s) - 400, big + sizeof(big) - 400, 400); /* tail */
        assert_non_null(strstr(s, "bytes cut ...]"));
        /* The count in the marker is what is missing. */
        unsigned long cut = strtoul(strstr(s, "[... ") + 5, NULL, 10);
        const char *marker_end = strstr(s, "cut ...]\n") + 9;
        assert_int_equal(cut + (size_t)(strstr(s, "\n[... ") - s) + strlen(marker_end),
                         sizeof(big));
        free(s);
}

static bool valid_utf8(const char *s)
{
        json_t *j = json_string(s);
        json_decref(j);
        return j != NULL;
}

static void test_cap_utf8(void **state)
{
        (void)state;
        /* 3000 two-byte and three-byte characters: every cut point falls
         * inside some character for some cap. */
        char text[9000] = "";
        for (int i = 0; i < 1500; i++)
                strcat(text, i % 2 ? "\xc3\xa9" : "\xe2\x82\xac");
        for (size_t cap = 64; cap < 300; cap++) {
                char *s = bridle__tools_cap(text, strlen(text), cap);
                assert_non_null(s);
                assert_true(strlen(s) <= cap);
                assert_true(valid_utf8(s));
                free(s);
        }
        /* Invalid bytes and NULs become U+FFFD. */
        char *s = bridle__tools_cap("a\xff"
                                    "b\0c\xc3",
                                    6, 100);
        assert_string_equal(s, "a\xef\xbf\xbd"
                               "b\xef\xbf\xbd"
                               "c\xef\xbf\xbd");
        free(s);
        /* An overlong encoding and a surrogate are invalid too. */
        s = bridle__tools_cap("\xc0\xaf\xed\xa0\x80", 5, 100);
        assert_true(valid_utf8(s));
        assert_null(strchr(s, '/'));
        free(s);
}

/* ---- calls that fail before any tool runs --------------------------------- */

static void expect_error(bridle__tools *t, const char *name, const char *args, const char *want)
{
        bridle__tool_env env = {.sandbox = no_sandbox_cb};
        bridle__tool_result res;
        bridle_error e = {0};
        assert_int_equal(bridle__tools_call(t, &env, name, args, &res, &e), 0);
        assert_false(res.ok);
        assert_false(res.sandbox_failed);
        if (!strstr(res.output, want))
                fprintf(stderr, "%s(%s): '%s' lacks '%s'\n", name, args, res.output, want);
        assert_non_null(strstr(res.output, want));
        assert_true(strncmp(res.output, "error: ", 7) == 0);
        bridle__tool_result_clear(&res);
}

static void test_bad_calls(void **state)
{
        (void)state;
        bridle__tools *t = all_builtins();
        sandbox_calls = 0;
        expect_error(t, "rm_rf", "{}", "unknown tool 'rm_rf'");
        expect_error(t, "rm_rf", "{}", "read_file");
        expect_error(t, "read_file", "{\"path\":", "arguments are not valid JSON");
        expect_error(t, "read_file", "[1]", "arguments: expected a JSON object, got an array");
        expect_error(t, "read_file", "\"x\"", "arguments: expected a JSON object");
        expect_error(t, "read_file", "{\"path\":3}",
                     "error: arguments.path: expected a string, got integer");
        expect_error(t, "read_file", "{}", "arguments.path: missing (required)");
        expect_error(t, "read_file", "{\"path\":\"a\",\"bogus\":1}",
                     "arguments.bogus: unknown property");
        expect_error(t, "read_file", "{\"path\":\"a\",\"offset\":0}",
                     "arguments.offset: 0 is less than the minimum 1");
        expect_error(t, "read_file", "{\"path\":\"a\",\"path\":\"b\"}", "not valid JSON");
        expect_error(t, "list_dir", "{\"depth\":9}",
                     "arguments.depth: 9 is more than the maximum 5");
        expect_error(t, "exec_command", "{\"cmd\":[\"ls\"]}",
                     "arguments.cmd: expected a string, got array");
        expect_error(t, "load_skill", "{\"name\":\"../../etc\"}", "arguments.name");
        assert_int_equal(sandbox_calls, 0);
        /* A sandbox that cannot be made is an error of the run. */
        bridle__tool_env env = {.sandbox = no_sandbox_cb};
        bridle__tool_result res;
        bridle_error e = {0};
        assert_int_equal(bridle__tools_call(t, &env, "read_file", "{\"path\":\"a\"}", &res, &e),
                         BRIDLE_E_SANDBOX);
        assert_true(res.sandbox_failed);
        assert_false(res.ok);
        assert_non_null(strstr(e.msg, "no sandbox in this test"));
        bridle__tool_result_clear(&res);
        bridle__tools_free(t);
}

/* ---- C function tools --------------------------------------------------- */

static int add_fn(void *ud, const bridle__tool_env *env, const json_t *args, char **ret_output,
                  bridle_error *err)
{
        (void)env;
        (void)ud;
        json_int_t a = json_integer_value(json_object_get(args, "a"));
        json_int_t b = json_integer_value(json_object_get(args, "b"));
        if (b == 0) {
                (void)snprintf(err->msg, sizeof(err->msg), "b must not be 0");
                err->code = -EINVAL;
                return -EINVAL;
        }
        return asprintf(ret_output, "%lld", (long long)(a / b)) < 0 ? -ENOMEM : 0;
}

static void test_fn_tool(void **state)
{
        (void)state;
        bridle__tools *t = NULL;
        bridle_error e;
        assert_int_equal(bridle__tools_new(&t, &e), 0);
        json_error_t je;
        json_t *p = json_loads(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":"
                "\"integer\"}},\"required\":[\"a\",\"b\"]}",
                0, &je);
        assert_int_equal(bridle__tools_add_fn(t, "div", "Divide.", p, true, add_fn, NULL, &e), 0);
        json_t *bad = json_pack("{s:s}", "type", "string");
        assert_int_equal(bridle__tools_add_fn(t, "bad", "", bad, true, add_fn, NULL, &e),
                         BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "tool 'bad'"));
        json_decref(bad);
        json_decref(p);
        bridle__tool_env env = {.sandbox = no_sandbox_cb};
        bridle__tool_result res;
        assert_int_equal(bridle__tools_call(t, &env, "div", "{\"a\":7,\"b\":2}", &res, &e), 0);
        assert_true(res.ok);
        assert_string_equal(res.output, "3");
        bridle__tool_result_clear(&res);
        assert_int_equal(bridle__tools_call(t, &env, "div", "{\"a\":7,\"b\":0}", &res, &e), 0);
        assert_false(res.ok);
        assert_string_equal(res.output, "error: b must not be 0");
        bridle__tool_result_clear(&res);
        assert_true(bridle__tools_read_only(t, "div"));
        bridle__tools_free(t);
}

/* ---- allocation failures -------------------------------------------------- */

/* One pass over the parts that need no sandbox; 0 when all of it worked. */
static int alloc_pass(void)
{
        bridle__tools *t = NULL;
        bridle_error e = {0};
        int r = bridle__tools_new(&t, &e);
        if (r < 0)
                return r;
        json_t *p = json_pack("{s:s,s:{s:{s:s}},s:[s]}", "type", "object", "properties", "a",
                              "type", "integer", "required", "a");
        if ((r = bridle__tools_add_builtin(t, "read_file", &e)) >= 0 &&
            (r = bridle__tools_add_builtin(t, "exec_command", &e)) >= 0)
                r = bridle__tools_add_fn(t, "div", "Divide.", p, false, add_fn, NULL, &e);
        json_decref(p);
        static const char *const calls[][2] = {
                {"div", "{\"a\":4,\"b\":2}"}, {"div", "{\"a\":4,\"b\":0}"},
                {"div", "{\"a\":\"x\"}"},     {"nope", "{}"},
                {"read_file", "{\"path\":"},
        };
        for (size_t i = 0; r >= 0 && i < sizeof(calls) / sizeof(calls[0]); i++) {
                bridle__tool_env env = {.sandbox = no_sandbox_cb};
                bridle__tool_result res;
                r = bridle__tools_call(t, &env, calls[i][0], calls[i][1], &res, &e);
                if (r >= 0 && !res.output)
                        r = -EIO; /* a result without text is a bug */
                if (r < 0 && r != -ENOMEM)
                        r = -EIO;
                bridle__tool_result_clear(&res);
        }
        char *c = r >= 0 ? bridle__tools_cap("\xff abcdefghijklmnopqrstuvwxyz", 28, 10) : NULL;
        if (r >= 0 && !c)
                r = -ENOMEM;
        free(c);
        bridle__tools_free(t);
        return r;
}

static void test_alloc_failures(void **state)
{
        (void)state;
        /* Fail the 1st, 2nd, ... allocation; a failure some code absorbs
         * also passes, so stop only after 50 passes in a row. */
        unsigned streak = 0, failures = 0;
        for (unsigned long n = 1; n < 3000 && streak < 50; n++) {
                bridle__alloc_fail_at(n);
                int r = alloc_pass();
                bridle__alloc_fail_at(0);
                assert_true(r == 0 || r == -ENOMEM);
                streak = r == 0 ? streak + 1 : 0;
                failures += r == -ENOMEM;
        }
        assert_int_equal(streak, 50);
        assert_true(failures > 5);
}

/* ---- built-ins in a living sandbox --------------------------------------- */

static void test_files(void **state)
{
        (void)state;
        NEED_SANDBOX();
        bridle__tools *t = all_builtins();
        bridle__tool_result r =
                call(t, "write_file",
                     "{\"path\":\"deep/er/a.txt\",\"content\":\"one\\ntwo\\nthree\\n\"}");
        assert_true(r.ok);
        assert_string_equal(r.output, "Wrote 14 bytes to deep/er/a.txt");
        bridle__tool_result_clear(&r);

        r = call(t, "read_file", "{\"path\":\"deep/er/a.txt\"}");
        assert_true(r.ok);
        assert_string_equal(r.output, "one\ntwo\nthree\n");
        bridle__tool_result_clear(&r);
        r = call(t, "read_file", "{\"path\":\"deep/er/a.txt\",\"offset\":2,\"limit\":1}");
        assert_true(r.ok);
        assert_string_equal(r.output, "two\n[lines 2-2 of 3; pass offset to read on]");
        bridle__tool_result_clear(&r);
        r = call(t, "read_file", "{\"path\":\"deep/er/a.txt\",\"offset\":3}");
        assert_string_equal(r.output, "three\n[lines 3-3 of 3]");
        bridle__tool_result_clear(&r);
        r = call(t, "read_file", "{\"path\":\"deep/er/a.txt\",\"offset\":9}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "arguments.offset: line 9 is past the end"));
        bridle__tool_result_clear(&r);
        r = call(t, "read_file", "{\"path\":\"missing.txt\"}");
        assert_false(r.ok);
        assert_true(strncmp(r.output, "error: ", 7) == 0);
        bridle__tool_result_clear(&r);

        bridle_error e;
        assert_int_equal(bridle_sandbox_write(sid, "bin.dat", "ab\0cd", 5, &e), 0);
        r = call(t, "read_file", "{\"path\":\"bin.dat\"}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "binary"));
        bridle__tool_result_clear(&r);

        /* A big file is capped for the model, head and tail kept. */
        char *big = malloc(100000);
        for (int i = 0; i < 99999; i++)
                big[i] = i % 50 == 49 ? '\n' : 'x';
        big[99999] = '\0';
        put("big.txt", big);
        free(big);
        r = call(t, "read_file", "{\"path\":\"big.txt\"}");
        assert_true(r.ok);
        assert_true(strlen(r.output) <= 16384);
        assert_non_null(strstr(r.output, "bytes cut"));
        bridle__tool_result_clear(&r);
        bridle__tools_free(t);
}

static void test_list_and_search(void **state)
{
        (void)state;
        NEED_SANDBOX();
        bridle__tools *t = all_builtins();
        put("tree/a.c", "int main(void) { return 0; }\n");
        put("tree/b.txt", "main course\n");
        put("tree/sub/c.c", "/* main */\n");
        put("tree/sub/deeper/d.c", "x\n");
        bridle__tool_result r = call(t, "list_dir", "{\"path\":\"tree\"}");
        assert_true(r.ok);
        assert_string_equal(r.output, "tree/\n  a.c (29 bytes)\n  b.txt (12 bytes)\n  sub/\n");
        bridle__tool_result_clear(&r);
        r = call(t, "list_dir", "{\"path\":\"tree\",\"depth\":2}");
        assert_string_equal(r.output, "tree/\n  a.c (29 bytes)\n  b.txt (12 bytes)\n  sub/\n    "
                                      "c.c (11 bytes)\n    deeper/\n");
        bridle__tool_result_clear(&r);
        r = call(t, "list_dir", "{\"path\":\"no/such/dir\"}");
        assert_false(r.ok);
        bridle__tool_result_clear(&r);

        r = call(t, "search", "{\"pattern\":\"ma[i]n\",\"path\":\"tree\"}");
        assert_true(r.ok);
        assert_non_null(strstr(r.output, "a.c:1:int main"));
        assert_non_null(strstr(r.output, "b.txt:1:main course"));
        assert_non_null(strstr(r.output, "c.c:1:/* main */"));
        bridle__tool_result_clear(&r);
        r = call(t, "search", "{\"pattern\":\"main\",\"path\":\"tree\",\"glob\":\"*.c\"}");
        assert_non_null(strstr(r.output, "a.c:1:"));
        assert_non_null(strstr(r.output, "c.c:1:"));
        assert_null(strstr(r.output, "b.txt"));
        bridle__tool_result_clear(&r);
        r = call(t, "search", "{\"pattern\":\"main\",\"path\":\"tree\",\"glob\":\"*/sub/*.c\"}");
        assert_null(strstr(r.output, "a.c:1:"));
        assert_non_null(strstr(r.output, "sub/c.c:1:"));
        bridle__tool_result_clear(&r);
        r = call(t, "search", "{\"pattern\":\"zzzznothing\",\"path\":\"tree\"}");
        assert_true(r.ok);
        assert_string_equal(r.output, "No matches.");
        bridle__tool_result_clear(&r);
        r = call(t, "search", "{\"pattern\":\"(unclosed\"}");
        assert_false(r.ok);
        bridle__tool_result_clear(&r);
        bridle__tools_free(t);
}

static void test_apply_patch(void **state)
{
        (void)state;
        NEED_SANDBOX();
        bridle__tools *t = all_builtins();
        bridle__tool_result r = call(
                t, "apply_patch",
                "{\"patch\":\"*** Begin Patch\\n*** Add File: p/new.txt\\n+hello\\n+world\\n*** "
                "End Patch\\n\"}");
        assert_true(r.ok);
        assert_string_equal(r.output, "Success. Updated the following files:\nA p/new.txt\n");
        bridle__tool_result_clear(&r);
        r = call(t, "apply_patch",
                 "{\"patch\":\"*** Begin Patch\\n*** Update File: "
                 "p/new.txt\\n@@\\n-hello\\n+HELLO\\n world\\n*** End "
                 "Patch\"}");
        assert_true(r.ok);
        assert_non_null(strstr(r.output, "M p/new.txt"));
        bridle__tool_result_clear(&r);
        r = call(t, "read_file", "{\"path\":\"p/new.txt\"}");
        assert_string_equal(r.output, "HELLO\nworld\n");
        bridle__tool_result_clear(&r);
        r = call(t, "apply_patch",
                 "{\"patch\":\"*** Begin Patch\\n*** Update File: "
                 "p/new.txt\\n@@\\n-nothere\\n+x\\n*** End Patch\"}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "error: "));
        assert_non_null(strstr(r.output, "p/new.txt"));
        bridle__tool_result_clear(&r);
        r = call(t, "apply_patch",
                 "{\"patch\":\"*** Begin Patch\\n*** Add File: ../x\\n+a\\n*** End Patch\"}");
        assert_false(r.ok);
        bridle__tool_result_clear(&r);
        bridle__tools_free(t);
}

static void test_exec_command(void **state)
{
        (void)state;
        NEED_SANDBOX();
        bridle__tools *t = all_builtins();
        bridle__tool_result r =
                call(t, "exec_command", "{\"cmd\":\"echo hi; echo err >&2; exit 3\"}");
        assert_true(r.ok);
        assert_true(strncmp(r.output, "Wall time: ", 11) == 0);
        assert_non_null(strstr(r.output, "\nProcess exited with code 3\nOutput:\n"));
        assert_non_null(strstr(r.output, "hi\n"));
        assert_non_null(strstr(r.output, "err\n"));
        bridle__tool_result_clear(&r);

        put("wd/marker", "m");
        r = call(t, "exec_command", "{\"cmd\":\"ls\",\"workdir\":\"wd\"}");
        assert_non_null(strstr(r.output, "Output:\nmarker\n"));
        bridle__tool_result_clear(&r);

        /* A session that keeps running: then write_stdin. */
        r = call(t, "exec_command",
                 "{\"cmd\":\"read line; echo got:$line\",\"yield_time_ms\":200}");
        assert_true(r.ok);
        const char *p = strstr(r.output, "Process running with session ID ");
        assert_non_null(p);
        int session = atoi(p + strlen("Process running with session ID "));
        assert_true(session > 0);
        bridle__tool_result_clear(&r);
        char args[128];
        (void)snprintf(args, sizeof(args),
                       "{\"session_id\":%d,\"chars\":\"abc\\n\",\"yield_time_ms\":20000}", session);
        r = call(t, "write_stdin", args);
        assert_true(r.ok);
        assert_non_null(strstr(r.output, "Process exited with code 0"));
        assert_non_null(strstr(r.output, "got:abc"));
        bridle__tool_result_clear(&r);
        /* The session is gone once its exit was reported. */
        r = call(t, "write_stdin", args);
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "arguments.session_id"));
        bridle__tool_result_clear(&r);

        /* max_output_tokens cuts the middle. */
        r = call(t, "exec_command", "{\"cmd\":\"seq 1 20000\",\"max_output_tokens\":100}");
        assert_non_null(strstr(r.output, "Output was cut"));
        assert_true(strlen(r.output) < 1000);
        bridle__tool_result_clear(&r);
        bridle__tools_free(t);
}

static void test_command_tool(void **state)
{
        (void)state;
        NEED_SANDBOX();
        bridle__tools *t = NULL;
        bridle_error e;
        assert_int_equal(bridle__tools_new(&t, &e), 0);
        json_error_t je;
        json_t *def = json_loads(
                "{\"name\":\"echo_args\",\"description\":\"Echo.\",\"parameters\":{\"type\":"
                "\"object\","
                "\"properties\":{\"q\":{\"type\":\"string\"}},\"required\":[\"q\"]},"
                "\"command\":[\"sh\",\"-c\",\"cat; echo; echo name=$BRIDLE_TOOL_NAME; echo "
                "env=$BRIDLE_TOOL_ARGS; ls /tmp | grep -c bridle-tool-args; exit "
                "$1\",\"sh\",\"0\"]}",
                0, &je);
        assert_non_null(def);
        assert_int_equal(bridle__tools_add_command(t, def, &e), 0);
        json_decref(def);
        def = json_loads("{\"name\":\"fails\",\"command\":[\"sh\",\"-c\",\"echo out; echo bad >&2; "
                         "exit 4\"]}",
                         0, &je);
        assert_int_equal(bridle__tools_add_command(t, def, &e), 0);
        json_decref(def);

        bridle__tool_result r = call(t, "echo_args", "{\"q\":\"h\\u00e9llo \\\"there\\\"\"}");
        assert_true(r.ok);
        assert_string_equal(r.output, "{\"q\":\"h\xc3\xa9llo \\\"there\\\"\"}\nname=echo_args\n"
                                      "env={\"q\":\"h\xc3\xa9llo \\\"there\\\"\"}\n0\n");
        bridle__tool_result_clear(&r);
        r = call(t, "echo_args", "{}");
        assert_false(r.ok);
        assert_string_equal(r.output, "error: arguments.q: missing (required)");
        bridle__tool_result_clear(&r);
        r = call(t, "fails", "{}");
        assert_false(r.ok);
        assert_string_equal(r.output, "out\nbad\n[exit status 4]");
        bridle__tool_result_clear(&r);
        r = call(t, "fails", "{\"extra\":1}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "arguments.extra: unknown property"));
        bridle__tool_result_clear(&r);
        bridle__tools_free(t);
}

static void test_command_defs(void **state)
{
        (void)state;
        static const struct {
                const char *def, *want;
        } cases[] = {
                {"[]", "must be a mapping"},
                {"{\"command\":[\"x\"]}", "name: expected a string"},
                {"{\"name\":\"a b\",\"command\":[\"x\"]}", "tool name"},
                {"{\"name\":\"a\"}", "command: expected a non-empty list"},
                {"{\"name\":\"a\",\"command\":[]}", "command: expected a non-empty list"},
                {"{\"name\":\"a\",\"command\":[\"x\",3]}", "command[1]: expected a string"},
                {"{\"name\":\"a\",\"command\":[\"\"]}", "command[0]: expected a non-empty string"},
                {"{\"name\":\"a\",\"command\":[\"x\"],\"colour\":1}", "colour: unknown key"},
                {"{\"name\":\"a\",\"command\":[\"x\"],\"timeout_ms\":0}", "timeout_ms"},
                {"{\"name\":\"a\",\"command\":[\"x\"],\"description\":5}",
                 "description: expected a string"},
                {"{\"name\":\"a\",\"command\":[\"x\"],\"parameters\":{\"type\":\"string\"}}",
                 "parameters"},
                {"{\"name\":\"a\",\"command\":[\"x\"],\"parameters\":{\"type\":\"object\","
                 "\"properties\":{\"x\":"
                 "{\"oneOf\":[]}}}}",
                 "parameters.properties.x: keyword 'oneOf'"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                bridle__tools *t = NULL;
                bridle_error e = {0};
                assert_int_equal(bridle__tools_new(&t, &e), 0);
                json_error_t je;
                json_t *d = json_loads(cases[i].def, JSON_DECODE_ANY, &je);
                assert_non_null(d);
                int r = bridle__tools_add_command(t, d, &e);
                if (r >= 0 || !strstr(e.msg, cases[i].want))
                        fprintf(stderr, "case %zu: %d '%s'\n", i, r, e.msg);
                assert_true(r < 0);
                assert_non_null(strstr(e.msg, cases[i].want));
                json_decref(d);
                bridle__tools_free(t);
        }
}

/* ---- native items ------------------------------------------------------- */

static json_t *native(const char *item_json)
{
        json_error_t je;
        json_t *item = json_loads(item_json, 0, &je);
        assert_non_null(item);
        bridle__tool_env env = env_of(sid);
        json_t *out = NULL;
        bridle_error e = {0};
        int r = bridle__tools_native(NULL, &env, item, &out, &e);
        if (r < 0)
                fprintf(stderr, "native: %s\n", e.msg);
        assert_int_equal(r, 0);
        json_decref(item);
        return out;
}

static void test_native_shell(void **state)
{
        (void)state;
        NEED_SANDBOX();
        json_t *o = native("{\"type\":\"shell_call\",\"call_id\":\"call_1\",\"action\":{"
                           "\"commands\":[\"echo a; echo "
                           "b >&2\",\"exit 7\",\"sleep 20\",\"seq 1 5000\"],\"timeout_ms\":500,"
                           "\"max_output_length\":100},\"status\":\"completed\"}");
        assert_string_equal(json_string_value(json_object_get(o, "type")), "shell_call_output");
        assert_string_equal(json_string_value(json_object_get(o, "call_id")), "call_1");
        assert_int_equal(json_integer_value(json_object_get(o, "max_output_length")), 100);
        json_t *out = json_object_get(o, "output");
        assert_int_equal(json_array_size(out), 4);
        json_t *e0 = json_array_get(out, 0);
        assert_string_equal(json_string_value(json_object_get(e0, "stdout")), "a\n");
        assert_string_equal(json_string_value(json_object_get(e0, "stderr")), "b\n");
        json_t *oc = json_object_get(e0, "outcome");
        assert_string_equal(json_string_value(json_object_get(oc, "type")), "exit");
        assert_int_equal(json_integer_value(json_object_get(oc, "exit_code")), 0);
        oc = json_object_get(json_array_get(out, 1), "outcome");
        assert_int_equal(json_integer_value(json_object_get(oc, "exit_code")), 7);
        oc = json_object_get(json_array_get(out, 2), "outcome");
        assert_string_equal(json_string_value(json_object_get(oc, "type")), "timeout");
        assert_null(json_object_get(oc, "exit_code"));
        const char *s = json_string_value(json_object_get(json_array_get(out, 3), "stdout"));
        assert_true(strlen(s) <= 100);
        assert_true(strncmp(s, "1\n2\n", 4) == 0);
        assert_non_null(strstr(s, "bytes cut"));
        json_decref(o);

        o = native("{\"type\":\"shell_call\",\"call_id\":\"call_2\",\"action\":{}}");
        out = json_object_get(o, "output");
        assert_int_equal(json_array_size(out), 1);
        assert_non_null(strstr(json_string_value(json_object_get(json_array_get(out, 0), "stderr")),
                               "action.commands"));
        json_decref(o);

        bridle__tool_env env = env_of(sid);
        json_t *bad = json_pack("{s:s}", "type", "shell_call");
        json_t *ret = NULL;
        bridle_error e;
        assert_true(bridle__tools_native(NULL, &env, bad, &ret, &e) < 0);
        json_decref(bad);
        bad = json_pack("{s:s,s:s}", "type", "computer_call", "call_id", "c");
        assert_true(bridle__tools_native(NULL, &env, bad, &ret, &e) < 0);
        assert_null(ret);
        json_decref(bad);
}

static const char *patch_out(json_t *o, const char *want_status)
{
        assert_string_equal(json_string_value(json_object_get(o, "type")),
                            "apply_patch_call_output");
        assert_string_equal(json_string_value(json_object_get(o, "call_id")), "call_p");
        assert_string_equal(json_string_value(json_object_get(o, "status")), want_status);
        return json_string_value(json_object_get(o, "output"));
}

static void test_native_patch(void **state)
{
        (void)state;
        NEED_SANDBOX();
        json_t *o = native(
                "{\"type\":\"apply_patch_call\",\"call_id\":\"call_p\",\"operation\":{\"type\":"
                "\"create_file\",\"path\":\"np/a.txt\",\"diff\":\"+one\\n+two\\n\"}}");
        assert_non_null(strstr(patch_out(o, "completed"), "A np/a.txt"));
        json_decref(o);
        char *data = NULL;
        size_t len;
        bridle_error e;
        assert_int_equal(bridle_sandbox_read(sid, "np/a.txt", &data, &len, &e), 0);
        assert_string_equal(data, "one\ntwo\n");
        free(data);
        /* Content without '+' marks is taken as it is. */
        o = native("{\"type\":\"apply_patch_call\",\"call_id\":\"call_p\",\"operation\":{\"type\":"
                   "\"create_file\",\"path\":\"np/b.txt\",\"diff\":\"plain\\ntext\"}}");
        patch_out(o, "completed");
        json_decref(o);
        assert_int_equal(bridle_sandbox_read(sid, "np/b.txt", &data, &len, &e), 0);
        assert_string_equal(data, "plain\ntext\n");
        free(data);
        o = native("{\"type\":\"apply_patch_call\",\"call_id\":\"call_p\",\"operation\":{\"type\":"
                   "\"update_file\",\"path\":\"np/a.txt\",\"diff\":\"@@\\n one\\n-two\\n+TWO\"}}");
        assert_non_null(strstr(patch_out(o, "completed"), "M np/a.txt"));
        json_decref(o);
        assert_int_equal(bridle_sandbox_read(sid, "np/a.txt", &data, &len, &e), 0);
        assert_string_equal(data, "one\nTWO\n");
        free(data);
        o = native("{\"type\":\"apply_patch_call\",\"call_id\":\"call_p\",\"operation\":{\"type\":"
                   "\"update_file\",\"path\":\"np/a.txt\",\"diff\":\"@@\\n-absent\\n+x\"}}");
        assert_true(strncmp(patch_out(o, "failed"), "error: ", 7) == 0);
        json_decref(o);
        o = native("{\"type\":\"apply_patch_call\",\"call_id\":\"call_p\",\"operation\":{\"type\":"
                   "\"delete_file\",\"path\":\"np/a.txt\"}}");
        assert_non_null(strstr(patch_out(o, "completed"), "D np/a.txt"));
        json_decref(o);
        assert_int_equal(bridle_sandbox_read(sid, "np/a.txt", &data, &len, &e), -ENOENT);
        o = native("{\"type\":\"apply_patch_call\",\"call_id\":\"call_p\",\"operation\":{\"type\":"
                   "\"rename_file\",\"path\":\"np/b.txt\"}}");
        assert_non_null(strstr(patch_out(o, "failed"), "operation.type"));
        json_decref(o);
}

/* ---- instructions and skills --------------------------------------------- */

static void test_instructions(void **state)
{
        (void)state;
        NEED_SANDBOX();
        put("AGENTS.md", "ROOT RULES\n");
        put("proj/AGENTS.md", "PROJ RULES (hidden by the override)\n");
        put("proj/AGENTS.override.md", "PROJ OVERRIDE\n");
        put("proj/sub/AGENTS.md", "SUB RULES\n");
        put("other/AGENTS.md", "OTHER (not on the path)\n");
        put(".agents/skills/pdf/SKILL.md",
            "---\nname: pdf\ndescription: Work with PDF files.\n---\n# PDF\nUse "
            "pdftotext.\n");
        put(".agents/skills/bad/SKILL.md", "no front matter here\n");
        put(".agents/skills/broken/SKILL.md", "---\nname: [unclosed\n---\nbody\n");
        put(".agents/skills/wrongname/SKILL.md", "---\nname: other\ndescription: x\n---\n");
        put(".agents/skills/csv/SKILL.md",
            "---\r\nname: csv\r\ndescription: |\r\n  Read and\r\n  write CSV.\r\n---\r\nbody\r\n");

        bridle__tool_env env = env_of(sid);
        char *text = NULL;
        bridle_error e = {0};
        assert_int_equal(
                bridle__instructions_build(&env, "You are helpful.", "proj/sub", &text, &e), 0);
        const char *a = strstr(text, "You are helpful."), *root = strstr(text, "ROOT RULES"),
                   *ov = strstr(text, "PROJ OVERRIDE"), *sub = strstr(text, "SUB RULES"),
                   *skills = strstr(text, "## Skills");
        assert_true(a == text);
        assert_non_null(root);
        assert_non_null(ov);
        assert_non_null(sub);
        assert_non_null(skills);
        assert_true(a < root && root < ov && ov < sub && sub < skills);
        assert_null(strstr(text, "PROJ RULES"));
        assert_null(strstr(text, "OTHER"));
        assert_non_null(strstr(text, "## proj/AGENTS.override.md"));
        assert_non_null(strstr(skills, "- pdf: Work with PDF files.\n"));
        assert_non_null(strstr(skills, "- csv: Read and write CSV. \n"));
        assert_null(strstr(skills, "- bad"));
        assert_null(strstr(skills, "broken"));
        assert_null(strstr(skills, "other"));
        free(text);

        /* An absolute workdir under the workspace, and one outside it. */
        assert_int_equal(bridle__instructions_build(&env, "", "/workspace/proj", &text, &e), 0);
        assert_non_null(strstr(text, "PROJ OVERRIDE"));
        assert_null(strstr(text, "SUB RULES"));
        free(text);
        assert_int_equal(bridle__instructions_build(&env, "", "/etc", &text, &e), 0);
        assert_non_null(strstr(text, "ROOT RULES"));
        assert_null(strstr(text, "PROJ OVERRIDE"));
        free(text);
        assert_int_equal(bridle__instructions_build(&env, "", "proj/../other", &text, &e), 0);
        assert_null(strstr(text, "OTHER"));
        free(text);

        /* 32 KiB in all, cut with a note. */
        char *big = malloc(40000);
        memset(big, 'y', 39999);
        big[39999] = '\0';
        put("proj/sub/AGENTS.md", big);
        free(big);
        assert_int_equal(bridle__instructions_build(&env, "X", "proj/sub", &text, &e), 0);
        assert_non_null(strstr(text, "cut here"));
        assert_non_null(strstr(text, "ROOT RULES"));
        assert_true(strlen(text) < 32768 + 2048);
        assert_non_null(strstr(text, "## Skills"));
        free(text);
        put("proj/sub/AGENTS.md", "SUB RULES\n");

        /* load_skill */
        bridle__tools *t = all_builtins();
        bridle__tool_result r = call(t, "load_skill", "{\"name\":\"pdf\"}");
        assert_true(r.ok);
        assert_non_null(strstr(r.output, "# PDF\nUse pdftotext.\n"));
        assert_null(strstr(r.output, "---"));
        bridle__tool_result_clear(&r);
        r = call(t, "load_skill", "{\"name\":\"nosuch\"}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "no skill 'nosuch'"));
        bridle__tool_result_clear(&r);
        r = call(t, "load_skill", "{\"name\":\"bad\"}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "front matter"));
        bridle__tool_result_clear(&r);
        r = call(t, "load_skill", "{\"name\":\"a/b\"}");
        assert_false(r.ok);
        assert_non_null(strstr(r.output, "arguments.name"));
        bridle__tool_result_clear(&r);
        bridle__tools_free(t);
}

static void test_dead_sandbox(void **state)
{
        (void)state;
        NEED_SANDBOX();
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        char *dead = NULL;
        bridle_error e = {0};
        assert_int_equal(bridle_sandbox_create(s, NULL, &dead, &e), 0);
        bridle_sandbox_spec_free(s);
        assert_int_equal(bridle_sandbox_destroy(dead, &e), 0);
        bridle__tools *t = all_builtins();
        bridle__tool_env env = env_of(dead);
        static const char *const calls[][2] = {
                {"read_file", "{\"path\":\"a\"}"},
                {"exec_command", "{\"cmd\":\"true\"}"},
                {"list_dir", "{}"},
        };
        for (size_t i = 0; i < 3; i++) {
                bridle__tool_result res;
                assert_int_equal(bridle__tools_call(t, &env, calls[i][0], calls[i][1], &res, &e),
                                 BRIDLE_E_SANDBOX);
                assert_true(res.sandbox_failed);
                assert_false(res.ok);
                bridle__tool_result_clear(&res);
        }
        json_error_t je;
        json_t *item = json_loads(
                "{\"type\":\"shell_call\",\"call_id\":\"c\",\"action\":{\"commands\":[\"true\"]}}",
                0, &je);
        json_t *out = NULL;
        assert_int_equal(bridle__tools_native(t, &env, item, &out, &e), BRIDLE_E_SANDBOX);
        assert_null(out);
        json_decref(item);
        char *text = NULL;
        assert_int_equal(bridle__instructions_build(&env, "x", NULL, &text, &e), BRIDLE_E_SANDBOX);
        bridle__tools_free(t);
        free(dead);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_registry),
                cmocka_unit_test(test_registry_limits),
                cmocka_unit_test(test_cap),
                cmocka_unit_test(test_cap_utf8),
                cmocka_unit_test(test_bad_calls),
                cmocka_unit_test(test_fn_tool),
                cmocka_unit_test(test_alloc_failures),
                cmocka_unit_test(test_command_defs),
                cmocka_unit_test(test_files),
                cmocka_unit_test(test_list_and_search),
                cmocka_unit_test(test_apply_patch),
                cmocka_unit_test(test_exec_command),
                cmocka_unit_test(test_command_tool),
                cmocka_unit_test(test_native_shell),
                cmocka_unit_test(test_native_patch),
                cmocka_unit_test(test_instructions),
                cmocka_unit_test(test_dead_sandbox),
        };
        return cmocka_run_group_tests_name("tools", tests, setup, teardown);
}
