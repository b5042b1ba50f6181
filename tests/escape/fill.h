/* SPDX-License-Identifier: MIT */
/* Fill a directory with 4 MiB files until the filesystem refuses. */
#ifndef BRIDLE_ESCAPE_FILL_H
#define BRIDLE_ESCAPE_FILL_H
#include <fcntl.h>
#include <signal.h>
#include "attack.h"

#define FILL_CHUNK (1L << 20)
#define FILL_BOUND_MB 256

static inline void fill_attack(const char *dir)
{
        signal(SIGXFSZ, SIG_IGN);
        const char *d = getenv("DISK_MB");
        long limit = d ? atol(d) : 16;
        static char chunk[FILL_CHUNK];
        memset(chunk, 'f', sizeof(chunk));
        long total = 0;
        int err = 0;
        for (int file = 0; total < FILL_BOUND_MB * FILL_CHUNK && !err; file++) {
                char path[256];
                snprintf(path, sizeof(path), "%s/fill-%d", dir, file);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0) {
                        err = errno;
                        break;
                }
                for (int i = 0; i < 4; i++) {
                        ssize_t w = write(fd, chunk, sizeof(chunk));
                        if (w > 0)
                                total += w;
                        if (w < (ssize_t)sizeof(chunk)) {
                                err = w < 0 ? errno : ENOSPC;
                                break;
                        }
                }
                if (fsync(fd) < 0 && !err)
                        err = errno;
                close(fd);
        }
        long mb = total / FILL_CHUNK;
        if (!err)
                note_hole("wrote %ld MiB to %s without error (--disk %ld MiB)", mb, dir, limit);
        else if (mb > 2 * limit + 1)
                note_hole("wrote %ld MiB to %s before %s (--disk %ld MiB)", mb, dir, attack_errname(err), limit);
        else if (err != ENOSPC && err != EFBIG && err != EDQUOT)
                note_weak("%s stopped after %ld MiB with %s", dir, mb, attack_errname(err));
        else
                note_ok("%s full after %ld MiB: %s (--disk %ld MiB)", dir, mb, attack_errname(err), limit);
}
#endif
