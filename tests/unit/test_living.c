/* SPDX-License-Identifier: MIT */
/* Living sandboxes through the library: create, exec, state across execs, timeouts,
 * concurrent commands, destroy; with a private BRIDLE_HOME. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "testutil.h"

static char *home;
static char *sid;

static int setup(void **state)
{
        (void)state;
        if (!getenv("BRIDLE_INIT_PATH"))
                return 0;
        home = bridle_test_tmpdir();
        if (!home || setenv("BRIDLE_HOME", home, 1) < 0)
                return -1;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_limits l = { .pids = 256 };
        bridle_sandbox_spec_set_limits(s, &l);
        bridle_error e;
        int r = bridle_sandbox_create(s, "unit-living", &sid, &e);
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

static int sh(const char *ref, const char *script, uint64_t timeout_ms, bridle_run_result *r)
{
        const char *argv[] = { "/bin/sh", "-c", script, NULL };
        bridle_exec_opts o = { .argv = argv, .capture = true, .timeout_ms = timeout_ms };
        bridle_error e;
        int rc = bridle_sandbox_exec(ref, &o, r, &e);
        if (rc < 0)
                fprintf(stderr, "exec: %s\n", e.msg);
        return rc;
}

static void test_exec_status_and_output(void **state)
{
        (void)state;
        bridle_run_result r;
        assert_int_equal(sh(sid, "echo out; echo err >&2; exit 3", 0, &r), 0);
        assert_int_equal(r.status, 3);
        assert_string_equal(r.stdout_buf, "out\n");
        assert_string_equal(r.stderr_buf, "err\n");
        bridle_run_result_release(&r);
        assert_int_equal(sh("unit-living", "kill -9 $$", 0, &r), 0); /* by name */
        assert_int_equal(r.status, 137);
        bridle_run_result_release(&r);
        const char *argv[] = { "no-such-program", NULL };
        bridle_exec_opts o = { .argv = argv, .capture = true };
        bridle_error e;
        assert_int_equal(bridle_sandbox_exec(sid, &o, &r, &e), 0);
        assert_int_equal(r.status, 127);
        assert_non_null(r.exec_error);
        bridle_run_result_release(&r);
}

static void test_state_persists(void **state)
{
        (void)state;
        bridle_run_result r;
        assert_int_equal(sh(sid, "echo kept > /workspace/f && echo tmp > /tmp/t", 0, &r), 0);
        assert_int_equal(r.status, 0);
        bridle_run_result_release(&r);
        assert_int_equal(sh(sid, "cat /workspace/f /tmp/t; pwd", 0, &r), 0);
        assert_string_equal(r.stdout_buf, "kept\ntmp\n/workspace\n");
        bridle_run_result_release(&r);
}

static void test_timeout_kills_tree(void **state)
{
        (void)state;
        bridle_run_result r;
        assert_int_equal(sh(sid, "sleep 30 & setsid sleep 31 & sleep 32", 300, &r), 0);
        assert_int_equal(r.status, 124);
        assert_true(r.timed_out);
        bridle_run_result_release(&r);
        /* Nothing of it is left: only this command's own shell and ps. */
        assert_int_equal(sh(sid, "ps -e -o comm= | grep -c sleep", 0, &r), 0);
        assert_string_equal(r.stdout_buf, "0\n");
        bridle_run_result_release(&r);
}

static void *concurrent(void *arg)
{
        bridle_run_result r;
        char script[64];
        (void)snprintf(script, sizeof(script), "sleep 0.3; echo %d", (int)(intptr_t)arg);
        if (sh(sid, script, 0, &r) < 0)
                return (void *)1;
        char want[16];
        (void)snprintf(want, sizeof(want), "%d\n", (int)(intptr_t)arg);
        intptr_t bad = r.status != 0 || strcmp(r.stdout_buf, want) != 0;
        bridle_run_result_release(&r);
        return (void *)bad;
}

static void test_concurrent_execs(void **state)
{
        (void)state;
        pthread_t t[4];
        for (intptr_t i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&t[i], NULL, concurrent, (void *)i), 0);
        for (int i = 0; i < 4; i++) {
                void *bad = NULL;
                assert_int_equal(pthread_join(t[i], &bad), 0);
                assert_null(bad);
        }
}

static void test_file_ops(void **state)
{
        (void)state;
        bridle_error e;
        char *d = NULL;
        size_t l = 0;
        assert_int_equal(bridle_sandbox_write(sid, "sub/dir/a.txt", "alpha\n", 6, &e), 0);
        assert_int_equal(bridle_sandbox_read(sid, "/workspace/sub/dir/a.txt", &d, &l, &e), 0);
        assert_int_equal(l, 6);
        assert_string_equal(d, "alpha\n");
        free(d);
        bridle_dir_entry *v = NULL;
        size_t n = 0;
        assert_int_equal(bridle_sandbox_list_dir(sid, "sub/dir", &v, &n, &e), 1);
        assert_string_equal(v[0].name, "a.txt");
        assert_int_equal(v[0].type, 'f');
        assert_int_equal(v[0].size, 6);
        free(v);
        /* A command sees the file too. */
        bridle_run_result r;
        assert_int_equal(sh(sid, "cat sub/dir/a.txt", 0, &r), 0);
        assert_string_equal(r.stdout_buf, "alpha\n");
        bridle_run_result_release(&r);
        /* The walls of a command apply: read-only mounts, missing files, directories. */
        assert_int_equal(bridle_sandbox_write(sid, "/usr/evil", "x", 1, &e), -EROFS);
        assert_int_equal(bridle_sandbox_read(sid, "/etc/shadow", &d, &l, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "/etc/shadow"));
        assert_int_equal(bridle_sandbox_read(sid, "sub", &d, &l, &e), -EISDIR);
        /* A symlink planted by a command does not lend init's rights. */
        assert_int_equal(sh(sid, "ln -sf /proc/1/environ /workspace/e", 0, &r), 0);
        bridle_run_result_release(&r);
        assert_true(bridle_sandbox_read(sid, "e", &d, &l, &e) < 0);
}

