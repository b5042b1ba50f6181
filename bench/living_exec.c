/* SPDX-License-Identifier: MIT */
/*
 * The harness's cost per command, side by side in one run: this process
 * spawning /bin/true itself (posix_spawn + waitpid), against
 * bridle_sandbox_exec() of /bin/true in a living sandbox. Prints medians
 * and the ratio.   bench/living-exec [RUNS]   (BRIDLE_INIT_PATH may point at
 * a build's bridle-init; BRIDLE_HOME defaults to a fresh temporary one.)
 */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridle/bridle.h"

extern char **environ;

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

static double median(uint64_t *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp);
        return (double)v[n / 2] / 1000.0;
}

int main(int argc, char **argv)
{
        int runs = argc > 1 ? atoi(argv[1]) : 300;
        if (runs < 3 || runs > 100000)
                runs = 300;
        char home[] = "/tmp/bridle-bench-XXXXXX";
        if (!getenv("BRIDLE_HOME") && (!mkdtemp(home) || setenv("BRIDLE_HOME", home, 1) < 0))
                return 1;
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        char *id = NULL;
        bridle_error err;
        if (!spec || bridle_sandbox_create(spec, NULL, &id, &err) < 0) {
                fprintf(stderr, "create: %s\n", err.msg);
                return 1;
        }
        uint64_t *spawn_t = calloc((size_t)runs, sizeof(uint64_t)), *exec_t = calloc((size_t)runs, sizeof(uint64_t));
        char *const targv[] = { "/bin/true", NULL };
        const char *eargv[] = { "/bin/true", NULL };
        bridle_exec_opts o = { .argv = eargv, .capture = true };
        for (int i = 0; i < runs; i++) { /* interleaved, so drift hits both alike */
                uint64_t t = now_us();
                pid_t pid;
                if (posix_spawn(&pid, "/bin/true", NULL, NULL, targv, environ) == 0)
                        (void)waitpid(pid, NULL, 0);
                spawn_t[i] = now_us() - t;
                bridle_run_result r;
                t = now_us();
                if (bridle_sandbox_exec(id, &o, &r, &err) < 0) {
                        fprintf(stderr, "exec: %s\n", err.msg);
                        return 1;
                }
                exec_t[i] = now_us() - t;
                bridle_run_result_release(&r);
        }
        double s = median(spawn_t, runs), e = median(exec_t, runs);
        printf("%-28s %10s\n", "", "median ms");
        printf("%-28s %10.3f\n", "posix_spawn /bin/true", s);
        printf("%-28s %10.3f\n", "bridle_sandbox_exec (live)", e);
        printf("exec / spawn = %.2f\n", e / s);
        (void)bridle_sandbox_destroy(id, NULL);
        free(id);
        bridle_sandbox_spec_free(spec);
        if (!strncmp(getenv("BRIDLE_HOME"), "/tmp/bridle-bench-", 18))
                (void)rmdir(getenv("BRIDLE_HOME")), (void)rmdir(home);
        return 0;
}
