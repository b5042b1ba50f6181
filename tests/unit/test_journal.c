/* SPDX-License-Identifier: MIT */
/*
 * The journal: appends and reads, seqs per run, concurrent writers in two
 * processes, prefix lookup, file modes, reopen, a writer killed with SIGKILL
 * mid-stream, batches, schema versions and damaged rows.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "journal/journal.h"
#include "util/alloc.h"

struct fx {
        char *root;
        char db[512];
        bridle__journal *j;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->root = bridle_test_tmpdir();
        assert_non_null(f->root);
        (void)snprintf(f->db, sizeof(f->db), "%s/journal.db", f->root);
        bridle_error err = {0};
        assert_int_equal(bridle__journal_open(f->db, &f->j, &err), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        bridle__journal_close(f->j);
        bridle_test_rmrf(f->root);
        free(f->root);
        free(f);
        return 0;
}

static int64_t append_i(bridle__journal *j, const char *id, const char *type, int i)
{
        json_t *d = json_pack("{s:i, s:s}", "i", i, "text", "h\xc3\xa9llo \"q\"\n");
        bridle_error err = {0};
        int64_t seq = bridle__journal_append(j, id, type, d, NULL, &err);
        json_decref(d);
        return seq;
}

static json_t *events_of(bridle__journal *j, const char *ref)
{
        json_t *ev = NULL;
        bridle_error err = {0};
        int r = bridle__journal_events(j, ref, NULL, &ev, &err);
        if (r < 0)
                fail_msg("events of '%s': %s", ref, err.msg);
        return ev;
}

static void test_append_read(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "coder", id, &err), 0);
        assert_int_equal(strlen(id), 32);
        assert_int_equal(strspn(id, "0123456789abcdef"), 32);

        json_t *d =
                json_pack("{s:s, s:[i, i], s:{s:b}}", "task", "fix it", "list", 1, 2, "o", "k", 1);
        int64_t ts = 0;
        assert_int_equal(bridle__journal_append(f->j, id, "run.started", d, &ts, &err), 1);
        assert_true(ts > 1600000000000LL);
        assert_int_equal(append_i(f->j, id, "model.request", 2), 2);
        assert_int_equal(bridle__journal_append(f->j, id, "run.resumed", NULL, NULL, &err), 3);

        json_t *ev = events_of(f->j, id);
        assert_int_equal(json_array_size(ev), 3);
        json_t *e0 = json_array_get(ev, 0);
        assert_string_equal(json_string_value(json_object_get(e0, "run_id")), id);
        assert_int_equal(json_integer_value(json_object_get(e0, "seq")), 1);
        assert_int_equal(json_integer_value(json_object_get(e0, "ts")), ts);
        assert_string_equal(json_string_value(json_object_get(e0, "type")), "run.started");
        assert_true(json_equal(json_object_get(e0, "data"), d));
        json_t *e1 = json_array_get(ev, 1);
        assert_string_equal(json_string_value(json_object_get(json_object_get(e1, "data"), "text")),
                            "h\xc3\xa9llo \"q\"\n");
        json_t *e2 = json_array_get(ev, 2);
        assert_int_equal(json_object_size(json_object_get(e2, "data")), 0);
        assert_int_equal(json_integer_value(json_object_get(e2, "seq")), 3);
        json_decref(ev);
        json_decref(d);

        /* the stored text is compact JSON */
        json_t *one = bridle__journal_event_json(id, 9, 5, "x", NULL);
        assert_int_equal(json_integer_value(json_object_get(one, "seq")), 9);
        assert_true(json_is_object(json_object_get(one, "data")));
        json_decref(one);
}

