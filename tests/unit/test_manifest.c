/* SPDX-License-Identifier: MIT */
/*
 * Workspace manifests: the data-driven cases in tests/data/manifest (each
 * NAME.yaml or NAME.json with NAME.err, the exact message, or NAME.out, the
 * canonical JSON with @DIR@ for that folder), YAML = JSON, canonical JSON
 * round trips, apply onto a spec, caps, load(), allocation failures.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridle/manifest.h"
#include "manifest/manifest.h"
#include "sandbox/spec.h"
#include "util/alloc.h"
#include "util/fd.h"

static char data_dir[PATH_MAX];

static int setup(void **state)
{
        (void)state;
        const char *src = getenv("BRIDLE_SRCDIR");
        char p[PATH_MAX];
        (void)snprintf(p, sizeof(p), "%s/tests/data/manifest", src ? src : ".");
        if (!realpath(p, data_dir)) {
                (void)fprintf(stderr, "no test data at %s (set BRIDLE_SRCDIR)\n", p);
                return -1;
        }
        return 0;
}

static char *read_text(const char *dir, const char *name, size_t *len)
{
        char p[2 * PATH_MAX];
        char *buf = NULL;
        (void)snprintf(p, sizeof(p), "%s/%s", dir, name);
        if (bridle__read_file(AT_FDCWD, p, 8u << 20, &buf, len) < 0)
                return NULL;
        return buf;
}

/* s with every "@DIR@" replaced by dir; trailing newlines dropped. */
static char *expand(const char *s, const char *dir)
{
        size_t cap = strlen(s) * 2 + strlen(dir) * 16 + 1, o = 0;
        char *r = malloc(cap);
        assert_non_null(r);
        while (*s) {
                if (strncmp(s, "@DIR@", 5) == 0) {
                        size_t n = strlen(dir);
                        assert_true(o + n < cap);
                        memcpy(r + o, dir, n);
                        o += n;
                        s += 5;
                } else {
                        assert_true(o + 1 < cap);
                        r[o++] = *s++;
                }
        }
        while (o > 0 && r[o - 1] == '\n')
                o--;
        r[o] = '\0';
        return r;
}

static bridle_manifest *parse_file(const char *name, bridle_error *err, int *ret)
{
        size_t len = 0;
        char *text = read_text(data_dir, name, &len);
        assert_non_null(text);
        bridle_manifest *m = NULL;
        *ret = bridle_manifest_parse(text, len, name, data_dir, &m, err);
        free(text);
        return m;
}

/* Parse its canonical JSON again: the same canonical JSON comes out. */
static void assert_round_trip(const char *json)
{
        bridle_manifest *m = NULL;
        bridle_error err = { 0 };
        int r = bridle_manifest_parse(json, strlen(json), "canonical.json", "/", &m, &err);
        if (r < 0)
                fail_msg("canonical JSON does not parse: %s\n%s", err.msg, json);
        char *again = bridle_manifest_to_json(m);
        assert_non_null(again);
        assert_string_equal(again, json);
        free(again);
        bridle_manifest_free(m);
}

static void run_case(const char *name, unsigned *n_err, unsigned *n_out)
{
        char base[256], errf[300], outf[300];
        (void)snprintf(base, sizeof(base), "%.*s", (int)(strrchr(name, '.') - name), name);
        (void)snprintf(errf, sizeof(errf), "%s.err", base);
        (void)snprintf(outf, sizeof(outf), "%s.out", base);
        size_t len;
        char *want_err = read_text(data_dir, errf, &len);
        char *want_out = read_text(data_dir, outf, &len);
        if (!want_err == !want_out)
                fail_msg("%s: needs exactly one of %s and %s", name, errf, outf);
        bridle_error err = { 0 };
        int r;
        bridle_manifest *m = parse_file(name, &err, &r);
        if (want_err) {
                char *want = expand(want_err, data_dir);
                if (r >= 0)
                        fail_msg("%s: parsed, expected: %s", name, want);
                assert_null(m);
                assert_true(r == BRIDLE_E_INVALID || r == BRIDLE_E_LIMIT);
                assert_int_equal(err.code, r);
                if (strcmp(err.msg, want) != 0)
                        fail_msg("%s:\n  got:  %s\n  want: %s", name, err.msg, want);
                free(want);
                (*n_err)++;
        } else {
                if (r < 0)
                        fail_msg("%s: %s", name, err.msg);
                char *want = expand(want_out, data_dir);
                char *got = bridle_manifest_to_json(m);
                assert_non_null(got);
                if (strcmp(got, want) != 0)
                        fail_msg("%s:\n  got:  %s\n  want: %s", name, got, want);
                assert_round_trip(got);
                free(got);
                free(want);
                (*n_out)++;
        }
        bridle_manifest_free(m);
        free(want_err);
        free(want_out);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);
        return n > k && strcmp(s + n - k, suffix) == 0;
}

