/* SPDX-License-Identifier: MIT */
/* Guardrails (src/guard/): loading with positions, canonical JSON, each type
 * tripping and passing, command guardrails with small shell scripts. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "guard/guard.h"
#include "util/yaml.h"

static char *dir; /* scripts */

static int write_script(const char *name, const char *body)
{
        char path[4096];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        if (!f)
                return -1;
        (void)fprintf(f, "#!/bin/sh\n%s\n", body);
        if (fclose(f) != 0)
                return -1;
        return chmod(path, 0755);
}

static int setup(void **state)
{
        (void)state;
        dir = bridle_test_tmpdir();
        if (!dir)
                return -1;
        int r = 0;
        r |= write_script("allow.sh", "cat >/dev/null; echo '{\"decision\":\"allow\"}'");
        r |= write_script("deny.sh",
                          "in=$(cat); case \"$in\" in *forbidden*) "
                          "echo '{\"decision\":\"deny\",\"reason\":\"no forbidden words\"}';; "
                          "*) echo '{\"decision\":\"allow\",\"reason\":\"fine\"}';; esac");
        r |= write_script("crash.sh", "cat >/dev/null; kill -SEGV $$");
        r |= write_script("exit3.sh", "echo 'something broke' >&2; exit 3");
        r |= write_script("sleep.sh", "exec sleep 30");
        r |= write_script("garbage.sh", "cat >/dev/null; echo 'not json at all'");
        r |= write_script("badshape.sh", "cat >/dev/null; echo '{\"decision\":\"maybe\"}'");
        r |= write_script("env.sh", "in=$(cat); if [ -n \"$SECRET_FOR_TEST\" ]; then "
                                    "echo '{\"decision\":\"deny\",\"reason\":\"env leaked\"}'; "
                                    "else printf '{\"decision\":\"deny\",\"reason\":\"kind %s\"}' "
                                    "\"$BRIDLE_GUARD_KIND\"; fi");
        r |= write_script("noread.sh", "echo '{\"decision\":\"allow\"}'");
        r |= write_script("big.sh", "cat >/dev/null; head -c 200000 /dev/zero | tr '\\0' a");
        r |= write_script("bg.sh", "cat >/dev/null; sleep 30 & echo '{\"decision\":\"allow\"}'");
        r |= write_script("echo.sh", "python3 -c 'import json,sys; d=json.load(sys.stdin); "
                                     "print(json.dumps({\"decision\":\"deny\",\"reason\":"
                                     "str(len(d[\"text\"]))+\":\"+d[\"kind\"]}))' 2>/dev/null || "
                                     "echo '{\"decision\":\"deny\",\"reason\":\"no python\"}'");
        return r ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        bridle_test_rmrf(dir);
        free(dir);
        return 0;
}

/* Load the `guardrails` key of a YAML text. */
static int load(const char *yaml, bridle__guards **ret, bridle_error *err)
{
        bridle__doc *doc = NULL;
        int r = bridle__doc_load(yaml, strlen(yaml), "t.yaml", &doc, err);
        if (r < 0)
                return r;
        r = bridle__guards_load(doc, json_object_get(bridle__doc_root(doc), "guardrails"), NULL,
                                ret, err);
        bridle__doc_free(doc);
        return r;
}

static bridle__guards *load_ok(const char *yaml)
{
        bridle__guards *g = NULL;
        bridle_error err = {0};
        if (load(yaml, &g, &err) < 0)
                fail_msg("load: %s", err.msg);
        return g;
}

static bridle__guard_verdict check(const bridle__guards *g, enum bridle__guard_kind k,
                                   const char *text)
{
        bridle__guard_verdict v;
        bridle_error err = {0};
        if (bridle__guards_check(g, k, text, strlen(text), NULL, &v, &err) < 0)
                fail_msg("check: %s", err.msg);
        return v;
}

