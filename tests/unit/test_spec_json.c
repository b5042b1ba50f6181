/* SPDX-License-Identifier: MIT */
/* spec_json.c: a sandbox spec to JSON and back (what living sandboxes record
 * and snapshots carry): round trips (binary content, non-UTF-8 paths, every
 * field), the restore filter, the content budget, and bad JSON refused with
 * BRIDLE_E_INVALID naming the key; allocation failures leak nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "bridle/sandbox.h"
#include "sandbox/spec.h"
#include "util/alloc.h"

static bridle_sandbox_spec *full_spec(void)
{
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        assert_non_null(s);
        static const char bin[] = {'a', '\0', (char)0xff, (char)0xfe, 'z'};
        assert_int_equal(bridle_sandbox_spec_set_root(s, "/work", NULL), 0);
        assert_int_equal(bridle_sandbox_spec_set_cwd(s, "src", NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "notes.md", "hello\n", 6, 0600, NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "bin.dat", bin, sizeof(bin), 0, NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "empty", NULL, 0, 0755, NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "nul", "a\0b", 3, 0, NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_dir(s, "out/deep", NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_copy(s, "data.csv", "/srv/in/data.csv", NULL), 0);
        assert_int_equal(
                bridle_sandbox_spec_add_bind(s, "/srv/repo", "/work/repo", BRIDLE_BIND_RO, NULL),
                0);
        assert_int_equal(bridle_sandbox_spec_add_bind(s, "/srv/caf\xe9", "/opt/rw", 0, NULL), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "MODE", "review", NULL), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "EMPTY", "", NULL), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "UNI", "h\xc3\xa9llo \"q\"\n", NULL), 0);
        bridle_limits l = {.timeout_ms = 1500,
                           .memory = 1ull << 30,
                           .pids = 64,
                           .cpu_s = 9,
                           .disk = 1ull << 40};
        bridle_sandbox_spec_set_limits(s, &l);
        bridle_sandbox_spec_set_net(s, BRIDLE_NET_LOOPBACK);
        return s;
}

static void assert_entry(const struct spec_entry *e, enum spec_entry_kind k, const char *host,
                         const char *path, unsigned flags)
{
        assert_int_equal(e->kind, k);
        if (host)
                assert_string_equal(e->host, host);
        else
                assert_null(e->host);
        assert_string_equal(e->path, path);
        assert_int_equal(e->flags, flags);
}

static void test_round_trip(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = full_spec(), *t = NULL;
        char *json = NULL, *again = NULL;
        bridle_error e;
        assert_int_equal(bridle__spec_to_json(s, &json, &e), 0);
        assert_non_null(strstr(json, "\"format\":\"bridle-spec\""));
        assert_non_null(strstr(json, "{\"base64\":")); /* the binary file and the Latin-1 path */
        assert_int_equal(bridle__spec_from_json(json, strlen(json), 0, &t, &e), 0);
        assert_string_equal(t->root, "/work");
        assert_string_equal(t->cwd, "src");
        assert_null(t->workspace);
        assert_int_equal(t->n_entries, 8);
        assert_entry(&t->entries[0], SPEC_FILE, NULL, "notes.md", 0600);
        assert_int_equal(t->entries[0].len, 6);
        assert_memory_equal(t->entries[0].data, "hello\n", 6);
        assert_entry(&t->entries[1], SPEC_FILE, NULL, "bin.dat", 0644);
        assert_int_equal(t->entries[1].len, 5);
        assert_memory_equal(t->entries[1].data, s->entries[1].data, 5);
        assert_entry(&t->entries[2], SPEC_FILE, NULL, "empty", 0755);
        assert_int_equal(t->entries[2].len, 0);
        assert_entry(&t->entries[3], SPEC_FILE, NULL, "nul", 0644);
        assert_int_equal(t->entries[3].len, 3);
        assert_memory_equal(t->entries[3].data, "a\0b", 3);
        assert_entry(&t->entries[4], SPEC_DIR, NULL, "out/deep", 0);
        assert_entry(&t->entries[5], SPEC_COPY, "/srv/in/data.csv", "data.csv", 0);
        assert_entry(&t->entries[6], SPEC_BIND, "/srv/repo", "/work/repo", BRIDLE_BIND_RO);
        assert_entry(&t->entries[7], SPEC_BIND, "/srv/caf\xe9", "/opt/rw", 0);
        assert_int_equal(t->n_env, 3);
        assert_string_equal(t->env[0], "MODE=review");
        assert_string_equal(t->env[1], "EMPTY=");
        assert_string_equal(t->env[2], "UNI=h\xc3\xa9llo \"q\"\n");
        assert_int_equal(t->limits.timeout_ms, 1500);
        assert_int_equal(t->limits.memory, 1ull << 30);
        assert_int_equal(t->limits.pids, 64);
        assert_int_equal(t->limits.cpu_s, 9);
        assert_int_equal(t->limits.disk, 1ull << 40);
        assert_int_equal(t->net, BRIDLE_NET_LOOPBACK);
        assert_int_equal(t->isolation, BRIDLE_ISOLATION_NAMESPACES);
        /* And the same bytes again. */
        assert_int_equal(bridle__spec_to_json(t, &again, &e), 0);
        assert_string_equal(json, again);
        free(json);
        free(again);
        bridle_sandbox_spec_free(s);
        bridle_sandbox_spec_free(t);
}

