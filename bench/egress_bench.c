/* SPDX-License-Identifier: MIT */
/*
 * Egress proxy throughput: a local origin streams N MiB; a client reads them
 * (a) directly over loopback TCP and (b) through the egress proxy's Unix
 * socket and a CONNECT tunnel (the origin reached through the test map).
 * Prints MB/s for each (median of R runs) and the ratio (goal: 0.8x or better).
 *
 *   build/bench/egress-bench [MiB per run (default 1024)] [runs (default 5)]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bridle/sandbox.h"

static size_t total;
static int origin_fd;

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each accepted connection gets `total` bytes, then EOF. */
static void *origin(void *arg)
{
        (void)arg;
        static char buf[256 * 1024];
        memset(buf, 'x', sizeof(buf));
        for (;;) {
                int fd = accept(origin_fd, NULL, NULL);
                if (fd < 0)
                        return NULL;
                size_t sent = 0;
                while (sent < total) {
                        size_t k = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
                        ssize_t n = write(fd, buf, k);
                        if (n <= 0)
                                break;
                        sent += (size_t)n;
                }
                close(fd);
        }
}

static size_t drain(int fd)
{
        static char buf[256 * 1024];
        size_t got = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                got += (size_t)n;
        return got;
}

static double run_direct(int port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        double t = now();
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                perror("connect");
                exit(1);
        }
        size_t got = drain(fd);
        t = now() - t;
        close(fd);
        if (got != total) {
                fprintf(stderr, "direct: short read %zu\n", got);
                exit(1);
        }
        return (double)total / t / 1e6;
}

static double run_proxy(const char *dir)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", dir, BRIDLE_EGRESS_SOCKET);
        double t = now();
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                perror("connect proxy");
                exit(1);
        }
        const char req[] = "CONNECT origin.bench:443 HTTP/1.1\r\n\r\n";
        if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
                exit(1);
        /* the 200 line, then the stream */
        const char est[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        char head[sizeof(est) - 1];
        size_t h = 0;
        while (h < sizeof(head)) {
                ssize_t n = read(fd, head + h, sizeof(head) - h);
                if (n <= 0)
                        exit(1);
                h += (size_t)n;
        }
        if (memcmp(head, est, sizeof(head)) != 0) {
                fprintf(stderr, "proxy refused: %.*s\n", (int)sizeof(head), head);
                exit(1);
        }
        size_t got = drain(fd);
        t = now() - t;
        close(fd);
        if (got != total) {
                fprintf(stderr, "proxy: short read %zu\n", got);
                exit(1);
        }
        return (double)total / t / 1e6;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
        int runs = argc > 2 ? atoi(argv[2]) : 5;
        if (mib == 0 || runs <= 0 || runs > 100)
                return 2;
        total = mib << 20;
        origin_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(a);
        if (bind(origin_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(origin_fd, 16) < 0 ||
            getsockname(origin_fd, (struct sockaddr *)&a, &sl) < 0)
                return 1;
        int port = ntohs(a.sin_port);
        pthread_t t;
        pthread_create(&t, NULL, origin, NULL);

        char map[64];
        snprintf(map, sizeof(map), "origin.bench=127.0.0.1:%d", port);
        const char *const hosts[] = {"origin.bench", NULL};
        bridle_egress_opts o = {.allow_hosts = hosts, .test_map = map};
        bridle_egress *e = NULL;
        bridle_error err;
        if (bridle_egress_start(&o, &e, &err) < 0) {
                fprintf(stderr, "egress: %s\n", err.msg);
                return 1;
        }
        double d[100], p[100];
        for (int i = 0; i < runs; i++) {
                d[i] = run_direct(port);
                p[i] = run_proxy(bridle_egress_dir(e));
        }
        qsort(d, (size_t)runs, sizeof(double), cmp);
        qsort(p, (size_t)runs, sizeof(double), cmp);
        double dm = d[runs / 2], pm = p[runs / 2];
        printf("egress proxy throughput, %zu MiB per run, median of %d\n", mib, runs);
        printf("  direct loopback TCP:     %8.0f MB/s\n", dm);
        printf("  through CONNECT (proxy): %8.0f MB/s\n", pm);
        printf("  ratio: %.2fx (goal 0.8x or better)\n", pm / dm);
        bridle_egress_stop(e);
        return 0;
}
