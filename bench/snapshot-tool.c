/* SPDX-License-Identifier: MIT */
/* bench/snapshot's helper: time one snapshot write or extract through the internal API.
 *   snapshot-tool write DIR ARCHIVE [full]   prints "ms files bytes archive_bytes"
 *   snapshot-tool extract ARCHIVE DIR        prints "ms" */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "snapshot/snapshot.h"

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
        if (argc < 4)
                return 2;
        bridle_error err = {0};
        bool w = strcmp(argv[1], "write") == 0;
        int fd = open(argv[w ? 2 : 3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return perror("open"), 1;
        struct bridle__snapshot_meta m = {.full = argc > 4};
        double t0 = now_ms();
        int r = w ? bridle__snapshot_write(fd, argv[3], &m, &err)
                  : bridle__snapshot_extract(argv[2], fd, &err);
        double t = now_ms() - t0;
        if (r < 0)
                return fprintf(stderr, "%s\n", err.msg), 1;
        struct stat st;
        if (w && stat(argv[3], &st) == 0)
                printf("%.2f %llu %llu %lld\n", t, (unsigned long long)m.files,
                       (unsigned long long)m.bytes, (long long)st.st_size);
        else
                printf("%.2f\n", t);
        return 0;
}