static void test_defaults_and_workspace(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new(), *t = NULL;
        assert_int_equal(bridle_sandbox_spec_set_workspace(s, "/home/me/proj", NULL), 0);
        bridle_sandbox_spec_set_isolation(s, BRIDLE_ISOLATION_LANDLOCK);
        char *json = NULL;
        assert_int_equal(bridle__spec_to_json(s, &json, NULL), 0);
        assert_non_null(strstr(json, "\"limits\":{}"));
        assert_non_null(strstr(json, "\"cwd\":null"));
        assert_int_equal(bridle__spec_from_json(json, strlen(json), 0, &t, NULL), 0);
        assert_string_equal(t->workspace, "/home/me/proj");
        assert_string_equal(t->root, "/workspace");
        assert_null(t->cwd);
        assert_int_equal(t->isolation, BRIDLE_ISOLATION_LANDLOCK);
        assert_int_equal(t->net, BRIDLE_NET_NONE);
        assert_int_equal(t->n_entries, 0);
        assert_int_equal(t->limits.memory, 0);
        bridle_sandbox_spec_free(t);
        /* Restore takes no host workspace: the snapshot is the workspace. */
        assert_int_equal(
                bridle__spec_from_json(json, strlen(json), BRIDLE__SPEC_JSON_RESTORE, &t, NULL), 0);
        assert_null(t->workspace);
        bridle_sandbox_spec_free(t);
        /* A minimal hand-written spec. */
        static const char min[] = "{\"format\":\"bridle-spec\",\"version\":1}";
        assert_int_equal(bridle__spec_from_json(min, strlen(min), 0, &t, NULL), 0);
        assert_string_equal(t->root, "/workspace");
        bridle_sandbox_spec_free(t);
        free(json);
        bridle_sandbox_spec_free(s);
}

static void test_restore_filter(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = full_spec(), *t = NULL;
        char *json = NULL;
        assert_int_equal(bridle__spec_to_json(s, &json, NULL), 0);
        assert_int_equal(
                bridle__spec_from_json(json, strlen(json), BRIDLE__SPEC_JSON_RESTORE, &t, NULL), 0);
        /* Only the binds: files, dirs and copies are in the layers already. */
        assert_int_equal(t->n_entries, 2);
        assert_entry(&t->entries[0], SPEC_BIND, "/srv/repo", "/work/repo", BRIDLE_BIND_RO);
        assert_entry(&t->entries[1], SPEC_BIND, "/srv/caf\xe9", "/opt/rw", 0);
        assert_int_equal(t->n_env, 3);
        assert_int_equal(t->limits.pids, 64);
        assert_int_equal(t->net, BRIDLE_NET_LOOPBACK);
        assert_string_equal(t->cwd, "src");
        free(json);
        bridle_sandbox_spec_free(s);
        bridle_sandbox_spec_free(t);
}

