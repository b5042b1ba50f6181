/* SPDX-License-Identifier: MIT */
/* The runner opens extra fds (a file, a directory, a socket) without
 * O_CLOEXEC before starting bridle: none may reach the sandbox. Only 0, 1, 2
 * and the fd of our own directory listing may be open. */
#include <dirent.h>
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                attack_skip("opendir(/proc/self/fd): %s", attack_errname(errno));
        int own = dirfd(d), extra = 0, seen = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = atoi(de->d_name);
                if (fd == own)
                        continue;
                seen++;
                if (fd <= 2)
                        continue;
                char path[64], target[256];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                target[n > 0 ? n : 0] = '\0';
                extra++;
                note_hole("fd %d is open -> %s", fd, target);
        }
        closedir(d);
        /* also probe directly, in case /proc lies */
        for (int fd = 3; fd < 1024; fd++) {
                if (fcntl(fd, F_GETFD) >= 0) {
                        extra++;
                        note_hole("fcntl(%d,F_GETFD) works", fd);
                        break;
                }
        }
        if (!extra)
                note_ok("only fds 0-2 open (%d seen), fds 3..1023 EBADF", seen);
        attack_finish();
}