static void test_data_cases(void **state)
{
        (void)state;
        DIR *d = opendir(data_dir);
        assert_non_null(d);
        unsigned n_err = 0, n_out = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (has_suffix(de->d_name, ".yaml") || has_suffix(de->d_name, ".json"))
                        run_case(de->d_name, &n_err, &n_out);
        closedir(d);
        printf("# %u error cases, %u good cases\n", n_err, n_out);
        assert_true(n_err >= 60);
        assert_true(n_out >= 5);
}

static char *canonical(const char *name)
{
        bridle_error err = { 0 };
        int r;
        bridle_manifest *m = parse_file(name, &err, &r);
        if (r < 0)
                fail_msg("%s: %s", name, err.msg);
        char *j = bridle_manifest_to_json(m);
        assert_non_null(j);
        bridle_manifest_free(m);
        return j;
}

static void test_yaml_equals_json(void **state)
{
        (void)state;
        char *y = canonical("good.yaml");
        char *j = canonical("good.json");
        assert_string_equal(y, j);
        /* Sources are made absolute. */
        char want[PATH_MAX + 32];
        (void)snprintf(want, sizeof(want), "\"source\":\"%s/fixtures/data.csv\"", data_dir);
        assert_non_null(strstr(y, want));
        free(y);
        free(j);
}

static void test_apply(void **state)
{
        (void)state;
        bridle_error err = { 0 };
        int r;
        bridle_manifest *m = parse_file("good.yaml", &err, &r);
        assert_int_equal(r, 0);
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        assert_non_null(spec);
        assert_int_equal(bridle_manifest_apply(m, spec, &err), 0);

        assert_string_equal(spec->root, "/workspace");
        assert_int_equal(spec->n_entries, 5);
        const struct spec_entry *e = spec->entries;
        assert_int_equal(e[0].kind, SPEC_FILE);
        assert_string_equal(e[0].path, "notes.md");
        assert_int_equal(e[0].len, 6);
        assert_memory_equal(e[0].data, "hello\n", 6);
        assert_int_equal(e[1].kind, SPEC_FILE);
        assert_string_equal(e[1].path, "bin/run.sh");
        assert_int_equal(e[2].kind, SPEC_DIR);
        assert_string_equal(e[2].path, "out");
        assert_int_equal(e[3].kind, SPEC_COPY);
        assert_string_equal(e[3].path, "data.csv");
        char want[PATH_MAX + 32];
        (void)snprintf(want, sizeof(want), "%s/fixtures/data.csv", data_dir);
        assert_string_equal(e[3].host, want);
        assert_int_equal(e[4].kind, SPEC_BIND);
        assert_string_equal(e[4].path, "/workspace/repo");
        (void)snprintf(want, sizeof(want), "%s/fixtures/repo", data_dir);
        assert_string_equal(e[4].host, want);
        assert_int_equal(e[4].flags, BRIDLE_BIND_RO);

        assert_int_equal(spec->n_env, 2);
        assert_string_equal(spec->env[0], "MODE=review");
        assert_string_equal(spec->env[1], "LEVEL=3");
        assert_int_equal(spec->limits.timeout_ms, 600000);
        assert_int_equal(spec->limits.memory, 1ull << 30);
        assert_int_equal(spec->limits.pids, 256);
        assert_int_equal(spec->limits.cpu_s, 300);
        assert_int_equal(spec->limits.disk, 256ull << 20);
        assert_int_equal(spec->net, BRIDLE_NET_NONE);
        bridle_sandbox_spec_free(spec);
        bridle_manifest_free(m);
}