static void test_regex(void **state)
{
        (void)state;
        bridle__guards *g =
                load_ok("guardrails:\n"
                        "  input:\n"
                        "    - {type: regex, pattern: 'rm +-rf', reason: no deleting}\n"
                        "    - {type: regex, pattern: 'drop table', ignore_case: true}\n");
        assert_int_equal(bridle__guards_count(g, BRIDLE__GUARD_INPUT), 2);
        assert_int_equal(bridle__guards_count(g, BRIDLE__GUARD_OUTPUT), 0);
        bridle__guard_verdict v = check(g, BRIDLE__GUARD_INPUT, "hello there");
        assert_false(v.tripped);
        v = check(g, BRIDLE__GUARD_INPUT, "please rm  -rf / now");
        assert_true(v.tripped);
        assert_int_equal(v.index, 0);
        assert_int_equal(v.type, BRIDLE__GUARD_REGEX);
        assert_string_equal(v.reason, "no deleting");
        v = check(g, BRIDLE__GUARD_INPUT, "DROP TABLE users");
        assert_true(v.tripped);
        assert_int_equal(v.index, 1);
        assert_string_equal(v.reason, "text matches 'drop table'");
        /* output list is empty: nothing trips */
        v = check(g, BRIDLE__GUARD_OUTPUT, "rm -rf /");
        assert_false(v.tripped);
        /* text with a NUL before the match */
        bridle_error err;
        assert_int_equal(
                bridle__guards_check(g, BRIDLE__GUARD_INPUT, "a\0rm -rf", 8, NULL, &v, &err), 0);
        assert_true(v.tripped);
        bridle__guards_free(g);
}

static void test_max_length_and_schema(void **state)
{
        (void)state;
        bridle__guards *g = load_ok("guardrails:\n"
                                    "  output:\n"
                                    "    - {type: max_length, chars: 14}\n"
                                    "    - type: json_schema\n"
                                    "      schema:\n"
                                    "        type: object\n"
                                    "        required: [answer]\n"
                                    "        properties: {answer: {type: string}}\n");
        bridle__guard_verdict v = check(g, BRIDLE__GUARD_OUTPUT, "{\"answer\":\"\xc3\xa9\"}");
        assert_false(v.tripped); /* 15 bytes, 14 characters */
        v = check(g, BRIDLE__GUARD_OUTPUT, "{\"answer\":\"ab\"}");
        assert_true(v.tripped);
        assert_int_equal(v.type, BRIDLE__GUARD_MAX_LENGTH);
        assert_non_null(strstr(v.reason, "15 characters"));
        v = check(g, BRIDLE__GUARD_OUTPUT, "{\"answer\":1}");
        assert_true(v.tripped);
        assert_int_equal(v.index, 1);
        assert_int_equal(v.type, BRIDLE__GUARD_JSON_SCHEMA);
        assert_non_null(strstr(v.reason, "does not match the schema"));
        v = check(g, BRIDLE__GUARD_OUTPUT, "not json");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "not JSON"));
        bridle__guards_free(g);
}

static void test_secrets_guard(void **state)
{
        (void)state;
        bridle__guards *g = load_ok("guardrails: {output: [{type: secrets}]}");
        bridle__guard_verdict v =
                check(g, BRIDLE__GUARD_OUTPUT,
                      "all clean, commit e83c5163316f89bfbde7d9ab23ca2e25604af290");
        assert_false(v.tripped);
        v = check(g, BRIDLE__GUARD_OUTPUT, "key AKIAIOSFODNN7EXAMPLE");
        assert_true(v.tripped);
        assert_int_equal(v.type, BRIDLE__GUARD_SECRETS);
        assert_non_null(strstr(v.reason, "aws_access_key"));
        assert_null(strstr(v.reason, "AKIA"));
        /* with the harness's own key */
        bridle__secrets *s = NULL;
        assert_int_equal(bridle__secrets_new(&s, NULL), 0);
        assert_int_equal(bridle__secrets_add_known(s, "canary-0123456789", 17, NULL), 0);
        const char *t = "the key: canary-0123456789";
        assert_int_equal(
                bridle__guards_check(g, BRIDLE__GUARD_OUTPUT, t, strlen(t), NULL, &v, NULL), 0);
        assert_false(v.tripped);
        assert_int_equal(bridle__guards_check(g, BRIDLE__GUARD_OUTPUT, t, strlen(t), s, &v, NULL),
                         0);
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "known"));
        bridle__secrets_free(s);
        bridle__guards_free(g);
}

