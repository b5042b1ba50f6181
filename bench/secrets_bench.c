/* SPDX-License-Identifier: MIT */
/*
 * Secret scanner throughput (src/guard/): MB/s of bridle__secrets_scan() over
 * 64 MiB of mixed text (prose, paths, hashes, UUIDs, JSON, a key now and
 * then), against `grep -E -c` with roughly equivalent patterns on the same
 * bytes. Prints both and the ratio; no assert.
 *   build/bench/secrets-bench [MiB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard/guard.h"

static const char *const pieces[] = {
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n",
        "src/guard/detect.c:123:45: warning: unused variable 'x' [-Wunused-variable]\n",
        "commit e83c5163316f89bfbde7d9ab23ca2e25604af290 (HEAD -> main)\n",
        "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"path\":\"/usr/lib/x86_64-linux-gnu/"
        "libc.so.6\"}\n",
        "Authorization: Bearer abcdef0123456789ABCDEF\n",
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
        "token: 8fKz2LmQ9xRt4VbN7wYc1HjD5sGpE3uA\n",
        "    return bridle__err(err, -ENOMEM, \"allocating %zu bytes\", n);\n",
};
static const unsigned weights[] = {30, 20, 15, 20, 1, 1, 1, 12};

static double now(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 64;
        size_t n = mib << 20, len = 0;
        char *t = malloc(n + 256);
        if (!t)
                return 1;
        unsigned seed = 1, total = 0;
        for (size_t k = 0; k < sizeof(weights) / sizeof(weights[0]); k++)
                total += weights[k];
        while (len < n) {
                seed = seed * 1103515245u + 12345u;
                unsigned r = (seed >> 8) % total, k = 0;
                while (r >= weights[k])
                        r -= weights[k++];
                size_t l = strlen(pieces[k]);
                memcpy(t + len, pieces[k], l);
                len += l;
        }
        double t0 = now();
        long found = bridle__secrets_scan(NULL, t, len, NULL, 0, NULL);
        double dt = now() - t0;
        double ours = (double)len / 1e6 / dt;
        printf("bridle scanner: %.1f MB in %.3f s = %.0f MB/s, %ld findings\n", (double)len / 1e6,
               dt, ours, found);

        char path[] = "/tmp/secrets-bench-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, t, len) != (ssize_t)len) {
                free(t);
                return 1;
        }
        (void)close(fd);
        char cmd[1024];
        (void)snprintf(cmd, sizeof(cmd),
                       "LC_ALL=C grep -c -E "
                       "'(sk-[A-Za-z0-9_-]{20,}|AKIA[A-Z0-9]{16}|gh[opsur]_[A-Za-z0-9]{30,}|"
                       "glpat-[A-Za-z0-9_-]{20,}|xox[abpre]-[A-Za-z0-9-]{10,}|[sr]k_(live|test)_[A-"
                       "Za-z0-9]{16,}|"
                       "AIza[A-Za-z0-9_-]{35}|eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.|[Bb]earer "
                       "+[A-Za-z0-9._~+/=-]{20,}|"
                       "://[^/ :@]+:[^/ @]+@|-----BEGIN [A-Z ]*PRIVATE "
                       "KEY-----|[A-Za-z0-9+/_-]{32,})' %s | cat >/dev/null",
                       path);
        t0 = now();
        int rc = system(cmd);
        double gt = now() - t0;
        (void)unlink(path);
        free(t);
        if (rc == -1)
                return 1;
        double grep = (double)len / 1e6 / gt;
        printf("grep -E -c (C locale): %.1f MB in %.3f s = %.0f MB/s (no entropy, no redaction)\n",
               (double)len / 1e6, gt, grep);
        printf("ratio: %.2fx grep's speed\n", ours / grep);
        return 0;
}