static void test_seq_per_run(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char a[33], b[33];
        assert_int_equal(bridle__journal_new_run(f->j, "a", a, &err), 0);
        assert_int_equal(bridle__journal_new_run(f->j, "b", b, &err), 0);
        assert_string_not_equal(a, b);
        for (int i = 1; i <= 50; i++) {
                assert_int_equal(append_i(f->j, a, "x.a", i), i);
                if (i % 2 == 0)
                        assert_int_equal(append_i(f->j, b, "x.b", i), i / 2);
        }
        json_t *ev = events_of(f->j, a);
        assert_int_equal(json_array_size(ev), 50);
        for (size_t i = 0; i < 50; i++) {
                json_t *e = json_array_get(ev, i);
                assert_int_equal(json_integer_value(json_object_get(e, "seq")), (json_int_t)i + 1);
                assert_int_equal(
                        json_integer_value(json_object_get(json_object_get(e, "data"), "i")),
                        (json_int_t)i + 1);
        }
        json_decref(ev);
        ev = events_of(f->j, b);
        assert_int_equal(json_array_size(ev), 25);
        json_decref(ev);

        /* runs: newest first, with a limit */
        json_t *runs = NULL;
        assert_int_equal(bridle__journal_runs(f->j, 0, &runs, &err), 0);
        assert_int_equal(json_array_size(runs), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "id")), b);
        assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "agent")),
                            "b");
        assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "id")), a);
        assert_true(json_integer_value(json_object_get(json_array_get(runs, 1), "created_at")) >
                    1600000000000LL);
        json_decref(runs);
        assert_int_equal(bridle__journal_runs(f->j, 1, &runs, &err), 0);
        assert_int_equal(json_array_size(runs), 1);
        json_decref(runs);
}

#define WRITERS    3
#define PER_WRITER 150

/* A child: its own handle, PER_WRITER appends to run id. */
static int writer(const char *db, const char *id, int k)
{
        bridle__journal *j = NULL;
        bridle_error err = {0};
        if (bridle__journal_open(db, &j, &err) < 0)
                return 10;
        int64_t last = 0;
        for (int i = 0; i < PER_WRITER; i++) {
                json_t *d = json_pack("{s:i, s:i}", "k", k, "i", i);
                int64_t seq = bridle__journal_append(j, id, "w", d, NULL, &err);
                json_decref(d);
                if (seq <= last) {
                        (void)fprintf(stderr, "writer %d: %s\n", k, err.msg);
                        bridle__journal_close(j);
                        return 11;
                }
                last = seq;
        }
        bridle__journal_close(j);
        return 0;
}

static void test_two_processes(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "w", id, &err), 0);
        /* SQLite handles must not cross fork(): close ours first. */
        f->j = bridle__journal_close(f->j);
        pid_t pids[WRITERS];
        for (int k = 0; k < WRITERS; k++) {
                pids[k] = fork();
                assert_true(pids[k] >= 0);
                if (pids[k] == 0)
                        _exit(writer(f->db, id, k));
        }
        for (int k = 0; k < WRITERS; k++) {
                int st = 0;
                assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
                assert_true(WIFEXITED(st));
                assert_int_equal(WEXITSTATUS(st), 0);
        }
        assert_int_equal(bridle__journal_open(f->db, &f->j, &err), 0);
        json_t *ev = events_of(f->j, id);
        assert_int_equal(json_array_size(ev), WRITERS * PER_WRITER);
        int next[WRITERS] = {0};
        for (size_t i = 0; i < json_array_size(ev); i++) {
                json_t *e = json_array_get(ev, i), *d = json_object_get(e, "data");
                assert_int_equal(json_integer_value(json_object_get(e, "seq")), (json_int_t)i + 1);
                int k = (int)json_integer_value(json_object_get(d, "k"));
                assert_true(k >= 0 && k < WRITERS);
                /* each writer's events in its own order, none lost or doubled */
                assert_int_equal(json_integer_value(json_object_get(d, "i")), next[k]);
                next[k]++;
        }
        for (int k = 0; k < WRITERS; k++)
                assert_int_equal(next[k], PER_WRITER);
        json_decref(ev);
}

