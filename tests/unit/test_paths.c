/* SPDX-License-Identifier: MIT */
/* Path rules (bridle_sandbox_spec_protect): the glob matcher, and a living
 * sandbox where deny_write / deny_read are mounts the command cannot undo and
 * the file operations refuse with the rule's name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "testutil.h"
#include "sandbox/spec.h"
#include "util/glob.h"

static char *home;
static char *sid;

static void test_glob(void **state)
{
        (void)state;
        assert_true(bridle__glob_match(".git/**", ".git"));
        assert_true(bridle__glob_match(".git/**", ".git/config"));
        assert_true(bridle__glob_match(".git/**", ".git/refs/heads/main"));
        assert_false(bridle__glob_match(".git/**", ".gitignore"));
        assert_false(bridle__glob_match(".git/**", "src/.git"));
        assert_true(bridle__glob_match("**/.env", ".env"));
        assert_true(bridle__glob_match("**/.env", "a/b/.env"));
        assert_true(bridle__glob_match("**/.env", "a/.env/x")); /* covers what is below */
        assert_false(bridle__glob_match("**/.env", "a/.envrc"));
        assert_true(bridle__glob_match("secrets", "secrets/key.txt"));
        assert_true(bridle__glob_match("src/*.c", "src/a.c"));
        assert_false(bridle__glob_match("src/*.c", "src/x/a.c"));
        assert_false(bridle__glob_match("secrets/**", ""));
}

static void test_spec_refuses(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_error e;
        assert_int_equal(bridle_sandbox_spec_protect(s, "/etc/**", false, &e), -EINVAL);
        assert_int_equal(bridle_sandbox_spec_protect(s, "a/../b", false, &e), -EINVAL);
        assert_int_equal(bridle_sandbox_spec_protect(s, "", true, &e), -EINVAL);
        assert_int_equal(bridle_sandbox_spec_protect(s, "./.git/**", false, &e), 0);
        /* Landlock mode cannot mount over paths: refused, not silently unprotected. */
        bridle_sandbox_spec_set_isolation(s, BRIDLE_ISOLATION_LANDLOCK);
        if (getenv("BRIDLE_INIT_PATH")) {
                const char *argv[] = {"/bin/true", NULL};
                bridle_run_opts o = {.argv = argv, .capture = true, .stdin_fd = -1};
                bridle_run_result r;
                memset(&r, 0, sizeof(r));
                assert_true(bridle_sandbox_run(s, &o, &r, &e) < 0);
                assert_non_null(strstr(e.msg, "path rules"));
                bridle_run_result_release(&r);
        }
        bridle_sandbox_spec_free(s);
}

/* The recorded spec (restore, snapshots) keeps the rules. */
static void test_spec_json_keeps_rules(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new(), *back = NULL;
        bridle_error e;
        assert_int_equal(bridle_sandbox_spec_protect(s, ".git/**", false, &e), 0);
        assert_int_equal(bridle_sandbox_spec_protect(s, "secrets/**", true, &e), 0);
        char *json = NULL, *again = NULL;
        assert_int_equal(bridle__spec_to_json(s, &json, &e), 0);
        assert_non_null(strstr(
                json, "\"paths\":{\"deny_write\":[\".git/**\"],\"deny_read\":[\"secrets/**\"]}"));
        assert_int_equal(bridle__spec_from_json(json, strlen(json), 0, &back, &e), 0);
        assert_int_equal(back->n_protect, 2);
        assert_int_equal(bridle__spec_to_json(back, &again, &e), 0);
        assert_string_equal(json, again);
        const char bad[] = "{\"format\":\"bridle-spec\",\"version\":1,\"root\":\"/workspace\","
                           "\"paths\":{\"deny_write\":[\"/etc\"]}}";
        bridle_sandbox_spec *b2 = NULL;
        assert_true(bridle__spec_from_json(bad, strlen(bad), 0, &b2, &e) < 0);
        assert_non_null(strstr(e.msg, "paths.deny_write"));
        free(json);
        free(again);
        bridle_sandbox_spec_free(back);
        bridle_sandbox_spec_free(s);
}

static int add(bridle_sandbox_spec *s, const char *path, const char *text)
{
        return bridle_sandbox_spec_add_file(s, path, text, strlen(text), 0644, NULL);
}

static int setup(void **state)
{
        (void)state;
        if (!getenv("BRIDLE_INIT_PATH"))
                return 0;
        home = bridle_test_tmpdir();
        if (!home || setenv("BRIDLE_HOME", home, 1) < 0)
                return -1;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_limits l = {.pids = 256};
        bridle_sandbox_spec_set_limits(s, &l);
        bridle_error e;
        int r = add(s, ".git/config", "[core]\n") | add(s, ".git/refs/heads/main", "0\n") |
                add(s, ".agents/x", "agents\n") | add(s, "secrets/key.txt", "topsecret\n") |
                add(s, "src/a.c", "int a;\n") | add(s, "sub/.env", "TOKEN=topsecret\n") |
                add(s, "sub/ok.txt", "ok\n");
        if (r == 0)
                r = bridle_sandbox_spec_protect(s, ".git/**", false, &e) |
                    bridle_sandbox_spec_protect(s, "secrets/**", true, &e) |
                    bridle_sandbox_spec_protect(s, "**/.env", true, &e);
        if (r == 0)
                r = bridle_sandbox_create(s, "unit-paths", &sid, &e);
        bridle_sandbox_spec_free(s);
        if (r < 0)
                fprintf(stderr, "create: %s\n", e.msg);
        return r < 0 ? -1 : 0;
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

static void sh(const char *script, bridle_run_result *r)
{
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        bridle_exec_opts o = {.argv = argv, .capture = true, .timeout_ms = 30000};
        bridle_error e;
        int rc = bridle_sandbox_exec(sid, &o, r, &e);
        if (rc < 0)
                fprintf(stderr, "exec: %s\n", e.msg);
        assert_int_equal(rc, 0);
}

static void test_deny_write_is_read_only(void **state)
{
        (void)state;
        if (!sid)
                skip();
        bridle_run_result r;
        sh("echo x >> .git/config", &r);
        assert_int_not_equal(r.status, 0);
        assert_non_null(strstr(r.stderr_buf, "Read-only file system"));
        bridle_run_result_release(&r);
        sh("touch .git/new || rm -f .git/config || mv .git g2 || rm -rf .git; cat .git/config; ls "
           ".git",
           &r);
        assert_string_equal(r.stdout_buf, "[core]\nconfig\nrefs\n");
        bridle_run_result_release(&r);
        /* The rest of the workspace stays writable; .agents is not in this policy. */
        sh("echo y >> src/a.c && echo z >> .agents/x && cat src/a.c && mkdir -p newdir/.git", &r);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.stdout_buf, "int a;\ny\n");
        bridle_run_result_release(&r);
}

