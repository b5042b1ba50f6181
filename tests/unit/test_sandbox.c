/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's public API from one process: size parsing, spec validation,
 * allocation-failure injection over the spec setters and over a whole run, and
 * the leak test: 1,000 sandboxes made and destroyed leave no fd, child,
 * mount or cgroup behind.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridle/sandbox.h"
#include "sandbox/spec.h"
#include "util/alloc.h"

#define LEAK_RUNS 1000

/* ---- helpers ---------------------------------------------------------- */

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -1;
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static int count_lines(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        int n = 0, c;
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

/* Cgroups this process made: the library names them sb-<pid>-<n>-<ms>. */
static int count_my_cgroups(const char *ctrl)
{
        char dir[128], prefix[32];
        (void)snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/bridle", ctrl);
        (void)snprintf(prefix, sizeof(prefix), "sb-%d-", (int)getpid());
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
        closedir(d);
        return n;
}

static bool no_children(void)
{
        errno = 0;
        return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int run_argv(const bridle_sandbox_spec *spec, const char *const *argv,
                    bridle_run_result *res, bridle_error *err)
{
        bridle_run_opts o = {
                .argv = argv,
                .capture = true,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .init_path = getenv("BRIDLE_INIT_PATH"),
        };
        bridle_error_clear(err);
        return bridle_sandbox_run(spec, &o, res, err);
}

/* Skips the test when this host cannot make a sandbox at all. */
static void skip_without_sandbox(void)
{
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        assert_non_null(s);
        const char *argv[] = { "/bin/true", NULL };
        bridle_run_result res;
        bridle_error err;
        int r = run_argv(s, argv, &res, &err);
        bridle_sandbox_spec_free(s);
        if (r == BRIDLE_E_FORBIDDEN || r == BRIDLE_E_UNSUPPORTED) {
                fprintf(stderr, "skip: no sandbox on this host: %s\n", err.msg);
                skip();
        }
        if (r < 0)
                fail_msg("the sandbox could not be made: %s", err.msg);
        bridle_run_result_release(&res);
}

/* ---- bridle_parse_size ------------------------------------------------ */

static void test_parse_size(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                uint64_t want;
        } good[] = {
                { "0", 0 },
                { "4096", 4096 },
                { "1K", 1024 },
                { "1k", 1024 },
                { "256M", 256ull << 20 },
                { "256m", 256ull << 20 },
                { "1G", 1ull << 30 },
                { "3T", 3ull << 40 },
                { "1KB", 1024 },
                { "2MiB", 2ull << 20 },
                { "16777215T", 16777215ull << 40 },
                { "18446744073709551615", UINT64_MAX },
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                uint64_t v = 12345;
                bridle_error err;
                bridle_error_clear(&err);
                int r = bridle_parse_size(good[i].in, &v, &err);
                if (r != 0)
                        fail_msg("'%s': %d %s", good[i].in, r, err.msg);
                if (v != good[i].want)
                        fail_msg("'%s': got %llu", good[i].in, (unsigned long long)v);
        }
        static const char *const bad[] = {
                "", "M", "-1", "+1", " 1", "1 ", "1X", "1MM", "1Mx", "1.5G", "1e3",
                "0x10", "1Mi", "1MB5", "16777216T", "18446744073709551616", "99999999999999999999G",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint64_t v = 777;
                bridle_error err;
                bridle_error_clear(&err);
                int r = bridle_parse_size(bad[i], &v, &err);
                if (r >= 0)
                        fail_msg("'%s' parsed as %llu", bad[i], (unsigned long long)v);
                assert_int_equal(err.code, r);
                assert_true(err.msg[0] != '\0');
                assert_int_equal(v, 777); /* ret untouched on failure */
        }
        uint64_t v;
        assert_true(bridle_parse_size(NULL, &v, NULL) < 0);
}

/* ---- spec validation ------------------------------------------------- */

static void expect_einval(int r, const bridle_error *err, const char *what)
{
        if (r >= 0)
                fail_msg("%s was accepted", what);
        assert_int_equal(err->code, r);
        assert_true(err->msg[0] != '\0');
}

static void test_spec_paths(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        assert_non_null(s);
        bridle_error err;
        static const char *const dotdot[] = { "..", "../x", "a/../b", "a/..", "/..", "/a/../../etc",
                                              "a//..//b" };
        for (size_t i = 0; i < sizeof(dotdot) / sizeof(dotdot[0]); i++) {
                const char *p = dotdot[i];
                char abs[64];
                (void)snprintf(abs, sizeof(abs), "%s%s", p[0] == '/' ? "" : "/", p);
                expect_einval(bridle_sandbox_spec_add_file(s, p, "x", 1, 0, &err), &err, "file ..");
                expect_einval(bridle_sandbox_spec_add_dir(s, p, &err), &err, "dir ..");
                expect_einval(bridle_sandbox_spec_add_copy(s, p, "/etc/hostname", &err), &err, "copy ..");
                expect_einval(bridle_sandbox_spec_set_cwd(s, p, &err), &err, "cwd ..");
                expect_einval(bridle_sandbox_spec_add_bind(s, "/usr", abs, 0, &err), &err, "bind ..");
                expect_einval(bridle_sandbox_spec_set_root(s, abs, &err), &err, "root ..");
        }
        /* names that only look like .. are fine */
        assert_int_equal(bridle_sandbox_spec_add_file(s, "..x", "x", 1, 0, &err), 0);
        assert_int_equal(bridle_sandbox_spec_add_dir(s, "a/...", &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_cwd(s, "x../y", &err), 0);
        /* empty, relative where absolute is needed, '/' itself */
        expect_einval(bridle_sandbox_spec_add_file(s, "", "x", 1, 0, &err), &err, "empty file path");
        expect_einval(bridle_sandbox_spec_add_dir(s, "", &err), &err, "empty dir path");
        expect_einval(bridle_sandbox_spec_add_bind(s, "/usr", "rel", 0, &err), &err, "relative bind");
        expect_einval(bridle_sandbox_spec_add_bind(s, "/usr", "/", 0, &err), &err, "bind over /");
        expect_einval(bridle_sandbox_spec_add_bind(s, "", "/x", 0, &err), &err, "bind from ''");
        expect_einval(bridle_sandbox_spec_add_bind(s, NULL, "/x", 0, &err), &err, "bind from NULL");
        expect_einval(bridle_sandbox_spec_set_root(s, "/", &err), &err, "root /");
        expect_einval(bridle_sandbox_spec_set_root(s, "ws", &err), &err, "relative root");
        expect_einval(bridle_sandbox_spec_set_workspace(s, "", &err), &err, "empty workspace");
        expect_einval(bridle_sandbox_spec_add_copy(s, "a", "", &err), &err, "copy from ''");
        expect_einval(bridle_sandbox_spec_add_file(s, "a", NULL, 3, 0, &err), &err, "file NULL data");
        char longp[2048];
        memset(longp, 'a', sizeof(longp) - 1);
        longp[sizeof(longp) - 1] = '\0';
        expect_einval(bridle_sandbox_spec_add_dir(s, longp, &err), &err, "a 2047-byte path");
        /* NULL spec */
        expect_einval(bridle_sandbox_spec_add_dir(NULL, "a", &err), &err, "NULL spec");
        expect_einval(bridle_sandbox_spec_set_env(NULL, "A", "b", &err), &err, "NULL spec env");
        /* valid ones */
        assert_int_equal(bridle_sandbox_spec_add_bind(s, "/usr", "/opt/u", BRIDLE_BIND_RO, &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_root(s, "/work", &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_workspace(s, NULL, &err), 0);
        assert_int_equal(bridle_sandbox_spec_add_file(s, "empty", NULL, 0, 0, &err), 0);
        assert_null(bridle_sandbox_spec_free(s));
        assert_null(bridle_sandbox_spec_free(NULL));
}

static void test_spec_env(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        assert_non_null(s);
        bridle_error err;
        static const char *const badnames[] = { "", "1A", "A-B", "A=B", "A B", "Ä", "A.B", "$A", "A\n" };
        for (size_t i = 0; i < sizeof(badnames) / sizeof(badnames[0]); i++)
                expect_einval(bridle_sandbox_spec_set_env(s, badnames[i], "v", &err), &err, badnames[i]);
        expect_einval(bridle_sandbox_spec_set_env(s, NULL, "v", &err), &err, "NULL name");
        expect_einval(bridle_sandbox_spec_set_env(s, "A", NULL, &err), &err, "NULL value");
        assert_int_equal(s->n_env, 0);

        assert_int_equal(bridle_sandbox_spec_set_env(s, "A", "1", &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "_b9", "x=y z", &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "AB", "2", &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "A", "3", &err), 0); /* replaces A, not AB */
        assert_int_equal(bridle_sandbox_spec_set_env(s, "E", "", &err), 0);
        assert_int_equal(s->n_env, 4);
        int seen = 0;
        for (size_t i = 0; i < s->n_env; i++) {
                seen |= strcmp(s->env[i], "A=3") == 0 ? 1 : 0;
                seen |= strcmp(s->env[i], "AB=2") == 0 ? 2 : 0;
                seen |= strcmp(s->env[i], "_b9=x=y z") == 0 ? 4 : 0;
                seen |= strcmp(s->env[i], "E=") == 0 ? 8 : 0;
                assert_string_not_equal(s->env[i], "A=1");
        }
        assert_int_equal(seen, 15);

        /* a value over the cap */
        size_t big = 200 * 1024;
        char *v = malloc(big + 1);
        assert_non_null(v);
        memset(v, 'v', big);
        v[big] = '\0';
        expect_einval(bridle_sandbox_spec_set_env(s, "BIG", v, &err), &err, "a 200 KiB value");
        free(v);
        assert_int_equal(s->n_env, 4);
        bridle_sandbox_spec_free(s);
}

static void test_spec_limits_merge(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        assert_non_null(s);
        bridle_limits a = { .timeout_ms = 1000, .memory = 1 << 20, .pids = 5 };
        bridle_limits b = { .memory = 2 << 20, .cpu_s = 3 };
        bridle_sandbox_spec_set_limits(s, &a);
        bridle_sandbox_spec_set_limits(s, &b);
        assert_int_equal(s->limits.timeout_ms, 1000);
        assert_int_equal(s->limits.memory, 2 << 20);
        assert_int_equal(s->limits.pids, 5);
        assert_int_equal(s->limits.cpu_s, 3);
        assert_int_equal(s->limits.disk, 0);
        bridle_sandbox_spec_set_limits(s, NULL);
        bridle_sandbox_spec_set_limits(NULL, &a);
        bridle_sandbox_spec_set_net(NULL, BRIDLE_NET_LOOPBACK);
        bridle_sandbox_spec_set_isolation(NULL, BRIDLE_ISOLATION_LANDLOCK);
        bridle_sandbox_spec_free(s);
}

/* ---- allocation failure injection ----------------------------------- */

/* Build a spec with every setter; returns the number of calls that failed
 * with -ENOMEM, or -1 on any other failure or a broken half-state. */
static int build_spec(bridle_sandbox_spec **ret)
{
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        if (!s)
                return 1;
        bridle_error err;
        int fails = 0, r;
        size_t n_before;
#define STEP(call)                                                                      \
        do {                                                                            \
                bridle_error_clear(&err);                                               \
                r = (call);                                                             \
                if (r == -ENOMEM) {                                                     \
                        assert_int_equal(err.code, -ENOMEM);                            \
                        fails++;                                                        \
                } else if (r != 0) {                                                    \
                        fail_msg("%s: %d %s", #call, r, err.msg);                       \
                }                                                                       \
        } while (0)
        STEP(bridle_sandbox_spec_set_workspace(s, "/tmp/ws", &err));
        STEP(bridle_sandbox_spec_set_root(s, "/work", &err));
        STEP(bridle_sandbox_spec_set_cwd(s, "sub", &err));
        for (int i = 0; i < 20; i++) {
                char p[32];
                (void)snprintf(p, sizeof(p), "f%d", i);
                n_before = s->n_entries;
                STEP(bridle_sandbox_spec_add_file(s, p, "data", 4, 0, &err));
                /* a failed add leaves no half entry */
                assert_int_equal(s->n_entries, n_before + (r == 0));
        }
        n_before = s->n_entries;
        STEP(bridle_sandbox_spec_add_dir(s, "d/e", &err));
        assert_int_equal(s->n_entries, n_before + (r == 0));
        n_before = s->n_entries;
        STEP(bridle_sandbox_spec_add_copy(s, "c", "/etc/hostname", &err));
        assert_int_equal(s->n_entries, n_before + (r == 0));
        n_before = s->n_entries;
        STEP(bridle_sandbox_spec_add_bind(s, "/usr", "/u", BRIDLE_BIND_RO, &err));
        assert_int_equal(s->n_entries, n_before + (r == 0));
        for (int i = 0; i < 6; i++) {
                char n[16];
                (void)snprintf(n, sizeof(n), "V%d", i % 4); /* some replace */
                size_t e_before = s->n_env;
                STEP(bridle_sandbox_spec_set_env(s, n, "value", &err));
                assert_true(s->n_env == e_before || s->n_env == e_before + 1);
        }
#undef STEP
        /* what is there is intact */
        for (size_t i = 0; i < s->n_entries; i++)
                assert_non_null(s->entries[i].path);
        for (size_t i = 0; i < s->n_env; i++)
                assert_non_null(s->env[i]);
        *ret = s;
        return fails;
}

static void test_spec_alloc_fail(void **state)
{
        (void)state;
        unsigned long n;
        bool clean = false;
        for (n = 1; n < 10000 && !clean; n++) {
                bridle_sandbox_spec *s = NULL;
                bridle__alloc_fail_at(n);
                int fails = build_spec(&s);
                bridle__alloc_fail_at(0);
                /* exactly one allocation failed, and it was reported (or nothing failed) */
                clean = fails == 0 && s;
                if (!clean)
                        assert_int_equal(fails, 1);
                bridle_sandbox_spec_free(s);
        }
        assert_true(clean);
        assert_true(n > 20); /* the loop did inject failures */
}

/* A whole run with the Nth allocation failing: it fails cleanly or succeeds,
 * and leaves no fd, child or mount behind either way. */
static void test_run_alloc_fail(void **state)
{
        (void)state;
        skip_without_sandbox();
        int fds0 = count_fds(), mounts0 = count_lines("/proc/self/mountinfo");
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        assert_non_null(s);
        bridle_error err;
        assert_int_equal(bridle_sandbox_spec_add_file(s, "a.txt", "hi\n", 3, 0, &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_env(s, "X", "1", &err), 0);
        bridle_limits lim = { .timeout_ms = 10000, .pids = 64 };
        bridle_sandbox_spec_set_limits(s, &lim);
        const char *argv[] = { "/bin/cat", "a.txt", NULL };
        /* Some allocations may fail harmlessly (a probe falls back); go on until
         * the injected failure is past the run's last allocation: 10 clean
         * successes in a row. */
        unsigned long n, failures = 0, streak = 0;
        for (n = 1; n < 400 && streak < 10; n++) {
                bridle_run_result res;
                memset(&res, 0x5a, sizeof(res));
                bridle__alloc_fail_at(n);
                int r = run_argv(s, argv, &res, &err);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        /* a tolerated failure still gives a whole, right result */
                        assert_int_equal(res.status, 0);
                        assert_int_equal(res.stdout_len, 3);
                        assert_memory_equal(res.stdout_buf, "hi\n", 3);
                        bridle_run_result_release(&res);
                        streak++;
                } else {
                        assert_int_equal(err.code, r);
                        assert_true(err.msg[0] != '\0');
                        failures++;
                        streak = 0;
                }
                assert_true(no_children());
                assert_int_equal(count_fds(), fds0);
        }
        assert_true(streak >= 10);
        assert_true(failures > 0); /* the injection did reach the run */
        fprintf(stderr, "%lu injected allocation failures, %lu made the run fail cleanly\n", n - 1 - 10,
                failures);
        bridle_sandbox_spec_free(s);
        assert_int_equal(count_fds(), fds0);
        assert_int_equal(count_lines("/proc/self/mountinfo"), mounts0);
        assert_int_equal(count_my_cgroups("pids"), 0);
}

/* ---- the leak test --------------------------------------------------- */

struct leak_kind {
        bridle_sandbox_spec *spec;
        const char *const *argv;
        int want_status;
};

/* Whether runs with `lim` get a memory and a pids cgroup: a forked child runs a
 * short sleep in a sandbox while we look for its cgroups (named after the
 * harness's pid) on the host. Inside, the cgroup namespace hides them.
 * Directories that were there before the fork do not count: one left by an
 * earlier process (killed, so it could not remove it) may carry the same pid. */
#define CG_BEFORE_MAX 4096
struct cg_before {
        char *name[CG_BEFORE_MAX];
        size_t n;
};

static void cg_before_take(struct cg_before *b, const char *ctrl)
{
        char dir[64];
        (void)snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/bridle", ctrl);
        b->n = 0;
        DIR *d = opendir(dir);
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d)) && b->n < CG_BEFORE_MAX;)
                if (strncmp(e->d_name, "sb-", 3) == 0)
                        b->name[b->n++] = strdup(e->d_name);
        closedir(d);
}

static void cg_before_free(struct cg_before *b)
{
        for (size_t i = 0; i < b->n; i++)
                free(b->name[i]);
        b->n = 0;
}

static bool cgroup_dir_seen(const char *ctrl, pid_t harness, const struct cg_before *before)
{
        char dir[64], prefix[32];
        (void)snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/bridle", ctrl);
        (void)snprintf(prefix, sizeof(prefix), "sb-%d-", (int)harness);
        DIR *d = opendir(dir);
        if (!d)
                return false;
        bool seen = false;
        for (struct dirent *e; (e = readdir(d));) {
                if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                bool old = false;
                for (size_t i = 0; !old && i < before->n; i++)
                        old = before->name[i] && strcmp(before->name[i], e->d_name) == 0;
                seen |= !old;
        }
        closedir(d);
        return seen;
}

static void leak_check_cgroups_used(bridle_sandbox_spec *lim, bool *ret_memory, bool *ret_pids)
{
        const char *argv[] = { "/bin/sh", "-c", "test \"$(cat /proc/self/cgroup | grep -c ':/$')\" -gt 0 && sleep 0.5", NULL };
        static struct cg_before bm, bp;
        cg_before_take(&bm, "memory");
        cg_before_take(&bp, "pids");
        fflush(NULL);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                bridle_run_result res;
                bridle_error err;
                int r = run_argv(lim, argv, &res, &err);
                _exit(r == 0 && res.status == 0 ? 0 : 1);
        }
        bool mem = false, pids = false;
        for (int i = 0; i < 400 && !(mem && pids); i++) { /* at most ~2 s */
                mem |= cgroup_dir_seen("memory", child, &bm);
                pids |= cgroup_dir_seen("pids", child, &bp);
                usleep(5000);
        }
        int st;
        assert_int_equal(waitpid(child, &st, 0), child);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* ... and they are gone once the run returned. */
        assert_false(cgroup_dir_seen("memory", child, &bm));
        assert_false(cgroup_dir_seen("pids", child, &bp));
        cg_before_free(&bm);
        cg_before_free(&bp);
        *ret_memory = mem;
        *ret_pids = pids;
}

static void test_leak_1000(void **state)
{
        (void)state;
        skip_without_sandbox();
        bridle_error err;
        bridle_sandbox_spec *plain = bridle_sandbox_spec_new();
        bridle_sandbox_spec *lim = bridle_sandbox_spec_new();
        bridle_sandbox_spec *timed = bridle_sandbox_spec_new();
        assert_non_null(plain);
        assert_non_null(lim);
        assert_non_null(timed);
        bridle_limits l = { .memory = 64ull << 20, .pids = 32, .disk = 1 << 20 };
        bridle_sandbox_spec_set_limits(lim, &l);
        assert_int_equal(bridle_sandbox_spec_add_file(lim, "f", "x", 1, 0, &err), 0);
        assert_int_equal(bridle_sandbox_spec_add_bind(lim, "/etc", "/hostetc", BRIDLE_BIND_RO, &err), 0);
        bridle_sandbox_spec_set_net(lim, BRIDLE_NET_LOOPBACK);
        bridle_limits t = { .timeout_ms = 30 };
        bridle_sandbox_spec_set_limits(timed, &t);

        bool cg_memory = false, cg_pids = false;
        leak_check_cgroups_used(lim, &cg_memory, &cg_pids);
        if (geteuid() == 0 && access("/sys/fs/cgroup/pids", W_OK) == 0)
                assert_true(cg_pids); /* so the cgroup check below means something */
        fprintf(stderr, "cgroups used: memory %d, pids %d\n", cg_memory, cg_pids);

        const char *truth[] = { "/bin/true", NULL };
        const char *sleeper[] = { "/bin/sh", "-c", "sleep 30 & sleep 30", NULL };
        const char *missing[] = { "no-such-command", NULL };
        const char *fail3[] = { "/bin/sh", "-c", "exit 3", NULL };
        const struct leak_kind kinds[] = {
                { plain, truth, 0 },     { lim, truth, 0 },      { timed, sleeper, 124 },
                { plain, missing, 127 }, { lim, fail3, 3 },
        };

        int fds0 = count_fds();
        int mounts0 = count_lines("/proc/self/mountinfo");
        assert_true(fds0 > 0);
        assert_true(mounts0 > 0);
        assert_true(no_children());
        uint64_t t0 = now_ms();
        for (int i = 0; i < LEAK_RUNS; i++) {
                /* mostly /bin/true; every 10th with limits (cgroups, binds, files),
                 * every 100th a timeout, a missing command and a failing one */
                size_t k = i % 100 == 0 ? 2 : i % 100 == 50 ? 3 : i % 100 == 77 ? 4 : i % 10 == 5 ? 1 : 0;
                bridle_run_result res;
                int r = run_argv(kinds[k].spec, kinds[k].argv, &res, &err);
                if (r < 0)
                        fail_msg("run %d (kind %zu): %s", i, k, err.msg);
                if (res.status != kinds[k].want_status)
                        fail_msg("run %d (kind %zu): status %d, wanted %d", i, k, res.status,
                                 kinds[k].want_status);
                bridle_run_result_release(&res);
                if (i % 100 == 99) {
                        /* check as we go, so a leak is caught near where it starts */
                        assert_int_equal(count_fds(), fds0);
                        assert_true(no_children());
                }
        }
        uint64_t dt = now_ms() - t0;
        fprintf(stderr, "%d sandboxes in %llu ms (%.2f ms each)\n", LEAK_RUNS,
                (unsigned long long)dt, (double)dt / LEAK_RUNS);

        assert_int_equal(count_fds(), fds0);
        assert_true(no_children());
        assert_int_equal(count_lines("/proc/self/mountinfo"), mounts0);
        assert_int_equal(count_my_cgroups("memory"), 0);
        assert_int_equal(count_my_cgroups("pids"), 0);
        bridle_sandbox_spec_free(plain);
        bridle_sandbox_spec_free(lim);
        bridle_sandbox_spec_free(timed);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_spec_paths),
                cmocka_unit_test(test_spec_env),
                cmocka_unit_test(test_spec_limits_merge),
                cmocka_unit_test(test_spec_alloc_fail),
                cmocka_unit_test(test_run_alloc_fail),
                cmocka_unit_test(test_leak_1000),
        };
        return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