static void test_apply_normalised(void **state)
{
        (void)state;
        bridle_error err = { 0 };
        int r;
        bridle_manifest *m = parse_file("normalise.yaml", &err, &r);
        assert_int_equal(r, 0);
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        assert_int_equal(bridle_manifest_apply(m, spec, &err), 0);
        assert_string_equal(spec->root, "/home/agent/work");
        assert_string_equal(spec->entries[0].path, "a/b");
        assert_string_equal(spec->entries[1].path, "c/d");
        assert_int_equal(spec->entries[3].len, 6); /* "\u00e9\0end": NUL kept */
        assert_memory_equal(spec->entries[3].data, "\xc3\xa9\0end", 6);
        assert_string_equal(spec->entries[5].path, "/home/agent/work/src dir");
        assert_int_equal(spec->entries[5].flags, 0);
        assert_int_equal(spec->limits.timeout_ms, 1500);
        assert_int_equal(spec->limits.memory, 512 * 1024);
        assert_int_equal(spec->net, BRIDLE_NET_LOOPBACK);
        bridle_sandbox_spec_free(spec);
        bridle_manifest_free(m);
}

static void test_args(void **state)
{
        (void)state;
        bridle_manifest *m = NULL;
        bridle_error err = { 0 };
        assert_int_equal(bridle_manifest_parse(NULL, 1, "x", NULL, &m, &err), -EINVAL);
        assert_int_equal(bridle_manifest_parse("version: 1", 10, "x", NULL, NULL, &err), -EINVAL);
        assert_int_equal(bridle_manifest_load(NULL, &m, &err), -EINVAL);
        assert_int_equal(bridle_manifest_apply(NULL, NULL, &err), -EINVAL);
        assert_null(bridle_manifest_to_json(NULL));
        assert_null(bridle_manifest_free(NULL));
        /* No name: a placeholder in messages. */
        assert_int_equal(bridle_manifest_parse("version: 3", 10, NULL, NULL, &m, &err),
                         BRIDLE_E_INVALID);
        assert_string_equal(err.msg, "<manifest>:1:10: version: unsupported version 3 (expected 1)");
        assert_null(m);
}

static void expect_limit(const char *name, const char *text, size_t len, const char *msg)
{
        bridle_manifest *m = NULL;
        bridle_error err = { 0 };
        int r = bridle_manifest_parse(text, len, name, "/", &m, &err);
        assert_int_equal(r, BRIDLE_E_LIMIT);
        assert_null(m);
        assert_string_equal(err.msg, msg);
}

