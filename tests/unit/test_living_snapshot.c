/* SPDX-License-Identifier: MIT */
/* Snapshots of living sandboxes through the library: argument checks, a
 * round trip with a deletion on top of a restored base (a delta snapshot
 * with its parent), list and prune; with a private BRIDLE_HOME. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "testutil.h"

static char *home;

static int setup(void **state)
{
        (void)state;
        home = bridle_test_tmpdir();
        return home && setenv("BRIDLE_HOME", home, 1) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        bridle_sandbox_info *v = NULL;
        size_t n = 0;
        if (bridle_sandbox_list_all(&v, &n, NULL) >= 0)
                for (size_t i = 0; i < n; i++)
                        (void)bridle_sandbox_destroy(v[i].id, NULL);
        free(v);
        bridle_test_rmrf(home);
        free(home);
        return 0;
}

static int sh(const char *id, const char *script, char **ret_out)
{
        const char *argv[] = { "/bin/sh", "-c", script, NULL };
        bridle_exec_opts o = { .argv = argv, .capture = true, .timeout_ms = 30000 };
        bridle_run_result r;
        bridle_error e;
        if (bridle_sandbox_exec(id, &o, &r, &e) < 0) {
                fprintf(stderr, "exec: %s\n", e.msg);
                return -1;
        }
        int status = r.status;
        if (ret_out)
                *ret_out = strdup(r.stdout_buf ? r.stdout_buf : "");
        bridle_run_result_release(&r);
        return status;
}

static void test_bad_arguments(void **state)
{
        (void)state;
        char *out = NULL;
        bridle_error e;
        assert_int_equal(bridle_sandbox_snapshot(NULL, NULL, &out, &e), -EINVAL);
        assert_true(bridle_sandbox_snapshot("no-such-sandbox", NULL, &out, &e) < 0);
        assert_non_null(strstr(e.msg, "no-such-sandbox"));
        assert_int_equal(bridle_sandbox_restore("../x", NULL, &out, &e), -EINVAL);
        assert_int_equal(bridle_sandbox_restore("", NULL, &out, &e), -EINVAL);
        assert_int_equal(bridle_sandbox_restore("missing", NULL, &out, &e), -ENOENT);
        assert_null(out);
        bridle_snapshot_info *v = NULL;
        size_t n = 99;
        assert_int_equal(bridle_sandbox_snapshots(&v, &n, &e), 0);
        assert_int_equal(n, 0);
        free(v);
        size_t removed = 99;
        assert_int_equal(bridle_sandbox_snapshots_prune(0, &removed, &e), 0);
        assert_int_equal(removed, 0);
}

static void test_round_trip_with_parent(void **state)
{
        (void)state;
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        char *a = NULL, *s1 = NULL, *b = NULL, *s2 = NULL, *c = NULL, *out = NULL;
        bridle_error e;
        assert_int_equal(bridle_sandbox_create(spec, NULL, &a, &e), 0);
        bridle_sandbox_spec_free(spec);
        assert_int_equal(sh(a, "echo base > keep && echo gone > gone && chmod 0640 keep && mkdir -p d/e", NULL), 0);
        assert_int_equal(bridle_sandbox_snapshot(a, "base", &s1, &e), 0);
        assert_int_equal(bridle_sandbox_restore(s1, NULL, &b, &e), 0);
        assert_int_equal(sh(b, "rm gone && echo new > new && rm -r d", NULL), 0);
        assert_int_equal(bridle_sandbox_snapshot(b, "delta", &s2, &e), 0);
        assert_int_equal(bridle_sandbox_restore(s2, NULL, &c, &e), 0);
        assert_int_equal(sh(c, "stat -c '%n %a' * | sort; cat keep new", &out), 0);
        assert_string_equal(out, "keep 640\nnew 644\nbase\nnew\n");
        free(out);

        bridle_snapshot_info *v = NULL;
        size_t n = 0;
        assert_int_equal(bridle_sandbox_snapshots(&v, &n, &e), 2);
        bool seen_delta = false;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].id, s2)) {
                        seen_delta = true;
                        assert_string_equal(v[i].parent, s1);
                        assert_string_equal(v[i].label, "delta");
                        assert_false(v[i].full);
                        assert_true(v[i].in_use);
                }
        assert_true(seen_delta);
        free(v);

        size_t removed = 99;
        assert_int_equal(bridle_sandbox_snapshots_prune(0, &removed, &e), 0);
        assert_int_equal(removed, 0); /* b and c build on both */
        assert_int_equal(bridle_sandbox_destroy(c, &e), 0);
        assert_int_equal(bridle_sandbox_snapshots_prune(0, &removed, &e), 0);
        assert_int_equal(removed, 1); /* s2; s1 is still b's base */
        assert_int_equal(bridle_sandbox_destroy(b, &e), 0);
        assert_int_equal(bridle_sandbox_snapshots_prune(0, &removed, &e), 0);
        assert_int_equal(removed, 1);
        assert_int_equal(bridle_sandbox_destroy(a, &e), 0);
        free(a);
        free(b);
        free(c);
        free(s1);
        free(s2);
}

int main(void)
{
        if (!getenv("BRIDLE_INIT_PATH")) {
                fprintf(stderr, "skip: BRIDLE_INIT_PATH not set (run through meson test)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_arguments),
                cmocka_unit_test(test_round_trip_with_parent),
        };
        return cmocka_run_group_tests_name("living_snapshot", tests, setup, teardown);
}