static void test_prefix(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33], out[33];
        assert_int_equal(bridle__journal_new_run(f->j, "p", id, &err), 0);
        assert_int_equal(append_i(f->j, id, "x", 1), 1);

        char pre[33];
        (void)snprintf(pre, sizeof(pre), "%.4s", id);
        json_t *ev = NULL;
        assert_int_equal(bridle__journal_events(f->j, pre, out, &ev, &err), 0);
        assert_string_equal(out, id);
        assert_int_equal(json_array_size(ev), 1);
        json_decref(ev);
        /* upper case is the same id */
        char up[33];
        for (size_t i = 0; i <= 32; i++)
                up[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 'a' + 'A' : id[i]);
        assert_int_equal(bridle__journal_resolve(f->j, up, out, &err), 0);
        assert_string_equal(out, id);
        /* too short */
        (void)snprintf(pre, sizeof(pre), "%.3s", id);
        assert_int_equal(bridle__journal_resolve(f->j, pre, out, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "too short"));

        /* Make runs until two share a 4-digit prefix (certain well before 3000). */
        assert_int_equal(bridle__journal_begin(f->j, &err), 0);
        char ids[3000][33];
        int dup = -1;
        for (int i = 0; i < 3000 && dup < 0; i++) {
                assert_int_equal(bridle__journal_new_run(f->j, "many", ids[i], &err), 0);
                for (int k = 0; k < i && dup < 0; k++)
                        if (memcmp(ids[k], ids[i], 4) == 0)
                                dup = k;
        }
        assert_int_equal(bridle__journal_commit(f->j, &err), 0);
        assert_true(dup >= 0);
        (void)snprintf(pre, sizeof(pre), "%.4s", ids[dup]);
        assert_int_equal(bridle__journal_resolve(f->j, pre, out, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "ambiguous"));
        assert_non_null(strstr(err.msg, pre));
        /* the full id is never ambiguous */
        assert_int_equal(bridle__journal_resolve(f->j, ids[dup], out, &err), 0);
        assert_string_equal(out, ids[dup]);
}

static void test_unknown_run(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        json_t *ev = NULL;
        char out[33];
        assert_int_equal(
                bridle__journal_events(f->j, "00000000000000000000000000000000", out, &ev, &err),
                -ENOENT);
        assert_null(ev);
        assert_non_null(strstr(err.msg, "no run '00000000000000000000000000000000'"));
        assert_int_equal(bridle__journal_events(f->j, "zzzzzz", out, &ev, &err), -ENOENT);
        assert_int_equal(
                bridle__journal_events(f->j, "0123456789abcdef0123456789abcdef0", out, &ev, &err),
                -ENOENT);
        int64_t r = bridle__journal_append(f->j, "00000000000000000000000000000000", "x", NULL,
                                           NULL, &err);
        assert_int_equal(r, -ENOENT);
        assert_non_null(strstr(err.msg, "no run"));
        /* bad arguments */
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "a", id, &err), 0);
        json_t *arr = json_array();
        assert_int_equal(bridle__journal_append(f->j, id, "x", arr, NULL, &err), -EINVAL);
        json_decref(arr);
        assert_int_equal(bridle__journal_append(f->j, id, "Bad Type", NULL, NULL, &err), -EINVAL);
        assert_int_equal(bridle__journal_append(f->j, id, "", NULL, NULL, &err), -EINVAL);
        /* nothing was written by the failures */
        assert_int_equal(bridle__journal_append(f->j, id, "ok", NULL, NULL, &err), 1);
}

static mode_t mode_of(const char *path)
{
        struct stat s;
        if (stat(path, &s) < 0)
                fail_msg("stat '%s': %s", path, strerror(errno));
        return s.st_mode & 07777;
}

static void test_modes(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33], p[600];
        assert_int_equal(bridle__journal_new_run(f->j, "a", id, &err), 0);
        assert_int_equal(append_i(f->j, id, "x", 1), 1);
        assert_int_equal(mode_of(f->db), 0600);
        (void)snprintf(p, sizeof(p), "%s-wal", f->db);
        assert_int_equal(mode_of(p), 0600);
        (void)snprintf(p, sizeof(p), "%s-shm", f->db);
        assert_int_equal(mode_of(p), 0600);

        /* The default path: $BRIDLE_HOME made 0700, even with umask 0. */
        char home[560];
        (void)snprintf(home, sizeof(home), "%s/home/deeper", f->root);
        char *old = getenv("BRIDLE_HOME") ? strdup(getenv("BRIDLE_HOME")) : NULL;
        assert_int_equal(setenv("BRIDLE_HOME", home, 1), 0);
        mode_t um = umask(0);
        bridle__journal *j = NULL;
        int r = bridle__journal_open(NULL, &j, &err);
        (void)umask(um);
        if (old)
                (void)setenv("BRIDLE_HOME", old, 1);
        else
                (void)unsetenv("BRIDLE_HOME");
        free(old);
        assert_int_equal(r, 0);
        (void)snprintf(p, sizeof(p), "%s/journal.db", home);
        assert_string_equal(bridle__journal_path(j), p);
        assert_int_equal(bridle__journal_new_run(j, "a", id, &err), 0);
        bridle__journal_close(j);
        assert_int_equal(mode_of(home), 0700);
        assert_int_equal(mode_of(p), 0600);
}

