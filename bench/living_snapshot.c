/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of a living sandbox through the library. A workspace of SIZE MiB
 * (1 MiB files of random bytes, written inside a sandbox) is snapshotted
 * and restored once (the base: its cost follows its size); then, in the
 * restored sandbox, one file is changed and bridle_sandbox_snapshot() and
 * bridle_sandbox_restore() of that snapshot are timed RUNS times (the goal:
 * cost follows the change). A 1-file workspace's numbers for comparison.
 * Last, issue 3's case: the SIZE MiB workspace given as a manifest's
 * read-only input (a local_dir of SIZE x 1 MiB files in a host temporary
 * directory, bound read-only over the overlay at /workspace/input), one file
 * changed, snapshot (goal < 50 ms) and restore (goal < 200 ms), printed with
 * the ratio to each goal.
 *   bench/living-snapshot [SIZE_MIB [RUNS]]     (default 1024 MiB, 3 runs)
 * BRIDLE_INIT_PATH may point at a build's bridle-init; BRIDLE_HOME defaults
 * to a fresh temporary directory, removed afterwards.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridle/bridle.h"

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp);
        size_t mid = (size_t)n / 2;
        return (double)v[mid] / 1000.0;
}

static int sh(const char *id, const char *script)
{
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        bridle_exec_opts o = {.argv = argv, .timeout_ms = 600000, .capture = true};
        bridle_run_result res;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_exec(id, &o, &res, &err) < 0) {
                (void)fprintf(stderr, "exec: %s\n", err.msg);
                return -1;
        }
        int ok = res.status == 0;
        bridle_run_result_release(&res);
        return ok ? 0 : -1;
}

static uint64_t snap_size(const char *sid)
{
        char p[4200];
        struct stat st;
        (void)snprintf(p, sizeof(p), "%s/snapshots/%s.tar.zst", getenv("BRIDLE_HOME"), sid);
        return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

#define GOAL_SNAPSHOT_MS 50.0
#define GOAL_RESTORE_MS  200.0

struct medians {
        double snapshot_ms, restore_ms;
        uint64_t size;
};

/* One run: change a file, snapshot, restore, destroy the restored sandbox. */
static int measure_once(const char *id, int i, uint64_t *ts, uint64_t *tr, uint64_t *size)
{
        char script[128], *sid = NULL, *rid = NULL;
        bridle_error err;
        (void)snprintf(script, sizeof(script), "echo change %d > changed.txt", i);
        if (sh(id, script) < 0)
                return -1;
        bridle_error_clear(&err);
        uint64_t t0 = now_us();
        if (bridle_sandbox_snapshot(id, "bench", &sid, &err) < 0) {
                (void)fprintf(stderr, "snapshot: %s\n", err.msg);
                return -1;
        }
        uint64_t t1 = now_us();
        if (bridle_sandbox_restore(sid, NULL, &rid, &err) < 0) {
                (void)fprintf(stderr, "restore: %s\n", err.msg);
                free(sid);
                return -1;
        }
        uint64_t t2 = now_us();
        *ts = t1 - t0;
        *tr = t2 - t1;
        *size = snap_size(sid);
        (void)bridle_sandbox_destroy(rid, NULL);
        free(rid);
        free(sid);
        return 0;
}

/* Snapshot and restore `runs` times after changing one file; prints medians. */
static int measure(const char *what, const char *id, int runs, struct medians *ret)
{
        uint64_t ts[64], tr[64], size = 0;
        for (int i = 0; i < runs; i++)
                if (measure_once(id, i, &ts[i], &tr[i], &size) < 0)
                        return -1;
        (void)bridle_sandbox_snapshots_prune(0, NULL, NULL);
        struct medians m = {.snapshot_ms = median_ms(ts, runs),
                            .restore_ms = median_ms(tr, runs),
                            .size = size};
        (void)printf("%-34s snapshot %9.1f ms   restore %9.1f ms   archive %llu bytes\n", what,
                     m.snapshot_ms, m.restore_ms, (unsigned long long)size);
        if (ret)
                *ret = m;
        return 0;
}

/* dir/f0 .. f<mib-1>: 1 MiB each, random, each one different. */
static int make_input(const char *dir, int mib)
{
        static char buf[1 << 20];
        if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
                return -1;
        for (int i = 0; i < mib; i++) {
                char p[4200];
                (void)snprintf(p, sizeof(p), "%s/f%d", dir, i);
                memcpy(buf, &i, sizeof(i));
                int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
                        if (fd >= 0)
                                (void)close(fd);
                        return -1;
                }
                (void)close(fd);
        }
        return chmod(dir, 0755);
}