static bridle__guards *command_guard(const char *script, int timeout_ms)
{
        char yaml[8192];
        (void)snprintf(yaml, sizeof(yaml),
                       "guardrails:\n  input:\n    - {type: command, command: ['%s/%s', x], "
                       "timeout_ms: %d}\n"
                       "  output:\n    - {type: command, command: ['%s/%s']}\n",
                       dir, script, timeout_ms, dir, script);
        return load_ok(yaml);
}

static bridle__guard_verdict run_command(const char *script, int timeout_ms, const char *text)
{
        bridle__guards *g = command_guard(script, timeout_ms);
        bridle__guard_verdict v = check(g, BRIDLE__GUARD_INPUT, text);
        bridle__guards_free(g);
        if (v.tripped)
                assert_int_equal(v.type, BRIDLE__GUARD_COMMAND);
        return v;
}

static void test_command_decisions(void **state)
{
        (void)state;
        bridle__guard_verdict v = run_command("allow.sh", 5000, "anything");
        assert_false(v.tripped);
        v = run_command("deny.sh", 5000, "a forbidden thing");
        assert_true(v.tripped);
        assert_string_equal(v.reason, "no forbidden words");
        v = run_command("deny.sh", 5000, "a fine thing");
        assert_false(v.tripped);
        v = run_command("crash.sh", 5000, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "killed by signal 11"));
        v = run_command("exit3.sh", 5000, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "exited with status 3"));
        assert_non_null(strstr(v.reason, "something broke"));
        v = run_command("garbage.sh", 5000, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "bad answer"));
        v = run_command("badshape.sh", 5000, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "bad answer"));
        v = run_command("big.sh", 5000, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "more than"));
        v = run_command("nonexistent.sh", 5000, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "could not start"));
}

static void test_command_timeout(void **state)
{
        (void)state;
        bridle__guard_verdict v = run_command("sleep.sh", 300, "x");
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "timed out after 300 ms"));
        /* a background child holding stdout does not turn an answer into a timeout */
        v = run_command("bg.sh", 20000, "x");
        assert_false(v.tripped);
}

static void test_command_io(void **state)
{
        (void)state;
        /* the environment is small: the harness's secrets stay out */
        assert_int_equal(setenv("SECRET_FOR_TEST", "leak", 1), 0);
        bridle__guards *g = command_guard("env.sh", 5000);
        bridle__guard_verdict v = check(g, BRIDLE__GUARD_OUTPUT, "x");
        assert_true(v.tripped);
        assert_string_equal(v.reason, "kind output");
        bridle__guards_free(g);
        assert_int_equal(unsetenv("SECRET_FOR_TEST"), 0);
        /* a program that never reads a large input: no SIGPIPE in the harness */
        size_t n = 4 << 20;
        char *big = malloc(n + 1);
        assert_non_null(big);
        memset(big, 'a', n);
        big[n] = '\0';
        v = run_command("noread.sh", 5000, big);
        assert_false(v.tripped);
        /* the whole text arrives, as JSON, with its kind (python3 where present) */
        v = run_command("echo.sh", 20000, big);
        assert_true(v.tripped);
        if (strcmp(v.reason, "no python") != 0)
                assert_string_equal(v.reason, "4194304:input");
        free(big);
        /* bytes that are not UTF-8 still make a request */
        v = run_command("deny.sh", 5000, "\xff\xfe forbidden");
        assert_true(v.tripped);
}

struct bad_case {
        const char *yaml;
        const char *message; /* the start of err.msg */
};