static void test_reopen(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "r", id, &err), 0);
        for (int i = 1; i <= 20; i++)
                assert_int_equal(append_i(f->j, id, "x", i), i);
        f->j = bridle__journal_close(f->j);
        assert_null(f->j);
        assert_int_equal(bridle__journal_open(f->db, &f->j, &err), 0);
        json_t *ev = events_of(f->j, id);
        assert_int_equal(json_array_size(ev), 20);
        json_decref(ev);
        assert_int_equal(append_i(f->j, id, "x", 21), 21);
        /* BRIDLE_JOURNAL_SYNC=full and run.status (synced) appends */
        f->j = bridle__journal_close(f->j);
        assert_int_equal(setenv("BRIDLE_JOURNAL_SYNC", "full", 1), 0);
        int r = bridle__journal_open(f->db, &f->j, &err);
        (void)unsetenv("BRIDLE_JOURNAL_SYNC");
        assert_int_equal(r, 0);
        assert_int_equal(append_i(f->j, id, "run.status", 22), 22);
        f->j = bridle__journal_close(f->j);
        assert_int_equal(bridle__journal_open(f->db, &f->j, &err), 0);
        assert_int_equal(append_i(f->j, id, "run.status", 23), 23);
        ev = events_of(f->j, id);
        assert_int_equal(json_array_size(ev), 23);
        json_decref(ev);
}

/* The child appends until killed; after each append returns it reports the
 * seq on the pipe. */