static void rm_rf(const char *dir, int *rc)
{
        char cmd[4200];
        (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                *rc = 1;
}

/* Issue 3's case: the workspace is a manifest's read-only input. */
static int input_case(int mib, int runs)
{
        char dir[] = "/tmp/bridle-bench-input-XXXXXX";
        if (!mkdtemp(dir))
                return -1;
        int rc = 1;
        char *id = NULL;
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        bridle_error err;
        bridle_error_clear(&err);
        uint64_t t0 = now_us();
        if (!spec || make_input(dir, mib) < 0) {
                (void)fprintf(stderr, "make the input in '%s' failed\n", dir);
                goto out;
        }
        (void)printf("read-only input of %d MiB (%d files) made in %.1f s\n", mib, mib,
                     (double)(now_us() - t0) / 1e6);
        /* What bridle_manifest_apply() makes of {type: local_dir, path: input, read_only: true}. */
        if (bridle_sandbox_spec_add_bind(spec, dir, "/workspace/input", BRIDLE_BIND_RO, &err) < 0 ||
            bridle_sandbox_create(spec, NULL, &id, &err) < 0) {
                (void)fprintf(stderr, "create: %s\n", err.msg);
                goto out;
        }
        char check[96];
        (void)snprintf(check, sizeof(check), "test -f input/f%d && ! touch input/f0 2>/dev/null",
                       mib - 1);
        if (sh(id, check) < 0) {
                (void)fprintf(stderr, "the input is not there, or not read-only\n");
                goto out;
        }
        char what[64];
        struct medians m;
        (void)snprintf(what, sizeof(what), "1 file changed, %d MiB ro input", mib);
        if (measure(what, id, runs, &m) < 0)
                goto out;
        (void)printf(
                "  goals: snapshot %.1f ms / %.0f ms = %.2fx, restore %.1f ms / %.0f ms = %.2fx "
                "(under 1.00x meets the goal)\n",
                m.snapshot_ms, GOAL_SNAPSHOT_MS, m.snapshot_ms / GOAL_SNAPSHOT_MS, m.restore_ms,
                GOAL_RESTORE_MS, m.restore_ms / GOAL_RESTORE_MS);
        rc = 0;
out:
        if (id)
                (void)bridle_sandbox_destroy(id, NULL);
        free(id);
        bridle_sandbox_spec_free(spec);
        rm_rf(dir, &rc);
        return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
        int mib = argc > 1 ? atoi(argv[1]) : 1024, runs = argc > 2 ? atoi(argv[2]) : 3;
        if (mib < 1 || mib > 65536)
                mib = 1024;
        if (runs < 1 || runs > 64)
                runs = 3;
        char home[] = "/tmp/bridle-bench-XXXXXX";
        bool own_home = !getenv("BRIDLE_HOME");
        if (own_home && (!mkdtemp(home) || setenv("BRIDLE_HOME", home, 1) < 0))
                return 1;
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        bridle_limits lim = {.disk = (uint64_t)(mib + 64) << 20};
        bridle_sandbox_spec_set_limits(spec, &lim);
        char *small = NULL, *big = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        int rc = 1;
        if (bridle_sandbox_create(spec, NULL, &small, &err) < 0 ||
            bridle_sandbox_create(spec, NULL, &big, &err) < 0) {
                (void)fprintf(stderr, "create: %s\n", err.msg);
                goto out;
        }
        char fill[256];
        (void)snprintf(fill, sizeof(fill),
                       "i=0; while [ $i -lt %d ]; do head -c 1048576 /dev/urandom > f$i || exit 1; "
                       "i=$((i+1)); done",
                       mib);
        uint64_t t0 = now_us();
        if (sh(big, fill) < 0)
                goto out;
        (void)printf("workspace of %d MiB written in %.1f s (%d runs each)\n", mib,
                     (double)(now_us() - t0) / 1e6, runs);
        if (measure("1 file changed, 1-file workspace", small, runs, NULL) < 0)
                goto out;
        char *base = NULL, *restored = NULL;
        t0 = now_us();
        if (bridle_sandbox_snapshot(big, "base", &base, &err) < 0) {
                (void)fprintf(stderr, "snapshot: %s\n", err.msg);
                goto out;
        }
        uint64_t t1 = now_us();
        if (bridle_sandbox_restore(base, NULL, &restored, &err) < 0) {
                (void)fprintf(stderr, "restore: %s\n", err.msg);
                free(base);
                goto out;
        }
        (void)printf("%-34s snapshot %9.1f ms   restore %9.1f ms   archive %llu bytes\n",
                     "base (whole workspace, once)", (double)(t1 - t0) / 1000.0,
                     (double)(now_us() - t1) / 1000.0, (unsigned long long)snap_size(base));
        (void)bridle_sandbox_destroy(big, NULL);
        free(big);
        big = restored;
        char what[64];
        (void)snprintf(what, sizeof(what), "1 file changed on the %d MiB base", mib);
        int m = measure(what, big, runs, NULL);
        free(base);
        if (m < 0)
                goto out;
        (void)bridle_sandbox_destroy(big, NULL);
        free(big);
        big = NULL;
        if (input_case(mib, runs) < 0)
                goto out;
        rc = 0;
out:
        if (small)
                (void)bridle_sandbox_destroy(small, NULL);
        if (big)
                (void)bridle_sandbox_destroy(big, NULL);
        free(small);
        free(big);
        bridle_sandbox_spec_free(spec);
        if (own_home)
                rm_rf(home, &rc);
        return rc;
}