static void test_deny_read_is_covered(void **state)
{
        (void)state;
        if (!sid)
                skip();
        bridle_run_result r;
        sh("cat secrets/key.txt; ls -A secrets; cat sub/.env; cat sub/ok.txt; echo n > sub/.env; "
           "touch secrets/k2; echo end",
           &r);
        assert_null(strstr(r.stdout_buf, "topsecret"));
        assert_string_equal(r.stdout_buf, "ok\nend\n");
        bridle_run_result_release(&r);
}

static void test_mounts_are_locked(void **state)
{
        (void)state;
        if (!sid)
                skip();
        bridle_run_result r;
        sh("umount .git; umount -l .git; umount secrets; umount -l sub/.env; "
           "echo x >> .git/config; cat secrets/key.txt sub/.env; echo end",
           &r);
        assert_string_equal(r.stdout_buf, "end\n");
        assert_null(strstr(r.stderr_buf, "topsecret"));
        bridle_run_result_release(&r);
        sh("grep -c . /workspace/.git/config; grep -q '/workspace/.git ' /proc/self/mountinfo && "
           "echo mounted",
           &r);
        assert_string_equal(r.stdout_buf, "1\nmounted\n");
        bridle_run_result_release(&r);
}

static void test_file_operations_refuse(void **state)
{
        (void)state;
        if (!sid)
                skip();
        bridle_error e;
        assert_true(bridle_sandbox_write(sid, ".git/config", "x", 1, &e) < 0);
        assert_non_null(strstr(e.msg, "'.git/**'"));
        assert_true(bridle_sandbox_write(sid, "/workspace/.git/hooks/new", "x", 1, &e) < 0);
        assert_non_null(strstr(e.msg, "'.git/**'"));
        assert_true(bridle_sandbox_write(sid, "src/../secrets/new", "x", 1, &e) < 0);
        assert_non_null(strstr(e.msg, "'secrets/**'"));
        char *data = NULL;
        size_t len = 0;
        assert_true(bridle_sandbox_read(sid, "secrets/key.txt", &data, &len, &e) < 0);
        assert_non_null(strstr(e.msg, "'secrets/**'"));
        assert_true(bridle_sandbox_read(sid, "sub/.env", &data, &len, &e) < 0);
        assert_non_null(strstr(e.msg, "'**/.env'"));
        assert_int_equal(bridle_sandbox_read(sid, ".git/config", &data, &len, &e),
                         0); /* deny_write: readable */
        assert_string_equal(data, "[core]\n");
        free(data);
        bridle_dir_entry *ents = NULL;
        size_t n = 0;
        assert_true(bridle_sandbox_list_dir(sid, "secrets", &ents, &n, &e) < 0);
        assert_non_null(strstr(e.msg, "'secrets/**'"));
        const char patch[] = "*** Begin Patch\n*** Add File: .git/hooks/evil\n+x\n*** End Patch\n";
        char *summary = NULL;
        assert_true(bridle_sandbox_patch(sid, patch, strlen(patch), &summary, &e) < 0);
        assert_non_null(strstr(e.msg, "'.git/**'"));
        free(summary);
        /* A symlink made later that points into a protected path is resolved. */
        bridle_run_result r;
        sh("ln -s secrets lnk && ln -s .git/config cfg && ln -s .git/refs d", &r);
        assert_int_equal(r.status, 0);
        bridle_run_result_release(&r);
        assert_true(bridle_sandbox_write(sid, "cfg", "x", 1, &e) < 0);
        assert_non_null(strstr(e.msg, "'.git/**'"));
        assert_true(bridle_sandbox_write(sid, "d/../newfile", "x", 1, &e) <
                    0); /* the kernel's ".." */
        assert_non_null(strstr(e.msg, "'.git/**'"));
        assert_true(bridle_sandbox_read(sid, "lnk/key.txt", &data, &len, &e) < 0);
        assert_non_null(strstr(e.msg, "'secrets/**'"));
        char *hits = NULL;
        assert_int_equal(bridle_sandbox_search(sid, ".", "topsecret", &hits, &e), 0);
        assert_string_equal(hits, "");
        free(hits);
        /* Allowed paths still work. */
        assert_int_equal(bridle_sandbox_write(sid, "src/b.c", "int b;\n", 7, &e), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_glob),
                cmocka_unit_test(test_spec_refuses),
                cmocka_unit_test(test_spec_json_keeps_rules),
                cmocka_unit_test(test_deny_write_is_read_only),
                cmocka_unit_test(test_deny_read_is_covered),
                cmocka_unit_test(test_mounts_are_locked),
                cmocka_unit_test(test_file_operations_refuse),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