static const struct bad_case bad[] = {
        {"guardrails:\n  input:\n    - type: regex\n      pattern: \"([\"\n",
         "t.yaml:4:16: guardrails.input[0]: pattern: not a POSIX extended regular expression"},
        {"guardrails:\n  input:\n    - type: nope\n",
         "t.yaml:3:13: guardrails.input[0]: type: expected regex"},
        {"guardrails:\n  output:\n    - {chars: 3}\n",
         "t.yaml:3:7: guardrails.output[0]: missing key 'type'"},
        {"guardrails:\n  input:\n    - {type: json_schema, schema: {type: object}}\n",
         "t.yaml:3:14: guardrails.input[0]: type: json_schema is for output guardrails only"},
        {"guardrails:\n  input:\n    - {type: secrets, extra: 1}\n",
         "t.yaml:3:23: guardrails.input[0]: unknown key 'extra'"},
        {"guardrails:\n  output:\n    - {type: max_length, chars: -1}\n",
         "t.yaml:3:33: guardrails.output[0]: chars: expected an integer"},
        {"guardrails:\n  output:\n    - {type: max_length}\n",
         "t.yaml:3:7: guardrails.output[0]: missing key 'chars'"},
        {"guardrails:\n  output:\n    - {type: command, command: []}\n",
         "t.yaml:3:32: guardrails.output[0]: command: expected a list"},
        {"guardrails:\n  output:\n    - {type: command, command: [a, 1]}\n",
         "t.yaml:3:36: guardrails.output[0]: command[1]: expected a non-empty string"},
        {"guardrails:\n  output:\n    - {type: command, command: [a], timeout_ms: 0}\n",
         "t.yaml:3:49: guardrails.output[0]: timeout_ms: expected an integer from 1 to 600000"},
        {"guardrails:\n  input:\n    - {type: regex, pattern: '(a)\\1'}\n",
         "t.yaml:3:30: guardrails.input[0]: pattern: back-references"},
        {"guardrails:\n  input:\n    - {type: regex, pattern: a, action: allow}\n",
         "t.yaml:3:41: guardrails.input[0]: action: must be 'deny'"},
        {"guardrails:\n  input:\n    - {type: regex}\n",
         "t.yaml:3:7: guardrails.input[0]: missing key 'pattern'"},
        {"guardrails: [1, 2]\n", "t.yaml:1:13: guardrails: expected a mapping"},
        {"guardrails:\n  inputs: []\n", "t.yaml:2:3: guardrails: unknown key 'inputs'"},
        {"guardrails:\n  input: {type: secrets}\n",
         "t.yaml:2:10: guardrails.input: expected a list"},
        {"guardrails:\n  input:\n    - 7\n", "t.yaml:3:7: guardrails.input[0]: expected a mapping"},
        {"guardrails:\n  output:\n    - {type: json_schema, schema: {type: nope}}\n",
         "t.yaml:3:35: guardrails.output[0]: schema:"},
        {"guardrails:\n  output:\n    - {type: json_schema, schema: 3}\n",
         "t.yaml:3:35: guardrails.output[0]: schema: expected a mapping"},
        {"guardrails:\n  input:\n    - {type: regex, pattern: a, ignore_case: yes}\n",
         "t.yaml:3:46: guardrails.input[0]: ignore_case: expected a boolean"},
};

static void test_bad_definitions(void **state)
{
        (void)state;
        int failed = 0;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                bridle__guards *g = NULL;
                bridle_error err = {0};
                int r = load(bad[i].yaml, &g, &err);
                if (r >= 0)
                        fail_msg("bad %zu loaded", i);
                assert_null(g);
                assert_true(r == BRIDLE_E_INVALID || r == BRIDLE_E_LIMIT);
                if (strncmp(err.msg, bad[i].message, strlen(bad[i].message)) != 0) {
                        print_error("bad %zu: '%s', expected '%s...'\n", i, err.msg,
                                    bad[i].message);
                        failed++;
                }
        }
        assert_int_equal(failed, 0);
        /* too many items */
        char yaml[8192] = "guardrails:\n  input:\n";
        for (int i = 0; i < BRIDLE__GUARDS_MAX_ITEMS + 1; i++)
                strcat(yaml, "    - {type: secrets}\n");
        bridle__guards *g = NULL;
        assert_int_equal(load(yaml, &g, NULL), BRIDLE_E_LIMIT);
}