static void killed_writer(const char *db, const char *id, int wfd)
{
        bridle__journal *j = NULL;
        bridle_error err = {0};
        if (bridle__journal_open(db, &j, &err) < 0)
                _exit(10);
        for (int i = 0; i < 1000000; i++) {
                int64_t seq = append_i(j, id, "w", i);
                if (seq <= 0 || write(wfd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
                        _exit(11);
        }
        _exit(12);
}

static void test_kill9(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "k", id, &err), 0);
        f->j = bridle__journal_close(f->j);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                killed_writer(f->db, id, p[1]);
        }
        close(p[1]);
        int64_t seq = 0, max_seen = 0;
        size_t seen = 0;
        while (seen < 2000 && read(p[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
                assert_int_equal(seq, max_seen + 1);
                max_seen = seq;
                seen++;
        }
        assert_int_equal(kill(pid, SIGKILL), 0);
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        /* seqs the child reported before it died (bounded: the pipe holds at most 64 KiB) */
        while (read(p[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
                assert_int_equal(seq, max_seen + 1);
                max_seen = seq;
        }
        close(p[0]);
        assert_int_equal(seen, 2000);

        /* A fresh handle (as after a crash) reads every returned append. */
        assert_int_equal(bridle__journal_open(f->db, &f->j, &err), 0);
        json_t *ev = events_of(f->j, id);
        assert_true(json_array_size(ev) >= (size_t)max_seen);
        for (size_t i = 0; i < json_array_size(ev); i++) {
                json_t *e = json_array_get(ev, i);
                assert_int_equal(json_integer_value(json_object_get(e, "seq")), (json_int_t)i + 1);
                assert_int_equal(
                        json_integer_value(json_object_get(json_object_get(e, "data"), "i")),
                        (json_int_t)i);
        }
        size_t n = json_array_size(ev);
        json_decref(ev);
        /* and the run continues where it stopped */
        assert_int_equal(append_i(f->j, id, "x", 0), (int64_t)n + 1);
}

static void test_batch(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "b", id, &err), 0);
        bridle__journal *other = NULL;
        assert_int_equal(bridle__journal_open(f->db, &other, &err), 0);

        assert_int_equal(bridle__journal_begin(f->j, &err), 0);
        assert_int_equal(bridle__journal_begin(f->j, &err), -EBUSY);
        for (int i = 1; i <= 10; i++)
                assert_int_equal(append_i(f->j, id, i == 10 ? "run.status" : "x", i), i);
        json_t *ev = events_of(other, id);
        assert_int_equal(json_array_size(ev), 0); /* not yet committed */
        json_decref(ev);
        assert_int_equal(bridle__journal_commit(f->j, &err), 0);
        ev = events_of(other, id);
        assert_int_equal(json_array_size(ev), 10);
        json_decref(ev);

        assert_int_equal(bridle__journal_begin(f->j, &err), 0);
        assert_int_equal(append_i(f->j, id, "x", 11), 11);
        assert_int_equal(bridle__journal_rollback(f->j), 0);
        assert_int_equal(bridle__journal_commit(f->j, &err), -EINVAL);
        ev = events_of(f->j, id);
        assert_int_equal(json_array_size(ev), 10);
        json_decref(ev);
        assert_int_equal(append_i(other, id, "x", 11), 11);
        /* a batch left open at close is dropped */
        assert_int_equal(bridle__journal_begin(f->j, &err), 0);
        assert_int_equal(append_i(f->j, id, "x", 12), 12);
        f->j = bridle__journal_close(f->j);
        ev = events_of(other, id);
        assert_int_equal(json_array_size(ev), 11);
        json_decref(ev);
        bridle__journal_close(other);
        assert_int_equal(bridle__journal_open(f->db, &f->j, &err), 0);
}

static void raw_sql(const char *db, const char *sql)
{
        sqlite3 *s = NULL;
        assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
        char *msg = NULL;
        int rc = sqlite3_exec(s, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK)
                fail_msg("%s: %s", sql, msg ? msg : "?");
        sqlite3_close(s);
}

static void test_damage(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33], sql[256];
        assert_int_equal(bridle__journal_new_run(f->j, "d", id, &err), 0);
        assert_int_equal(append_i(f->j, id, "x", 1), 1);
        (void)snprintf(sql, sizeof(sql), "INSERT INTO events VALUES('%s', 2, 0, 'x', 'not json')",
                       id);
        raw_sql(f->db, sql);
        json_t *ev = NULL;
        assert_int_equal(bridle__journal_events(f->j, id, NULL, &ev, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "event 2"));
        assert_null(ev);

        /* a journal from a newer bridle is refused, not changed */
        raw_sql(f->db, "PRAGMA user_version=99");
        bridle__journal *j = NULL;
        assert_int_equal(bridle__journal_open(f->db, &j, &err), BRIDLE_E_UNSUPPORTED);
        assert_non_null(strstr(err.msg, "99"));
        assert_null(j);
        /* a file that is not a database */
        char p[600];
        (void)snprintf(p, sizeof(p), "%s/junk.db", f->root);
        FILE *fp = fopen(p, "we");
        assert_non_null(fp);
        for (int i = 0; i < 200; i++)
                (void)fputs("this is not an sqlite database at all\n", fp);
        (void)fclose(fp);
        assert_true(bridle__journal_open(p, &j, &err) < 0);
        assert_null(j);
}

/* Allocation failures (the handle, the data buffer): -ENOMEM, no leaks, and
 * the journal works again afterwards. */
static void test_alloc_failures(void **state)
{
        struct fx *f = *state;
        bridle_error err = {0};
        char id[33];
        assert_int_equal(bridle__journal_new_run(f->j, "a", id, &err), 0);
        bool opened = false, appended = false;
        for (unsigned long n = 1; n <= 10 && !(opened && appended); n++) {
                bridle__journal *j = NULL;
                bridle__alloc_fail_at(n);
                int r = bridle__journal_open(f->db, &j, &err);
                if (r == 0) {
                        opened = true;
                        int64_t seq = append_i(j, id, "x", (int)n);
                        assert_true(seq > 0 || seq == -ENOMEM);
                        appended = seq > 0;
                        bridle__journal_close(j);
                } else {
                        assert_int_equal(r, -ENOMEM);
                        assert_null(j);
                }
                bridle__alloc_fail_at(0);
        }
        assert_true(opened && appended);
        assert_true(append_i(f->j, id, "x", 0) > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_append_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_seq_per_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
                cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
        };
        return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