/* Past 1 MiB of file contents, a file is recorded by its length: fine for
 * restore, refused where the content is needed. */
static void test_content_budget(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new(), *t = NULL;
        size_t big = (size_t)700 * 1024;
        char *data = calloc(1, big);
        assert_non_null(data);
        memset(data, 'x', big);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "a", data, big, 0, NULL), 0);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "b", data, big, 0, NULL), 0);
        char *json = NULL;
        bridle_error e;
        assert_int_equal(bridle__spec_to_json(s, &json, &e), 0);
        assert_true(strlen(json) < (size_t)800 * 1024);
        assert_non_null(strstr(json, "\"length\":716800"));
        assert_int_equal(
                bridle__spec_from_json(json, strlen(json), BRIDLE__SPEC_JSON_RESTORE, &t, &e), 0);
        bridle_sandbox_spec_free(t);
        t = NULL;
        assert_int_equal(bridle__spec_from_json(json, strlen(json), 0, &t, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "entries[1]"));
        assert_null(t);
        free(json);
        free(data);
        bridle_sandbox_spec_free(s);
}

/* Hand-written base64 values: padding of one and two, none, empty. */
static void test_base64(void **state)
{
        (void)state;
        static const char j[] =
                "{\"format\":\"bridle-spec\",\"version\":1,\"entries\":["
                "{\"type\":\"file\",\"path\":\"a\",\"content\":{\"base64\":\"YQ==\"}},"
                "{\"type\":\"file\",\"path\":\"b\",\"content\":{\"base64\":\"YWI=\"}},"
                "{\"type\":\"file\",\"path\":\"c\",\"content\":{\"base64\":\"AP8A\"}},"
                "{\"type\":\"file\",\"path\":\"d\",\"content\":{\"base64\":\"\"}}]}";
        bridle_sandbox_spec *t = NULL;
        bridle_error e;
        assert_int_equal(bridle__spec_from_json(j, strlen(j), 0, &t, &e), 0);
        assert_int_equal(t->n_entries, 4);
        assert_int_equal(t->entries[0].len, 1);
        assert_memory_equal(t->entries[0].data, "a", 1);
        assert_int_equal(t->entries[1].len, 2);
        assert_memory_equal(t->entries[1].data, "ab", 2);
        assert_int_equal(t->entries[2].len, 3);
        assert_memory_equal(t->entries[2].data, "\0\xff\0", 3);
        assert_int_equal(t->entries[3].len, 0);
        bridle_sandbox_spec_free(t);
}

struct bad_case {
        const char *json;
        int code;
        const char *needle; /* in the message */
};

#define HDR "\"format\":\"bridle-spec\",\"version\":1"