static void test_json_round_trip(void **state)
{
        (void)state;
        bridle__guards *g =
                load_ok("guardrails:\n"
                        "  input:\n"
                        "    - {type: regex, pattern: 'a+b', reason: why}\n"
                        "    - {type: max_length, chars: 100}\n"
                        "    - {type: secrets}\n"
                        "    - {type: command, command: [scripts/check.sh, --strict]}\n"
                        "  output:\n"
                        "    - {type: json_schema, schema: {type: object}}\n"
                        "    - {type: command, command: [/bin/true], timeout_ms: 50}\n");
        json_t *j = bridle__guards_to_json(g);
        assert_non_null(j);
        json_t *c = json_array_get(json_object_get(j, "input"), 3);
        /* a relative path with a '/' is made absolute against the file's folder */
        assert_string_equal(json_string_value(json_array_get(json_object_get(c, "command"), 0)),
                            "./scripts/check.sh");
        assert_int_equal(json_integer_value(json_object_get(c, "timeout_ms")), 10000);
        c = json_array_get(json_object_get(j, "input"), 0);
        assert_string_equal(json_string_value(json_object_get(c, "action")), "deny");
        assert_true(json_is_false(json_object_get(c, "ignore_case")));

        bridle__guards *g2 = NULL;
        assert_int_equal(bridle__guards_from_json(j, &g2, NULL), 0);
        json_t *j2 = bridle__guards_to_json(g2);
        assert_true(json_equal(j, j2));
        /* and it still checks the same */
        bridle__guard_verdict v = check(g2, BRIDLE__GUARD_INPUT, "xaab");
        assert_true(v.tripped);
        assert_string_equal(v.reason, "why");
        json_decref(j2);
        bridle__guards_free(g2);

        /* errors from JSON name the key path only */
        json_t *badj = json_pack("{s:[{s:s}]}", "output", "type", "max_length");
        bridle_error err = {0};
        assert_int_equal(bridle__guards_from_json(badj, &g2, &err), BRIDLE_E_INVALID);
        assert_string_equal(err.msg, "guardrails.output[0]: missing key 'chars'");
        json_decref(badj);
        json_decref(j);
        bridle__guards_free(g);

        /* no section, null: empty sets */
        assert_int_equal(bridle__guards_load(NULL, NULL, NULL, &g, NULL), 0);
        assert_int_equal(bridle__guards_count(g, BRIDLE__GUARD_INPUT), 0);
        j = bridle__guards_to_json(g);
        char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
        assert_string_equal(s, "{\"input\":[],\"output\":[]}");
        free(s);
        json_decref(j);
        bridle__guards_free(g);
        bridle__guard_verdict v2;
        assert_int_equal(bridle__guards_check(NULL, BRIDLE__GUARD_INPUT, "x", 1, NULL, &v2, NULL),
                         0);
        assert_false(v2.tripped);
}

static void test_regex_long_text(void **state)
{
        (void)state;
        bridle__guards *g = load_ok("guardrails: {input: [{type: regex, pattern: zzz}]}");
        size_t n = BRIDLE__GUARD_REGEX_MAX_TEXT + 1;
        char *t = malloc(n);
        assert_non_null(t);
        memset(t, 'a', n);
        bridle__guard_verdict v;
        assert_int_equal(bridle__guards_check(g, BRIDLE__GUARD_INPUT, t, n, NULL, &v, NULL), 0);
        assert_true(v.tripped);
        assert_non_null(strstr(v.reason, "more than a regex guardrail checks"));
        assert_int_equal(bridle__guards_check(g, BRIDLE__GUARD_INPUT, t, n - 1, NULL, &v, NULL), 0);
        assert_false(v.tripped);
        free(t);
        bridle__guards_free(g);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_regex),
                cmocka_unit_test(test_max_length_and_schema),
                cmocka_unit_test(test_secrets_guard),
                cmocka_unit_test(test_command_decisions),
                cmocka_unit_test(test_command_timeout),
                cmocka_unit_test(test_command_io),
                cmocka_unit_test(test_bad_definitions),
                cmocka_unit_test(test_json_round_trip),
                cmocka_unit_test(test_regex_long_text),
        };
        return cmocka_run_group_tests_name("guard", tests, setup, teardown);
}
