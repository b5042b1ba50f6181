/* SPDX-License-Identifier: MIT */
/*
 * bridle_gc() without sandboxes (tests/integration/run_gc.sh has the
 * snapshots): settings from retention.yaml and options, its errors, egress
 * directories of old completed runs (and not of stopped or recent ones),
 * ids from the journal that are not plain ids, dry runs, and failed
 * allocations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridle/run.h"
#include "journal/journal.h"
#include "testutil.h"
#include "util/alloc.h"

struct fx {
        char *dir;
        char home[4096];
        char db[4200];
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->dir = bridle_test_tmpdir();
        assert_non_null(f->dir);
        (void)snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
        (void)snprintf(f->db, sizeof(f->db), "%s/journal.db", f->home);
        assert_int_equal(mkdir(f->home, 0700), 0);
        assert_int_equal(setenv("BRIDLE_HOME", f->home, 1), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        bridle_test_rmrf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static void put(const struct fx *f, const char *name, const char *text)
{
        char p[4400];
        (void)snprintf(p, sizeof(p), "%s/%s", f->home, name);
        FILE *fp = fopen(p, "we");
        assert_non_null(fp);
        assert_int_equal(fputs(text, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
}

static bool there(const struct fx *f, const char *name)
{
        char p[4400];
        struct stat sb;
        (void)snprintf(p, sizeof(p), "%s/%s", f->home, name);
        return lstat(p, &sb) == 0;
}

static const bridle_gc_opts defaults = {.older_than_days = -1, .keep_last = -1};

static void test_empty(void **state)
{
        (void)state;
        bridle_gc_report rep;
        bridle_error err = {0};
        assert_int_equal(bridle_gc(&defaults, &rep, &err), 0);
        assert_int_equal(rep.n_items, 0);
        assert_int_equal(rep.count, 0);
        assert_int_equal(rep.older_than_days, 7);
        assert_int_equal(rep.keep_last, 20);
        assert_int_equal(rep.max_size, 0);
        bridle_gc_report_release(&rep);
        assert_int_equal(bridle_gc(NULL, &rep, &err), -EINVAL);
        bridle_gc_opts bad = {.older_than_days = -2, .keep_last = -1};
        assert_int_equal(bridle_gc(&bad, &rep, &err), -EINVAL);
}

static void test_retention(void **state)
{
        struct fx *f = *state;
        bridle_gc_report rep;
        bridle_error err = {0};
        put(f, "retention.yaml", "older_than_days: 3\nkeep_last: 2\nmax_size: 1M\n");
        assert_int_equal(bridle_gc(&defaults, &rep, &err), 0);
        assert_int_equal(rep.older_than_days, 3);
        assert_int_equal(rep.keep_last, 2);
        assert_int_equal(rep.max_size, 1 << 20);
        bridle_gc_report_release(&rep);

        bridle_gc_opts o = {.older_than_days = 9, .keep_last = 0, .max_size = UINT64_MAX};
        assert_int_equal(bridle_gc(&o, &rep, &err), 0);
        assert_int_equal(rep.older_than_days, 9);
        assert_int_equal(rep.keep_last, 0);
        assert_int_equal(rep.max_size, 0);
        bridle_gc_report_release(&rep);

        put(f, "retention.yaml", "keep_last: 2\nkeep_lats: 3\n");
        assert_int_equal(bridle_gc(&defaults, &rep, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "retention.yaml:2:1: unknown key 'keep_lats'"));
        put(f, "retention.yaml", "older_than_days: -1\n");
        assert_int_equal(bridle_gc(&defaults, &rep, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "'older_than_days' must be an integer"));
        put(f, "retention.yaml", "[1, 2]\n");
        assert_int_equal(bridle_gc(&defaults, &rep, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "must be a mapping"));
        put(f, "retention.yaml", "");
        assert_int_equal(bridle_gc(&defaults, &rep, &err), 0);
        assert_int_equal(rep.older_than_days, 7);
        bridle_gc_report_release(&rep);
}

/* A run with the given final status (NULL: none, running) and a sandbox id. */
static void add_run(bridle__journal *j, const char *status, const char *sandbox_id, char id[33])
{
        bridle_error err = {0};
        assert_int_equal(bridle__journal_new_run(j, "t", id, &err), 0);
        json_t *d = json_pack("{s:s, s:s}", "task", "t", "agent", "t");
        assert_true(bridle__journal_append(j, id, "run.started", d, NULL, &err) > 0);
        json_decref(d);
        d = json_pack("{s:s}", "sandbox_id", sandbox_id);
        assert_true(bridle__journal_append(j, id, "sandbox.created", d, NULL, &err) > 0);
        json_decref(d);
        if (status) {
                d = json_pack("{s:s, s:s, s:s}", "status", status, "where", "model", "reason", "r");
                assert_true(bridle__journal_append(j, id, "run.status", d, NULL, &err) > 0);
                json_decref(d);
        }
}