static const struct bad_case bad_cases[] = {
        {"", BRIDLE_E_INVALID, "spec: line"},
        {"{\"format\":\"bridle-spec\",", BRIDLE_E_INVALID, "spec: line 1"},
        {"[1,2]", BRIDLE_E_INVALID, "expected an object, got list"},
        {"{\"version\":1}", BRIDLE_E_INVALID, "format"},
        {"{\"format\":\"bridle-spec\"}", BRIDLE_E_INVALID, "version: missing"},
        {"{\"format\":\"bridle-spec\",\"version\":2}", BRIDLE_E_INVALID,
         "version: unsupported version 2"},
        {"{" HDR ",\"version\":1}", BRIDLE_E_INVALID, "duplicate"},
        {"{" HDR ",\"colour\":1}", BRIDLE_E_INVALID, "colour: unknown key"},
        {"{" HDR ",\"root\":\"relative\"}", BRIDLE_E_INVALID, "root:"},
        {"{" HDR ",\"root\":null}", BRIDLE_E_INVALID, "root: expected a string, got null"},
        {"{" HDR ",\"cwd\":\"../up\"}", BRIDLE_E_INVALID, "cwd:"},
        {"{" HDR ",\"entries\":{}}", BRIDLE_E_INVALID, "entries: expected a list, got object"},
        {"{" HDR ",\"entries\":[7]}", BRIDLE_E_INVALID,
         "entries[0]: expected an object, got number"},
        {"{" HDR ",\"entries\":[{\"path\":\"a\"}]}", BRIDLE_E_INVALID, "entries[0].type: missing"},
        {"{" HDR ",\"entries\":[{\"type\":\"symlink\",\"path\":\"a\"}]}", BRIDLE_E_INVALID,
         "entries[0].type: unknown type 'symlink'"},
        {"{" HDR ",\"entries\":[{\"type\":\"dir\"}]}", BRIDLE_E_INVALID,
         "entries[0].path: missing"},
        {"{" HDR ",\"entries\":[{\"type\":\"dir\",\"path\":\"a/../../etc\"}]}", BRIDLE_E_INVALID,
         "entries[0]: dir: 'a/../../etc' contains '..'"},
        {"{" HDR ",\"entries\":[{\"type\":\"dir\",\"path\":\"a\",\"source\":\"/x\"}]}",
         BRIDLE_E_INVALID, "entries[0].source: unknown key"},
        {"{" HDR ",\"entries\":[{\"type\":\"local_dir\",\"path\":\"/w/a\"}]}", BRIDLE_E_INVALID,
         "entries[0].source: missing"},
        {"{" HDR ",\"entries\":[{\"type\":\"local_dir\",\"path\":\"/w/a\",\"source\":\"/"
         "s\",\"read_only\":1}]}",
         BRIDLE_E_INVALID, "entries[0].read_only: expected true or false"},
        {"{" HDR ",\"entries\":[{\"type\":\"local_dir\",\"path\":\"rel\",\"source\":\"/s\"}]}",
         BRIDLE_E_INVALID, "entries[0]: bind: 'rel' is not an absolute path"},
        {"{" HDR ",\"entries\":[{\"type\":\"local_file\",\"path\":\"a\",\"source\":5}]}",
         BRIDLE_E_INVALID, "entries[0].source: expected a string, got number"},
        {"{" HDR ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"mode\":\"0999\"}]}",
         BRIDLE_E_INVALID, "entries[0].mode"},
        {"{" HDR ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"mode\":\"4755\"}]}",
         BRIDLE_E_INVALID, "entries[0].mode"},
        {"{" HDR
         ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"content\":{\"base64\":\"@@@@\"}}]}",
         BRIDLE_E_INVALID, "entries[0].content: bad base64"},
        {"{" HDR
         ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"content\":{\"base64\":\"YQ==YQ==\"}}]}",
         BRIDLE_E_INVALID, "entries[0].content: bad base64"},
        {"{" HDR
         ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"content\":{\"base64\":\"Y=Q=\"}}]}",
         BRIDLE_E_INVALID, "entries[0].content: bad base64"},
        {"{" HDR
         ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"content\":{\"base64\":\"YQ\"}}]}",
         BRIDLE_E_INVALID, "entries[0].content: bad base64"},
        {"{" HDR
         ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"content\":{\"b64\":\"YQ==\"}}]}",
         BRIDLE_E_INVALID, "entries[0].content: expected a string, got object"},
        {"{" HDR
         ",\"entries\":[{\"type\":\"file\",\"path\":\"a\",\"content\":\"x\",\"length\":1}]}",
         BRIDLE_E_INVALID, "entries[0].content: 'content' and 'length' together"},
        {"{" HDR ",\"entries\":[{\"type\":\"dir\",\"path\":\"a\\u0000b\"}]}", BRIDLE_E_INVALID,
         "entries[0].path: contains a NUL byte"},
        {"{" HDR ",\"environment\":[]}", BRIDLE_E_INVALID,
         "environment: expected an object, got list"},
        {"{" HDR ",\"environment\":{\"A\":null}}", BRIDLE_E_INVALID,
         "environment.A: expected a string, got null"},
        {"{" HDR ",\"environment\":{\"BAD-NAME\":\"x\"}}", BRIDLE_E_INVALID,
         "environment.BAD-NAME:"},
        {"{" HDR ",\"limits\":{\"memory\":\"1G\"}}", BRIDLE_E_INVALID,
         "limits.memory: expected an integer, got string"},
        {"{" HDR ",\"limits\":{\"pids\":0}}", BRIDLE_E_INVALID,
         "limits.pids: must be greater than 0"},
        {"{" HDR ",\"limits\":{\"nofile\":10}}", BRIDLE_E_INVALID, "limits.nofile: unknown key"},
        {"{" HDR ",\"network\":\"host\"}", BRIDLE_E_INVALID, "network: unknown value 'host'"},
        {"{" HDR ",\"network\":true}", BRIDLE_E_INVALID, "network: expected a string, got boolean"},
        {"{" HDR ",\"isolation\":\"vm\"}", BRIDLE_E_INVALID, "isolation: unknown value 'vm'"},
};