static void test_caps(void **state)
{
        (void)state;
        /* 10,000 entries pass, 10,001 do not. */
        size_t cap = 64 + (MANIFEST_MAX_ENTRIES + 1) * 40;
        char *s = malloc(cap);
        assert_non_null(s);
        size_t o = (size_t)snprintf(s, cap, "version: 1\nentries:\n");
        for (unsigned i = 0; i < MANIFEST_MAX_ENTRIES; i++)
                o += (size_t)snprintf(s + o, cap - o, "- {type: dir, path: d%u}\n", i);
        bridle_manifest *m = NULL;
        bridle_error err = { 0 };
        assert_int_equal(bridle_manifest_parse(s, o, "many.yaml", "/", &m, &err), 0);
        assert_int_equal(m->n_entries, MANIFEST_MAX_ENTRIES);
        m = bridle_manifest_free(m);
        o += (size_t)snprintf(s + o, cap - o, "- {type: dir, path: last}\n");
        expect_limit("many.yaml", s, o, "many.yaml:3:1: entries: more than 10000 entries");
        free(s);

        /* 1 MiB of content passes, one byte more does not. */
        size_t n = MANIFEST_MAX_CONTENT;
        s = malloc(n + 128);
        assert_non_null(s);
        o = (size_t)snprintf(s, 128, "version: 1\nentries:\n- {type: file, path: f, content: \"");
        memset(s + o, 'x', n);
        memcpy(s + o + n, "\"}\n", 4);
        assert_int_equal(bridle_manifest_parse(s, o + n + 3, "big.yaml", "/", &m, &err), 0);
        assert_int_equal(m->entries[0].content_len, n);
        m = bridle_manifest_free(m);
        memcpy(s + o + n, "x\"}\n", 5);
        expect_limit("big.yaml", s, o + n + 4, "big.yaml:3:34: entries[0].content: larger than 1048576 bytes");
        free(s);

        /* The file itself: 4 MiB. */
        n = MANIFEST_MAX_SIZE + 1;
        s = malloc(n);
        assert_non_null(s);
        memset(s, '#', n);
        expect_limit("big.yaml", s, n, "big.yaml: larger than 4194304 bytes");
        free(s);
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char p[2 * PATH_MAX];
        (void)snprintf(p, sizeof(p), "%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
        (void)state;
        char *tmp = bridle_test_tmpdir();
        assert_non_null(tmp);
        char sub[PATH_MAX], path[2 * PATH_MAX], real[PATH_MAX], want[3 * PATH_MAX];
        (void)snprintf(sub, sizeof(sub), "%s/conf", tmp);
        assert_int_equal(mkdir(sub, 0700), 0);
        write_file(tmp, "input.txt", "data\n");
        write_file(sub, "m.yaml",
                   "version: 1\nentries:\n  - {type: local_file, path: in, source: ../input.txt}\n"
                   "  - {type: local_file, path: gone, source: ../missing.txt}\n");
        (void)snprintf(path, sizeof(path), "%s/m.yaml", sub);
        bridle_manifest *m = NULL;
        bridle_error err = { 0 };
        /* Sources resolve against the manifest's folder, not the cwd. */
        assert_int_equal(bridle_manifest_load(path, &m, &err), BRIDLE_E_INVALID);
        (void)snprintf(want, sizeof(want),
                       "%s:4:44: entries[1].source: '../missing.txt' does not exist", path);
        assert_string_equal(err.msg, want);
        write_file(sub, "m.yaml",
                   "version: 1\nentries:\n  - {type: local_file, path: in, source: ../input.txt}\n");
        assert_int_equal(bridle_manifest_load(path, &m, &err), 0);
        assert_non_null(realpath(tmp, real));
        (void)snprintf(want, sizeof(want), "%s/input.txt", real);
        assert_string_equal(m->entries[0].source, want);
        m = bridle_manifest_free(m);

        (void)snprintf(path, sizeof(path), "%s/none.yaml", sub);
        assert_int_equal(bridle_manifest_load(path, &m, &err), -ENOENT);
        assert_null(m);
        assert_int_equal(bridle_manifest_load(sub, &m, &err), -EISDIR);
        bridle_test_rmrf(tmp);
        free(tmp);
}

/* Nothing half-built: on any failure ret is untouched. */
static void test_no_partial_result(void **state)
{
        (void)state;
        bridle_manifest *m = (bridle_manifest *)(uintptr_t)0x1;
        bridle_error err = { 0 };
        const char *text = "version: 1\nentries:\n  - {type: dir, path: a}\nnetwork: host\n";
        assert_int_equal(bridle_manifest_parse(text, strlen(text), "m.yaml", "/", &m, &err),
                         BRIDLE_E_INVALID);
        assert_ptr_equal(m, (bridle_manifest *)(uintptr_t)0x1);
}

static void test_alloc_failures(void **state)
{
        (void)state;
        size_t len = 0;
        char *text = read_text(data_dir, "good.yaml", &len);
        assert_non_null(text);
        char *want = canonical("good.yaml");
        unsigned long n;
        for (n = 1; n < 100000; n++) {
                bridle_manifest *m = NULL;
                bridle_error err = { 0 };
                bridle__alloc_fail_at(n);
                int r = bridle_manifest_parse(text, len, "good.yaml", data_dir, &m, &err);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        char *got = bridle_manifest_to_json(m);
                        assert_string_equal(got, want);
                        free(got);
                        bridle_manifest_free(m);
                        break;
                }
                assert_int_equal(r, -ENOMEM);
                assert_int_equal(err.code, -ENOMEM);
                assert_null(m);
        }
        assert_true(n > 10);
        assert_true(n < 100000);

        /* apply: fails cleanly (the spec is freed by the caller) until it succeeds. */
        bridle_manifest *m = NULL;
        assert_int_equal(bridle_manifest_parse(text, len, "good.yaml", data_dir, &m, NULL), 0);
        for (n = 1; n < 100000; n++) {
                bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
                assert_non_null(spec);
                bridle_error err = { 0 };
                bridle__alloc_fail_at(n);
                int r = bridle_manifest_apply(m, spec, &err);
                bridle__alloc_fail_at(0);
                bridle_sandbox_spec_free(spec);
                if (r == 0)
                        break;
                assert_int_equal(r, -ENOMEM);
                assert_non_null(strstr(err.msg, "good.yaml: "));
        }
        assert_true(n > 1);
        assert_true(n < 100000);
        bridle_manifest_free(m);
        free(want);
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_data_cases),
                cmocka_unit_test(test_yaml_equals_json),
                cmocka_unit_test(test_apply),
                cmocka_unit_test(test_apply_normalised),
                cmocka_unit_test(test_args),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_no_partial_result),
                cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("manifest", tests, setup, NULL);
}
