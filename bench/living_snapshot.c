/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of a living sandbox through the library. A workspace of SIZE MiB
 * (1 MiB files of random bytes, written inside a sandbox) is snapshotted
 * and restored once (the base: its cost follows its size); then, in the
 * restored sandbox, one file is changed and bridle_sandbox_snapshot() and
 * bridle_sandbox_restore() of that snapshot are timed RUNS times (the goal:
 * cost follows the change). A 1-file workspace's numbers for comparison.
 *   bench/living-snapshot [SIZE_MIB [RUNS]]     (default 1024 MiB, 3 runs)
 * BRIDLE_INIT_PATH may point at a build's bridle-init; BRIDLE_HOME defaults
 * to a fresh temporary directory, removed afterwards.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Snapshot and restore `runs` times after changing one file; prints medians. */
static int measure(const char *what, const char *id, int runs)
{
        uint64_t ts[64], tr[64], size = 0;
        bridle_error err;
        for (int i = 0; i < runs; i++) {
                char script[128], *sid = NULL, *rid = NULL;
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
                ts[i] = t1 - t0;
                tr[i] = t2 - t1;
                size = snap_size(sid);
                (void)bridle_sandbox_destroy(rid, NULL);
                free(rid);
                free(sid);
        }
        (void)bridle_sandbox_snapshots_prune(0, NULL, NULL);
        (void)printf("%-34s snapshot %9.1f ms   restore %9.1f ms   archive %llu bytes\n", what,
                     median_ms(ts, runs), median_ms(tr, runs), (unsigned long long)size);
        return 0;
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
        if (measure("1 file changed, 1-file workspace", small, runs) < 0)
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
        int m = measure(what, big, runs);
        free(base);
        if (m < 0)
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
        if (own_home) {
                char cmd[128];
                (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
                if (system(cmd) != 0)
                        rc = 1;
        }
        return rc;
}