static void test_bad_json(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                const struct bad_case *c = &bad_cases[i];
                bridle_sandbox_spec *t = NULL;
                bridle_error e;
                bridle_error_clear(&e);
                int r = bridle__spec_from_json(c->json, strlen(c->json), 0, &t, &e);
                if (r != c->code || !strstr(e.msg, c->needle))
                        fail_msg("case %zu %s: got %d '%s', wanted %d '%s'", i, c->json, r, e.msg,
                                 c->code, c->needle);
                assert_int_equal(e.code, r);
                assert_null(t);
        }
        /* Caps. */
        size_t n = BRIDLE__SPEC_JSON_MAX + 1;
        char *huge = malloc(n);
        assert_non_null(huge);
        memset(huge, ' ', n);
        bridle_sandbox_spec *t = NULL;
        assert_int_equal(bridle__spec_from_json(huge, n, 0, &t, NULL), BRIDLE_E_LIMIT);
        free(huge);
        assert_int_equal(bridle__spec_from_json(NULL, 0, 0, &t, NULL), -EINVAL);
        assert_int_equal(bridle__spec_to_json(NULL, &huge, NULL), -EINVAL);
}

/* Every allocation failure is -ENOMEM, nothing leaks (LSan in the ASan build). */
static void test_alloc_failures(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = full_spec();
        char *json = NULL;
        assert_int_equal(bridle__spec_to_json(s, &json, NULL), 0);
        bool done = false;
        for (unsigned long n = 1; n < 2000 && !done; n++) {
                bridle_sandbox_spec *t = NULL;
                char *out = NULL;
                bridle__alloc_fail_at(n);
                int r1 = bridle__spec_from_json(json, strlen(json), 0, &t, NULL);
                bridle__alloc_fail_at(n);
                int r2 = bridle__spec_to_json(s, &out, NULL);
                bridle__alloc_fail_at(0);
                assert_true(r1 == 0 || r1 == -ENOMEM);
                assert_true(r2 == 0 || r2 == -ENOMEM);
                assert_true((r1 == 0) == (t != NULL));
                done = r1 == 0 && r2 == 0;
                bridle_sandbox_spec_free(t);
                free(out);
        }
        assert_true(done);
        free(json);
        bridle_sandbox_spec_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_defaults_and_workspace),
                cmocka_unit_test(test_restore_filter),
                cmocka_unit_test(test_content_budget),
                cmocka_unit_test(test_base64),
                cmocka_unit_test(test_bad_json),
                cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("spec_json", tests, NULL, NULL);
}