static void test_patch(void **state)
{
        (void)state;
        bridle_error e;
        char *summary = NULL, *d = NULL;
        size_t l;
        const char *p = "*** Begin Patch\n*** Add File: p/new.txt\n+one\n+two\n*** End Patch\n";
        assert_int_equal(bridle_sandbox_patch(sid, p, strlen(p), &summary, &e), 0);
        assert_string_equal(summary, "A p/new.txt\n");
        free(summary);
        const char *u = "*** Begin Patch\n*** Update File: p/new.txt\n@@\n one\n-two\n+2\n*** End Patch\n";
        assert_int_equal(bridle_sandbox_patch(sid, u, strlen(u), NULL, &e), 0);
        assert_int_equal(bridle_sandbox_read(sid, "p/new.txt", &d, &l, &e), 0);
        assert_string_equal(d, "one\n2\n");
        free(d);
        const char *bad = "*** Begin Patch\n*** Update File: p/new.txt\n@@\n-nope\n+x\n*** End Patch\n";
        assert_int_equal(bridle_sandbox_patch(sid, bad, strlen(bad), NULL, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "new.txt"));
        const char *out = "*** Begin Patch\n*** Add File: ../../etc/x\n+x\n*** End Patch\n";
        assert_true(bridle_sandbox_patch(sid, out, strlen(out), NULL, &e) < 0);
}

static void test_search(void **state)
{
        (void)state;
        bridle_error e;
        char *hits = NULL;
        assert_int_equal(bridle_sandbox_write(sid, "src/a.c", "int main(void)\n{\n  return 42;\n}\n", 32, &e), 0);
        assert_int_equal(bridle_sandbox_write(sid, "src/b.txt", "nothing here\nreturn of the king\n", 31, &e), 0);
        assert_int_equal(bridle_sandbox_write(sid, "src/bin", "return\0binary", 13, &e), 0);
        assert_int_equal(bridle_sandbox_search(sid, "src", "^ *return [0-9]+;", &hits, &e), 0);
        assert_string_equal(hits, "src/a.c:3:  return 42;\n");
        free(hits);
        assert_int_equal(bridle_sandbox_search(sid, "src/b.txt", "king", &hits, &e), 0);
        assert_string_equal(hits, "src/b.txt:2:return of the king\n");
        free(hits);
        assert_int_equal(bridle_sandbox_search(sid, "src", "no such words", &hits, &e), 0);
        assert_string_equal(hits, "");
        free(hits);
        assert_int_equal(bridle_sandbox_search(sid, "src", "([unbalanced", &hits, &e), BRIDLE_E_INVALID);
        assert_non_null(strstr(e.msg, "pattern"));
        assert_int_equal(bridle_sandbox_search(sid, "missing-dir", "x", &hits, &e), -ENOENT);
}

static void test_list_and_destroy(void **state)
{
        (void)state;
        bridle_sandbox_info *v = NULL;
        size_t n = 0;
        bridle_error e;
        assert_true(bridle_sandbox_list_all(&v, &n, &e) >= 1);
        bool found = false;
        for (size_t i = 0; i < n; i++)
                found |= strcmp(v[i].id, sid) == 0 && v[i].alive && strcmp(v[i].name, "unit-living") == 0;
        free(v);
        assert_true(found);
        assert_int_equal(bridle_sandbox_destroy(sid, &e), 0);
        bridle_run_result r;
        const char *argv[] = { "true", NULL };
        bridle_exec_opts o = { .argv = argv, .capture = true };
        assert_true(bridle_sandbox_exec(sid, &o, &r, &e) < 0);
        assert_non_null(strstr(e.msg, sid));
        free(sid);
        sid = NULL;
}

int main(void)
{
        if (!getenv("BRIDLE_INIT_PATH")) {
                fprintf(stderr, "skip: BRIDLE_INIT_PATH not set (run through meson test)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exec_status_and_output),
                cmocka_unit_test(test_state_persists),
                cmocka_unit_test(test_timeout_kills_tree),
                cmocka_unit_test(test_concurrent_execs),
                cmocka_unit_test(test_file_ops),
                cmocka_unit_test(test_patch),
                cmocka_unit_test(test_search),
                cmocka_unit_test(test_list_and_destroy),
        };
        return cmocka_run_group_tests_name("living", tests, setup, teardown);
}