static void test_egress_dirs(void **state)
{
        struct fx *f = *state;
        bridle__journal *j = NULL;
        bridle_error err = {0};
        char old[33], stopped[33], recent[33];
        assert_int_equal(bridle__journal_open(f->db, &j, &err), 0);
        add_run(j, "completed", "../../etc", old);
        add_run(j, "stopped", "000000000000", stopped);
        add_run(j, "failed", "000000000001", recent);
        bridle__journal_close(j);
        char name[64], edir[4400];
        (void)snprintf(edir, sizeof(edir), "%s/egress", f->home);
        assert_int_equal(mkdir(edir, 0700), 0);
        const char *ids[] = {old, stopped, recent};
        for (size_t i = 0; i < 3; i++) {
                (void)snprintf(name, sizeof(name), "egress/%s", ids[i]);
                char p[4400];
                (void)snprintf(p, sizeof(p), "%s/%s", f->home, name);
                assert_int_equal(mkdir(p, 0700), 0);
                (void)snprintf(name, sizeof(name), "egress/%s/log", ids[i]);
                put(f, name, "some bytes\n");
        }
        bridle_gc_opts o = {.older_than_days = 7,
                            .keep_last = 1,
                            .now = (int64_t)time(NULL) + 8 * 86400,
                            .dry_run = true};
        bridle_gc_report rep;
        assert_int_equal(bridle_gc(&o, &rep, &err), 0);
        /* recent is the newest run (kept); stopped is resumable; old's sandbox id is no id. */
        assert_int_equal(rep.n_items, 1);
        assert_string_equal(rep.items[0].kind, "egress_dir");
        assert_string_equal(rep.items[0].run_id, old);
        assert_string_equal(rep.items[0].run_status, "completed");
        assert_true(rep.items[0].bytes > 0);
        assert_true(rep.items[0].age_s >= 8 * 86400 - 60);
        assert_int_equal(rep.count, 1);
        bridle_gc_report_release(&rep);
        (void)snprintf(name, sizeof(name), "egress/%s", old);
        assert_true(there(f, name));

        /* Failed allocations: an error or the same report, nothing half done. */
        for (unsigned long n = 1; n < 500; n++) {
                bridle__alloc_fail_at(n);
                int r = bridle_gc(&o, &rep, &err);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        assert_int_equal(rep.count, 1);
                        bridle_gc_report_release(&rep);
                        break;
                }
                assert_int_equal(r, -ENOMEM);
        }

        o.dry_run = false;
        assert_int_equal(bridle_gc(&o, &rep, &err), 0);
        assert_int_equal(rep.count, 1);
        assert_int_equal(rep.failed, 0);
        bridle_gc_report_release(&rep);
        assert_false(there(f, name));
        (void)snprintf(name, sizeof(name), "egress/%s", stopped);
        assert_true(there(f, name));
        (void)snprintf(name, sizeof(name), "egress/%s", recent);
        assert_true(there(f, name));

        o.keep_last = 0;
        assert_int_equal(bridle_gc(&o, &rep, &err), 0);
        assert_int_equal(rep.count, 1);
        assert_string_equal(rep.items[0].run_id, recent);
        bridle_gc_report_release(&rep);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
                cmocka_unit_test_setup_teardown(test_egress_dirs, setup, teardown),
        };
        return cmocka_run_group_tests_name("gc", tests, NULL, NULL);
}
