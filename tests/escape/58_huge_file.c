/* SPDX-License-Identifier: MIT */
/* One huge sparse file: a write at offset 1 TiB costs one page of tmpfs,
 * so only RLIMIT_FSIZE stops it: EFBIG with SIGXFSZ ignored, death by
 * SIGXFSZ otherwise. */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "attack.h"

int main(void)
{
        struct rlimit rl;
        const char *d = getenv("DISK_MB");
        unsigned long long limit = (unsigned long long)(d ? atol(d) : 16) << 20;
        if (getrlimit(RLIMIT_FSIZE, &rl) == 0) {
                if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > limit)
                        note_weak("RLIMIT_FSIZE=%llu, --disk is %llu", (unsigned long long)rl.rlim_cur, limit);
                else
                        note_ok("RLIMIT_FSIZE=%llu", (unsigned long long)rl.rlim_cur);
        }
        const char *dirs[] = { "/tmp", "/workspace" };
        for (int i = 0; i < 2; i++) {
                char path[64];
                snprintf(path, sizeof(path), "%s/huge", dirs[i]);
                signal(SIGXFSZ, SIG_IGN);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0) {
                        note_weak("open(%s): %s", path, attack_errname(errno));
                        continue;
                }
                char what[96];
                snprintf(what, sizeof(what), "pwrite(%s, off 1TiB)", path);
                EXPECT_FAIL(what, pwrite(fd, "x", 1, 1LL << 40), EFBIG);
                snprintf(what, sizeof(what), "ftruncate(%s, 1TiB)", path);
                EXPECT_FAIL(what, ftruncate(fd, 1LL << 40), EFBIG);
                close(fd);
                unlink(path);
        }
        signal(SIGXFSZ, SIG_DFL);
        pid_t p = fork();
        if (p == 0) {
                int fd = open("/tmp/huge2", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0)
                        _exit(3);
                if (pwrite(fd, "x", 1, 1LL << 40) == 1)
                        _exit(0);
                _exit(4);
        }
        int st = 0;
        waitpid(p, &st, 0);
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ)
                note_ok("child killed by SIGXFSZ");
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                note_hole("child wrote at offset 1 TiB");
        else
                note_weak("child ended with status %#x", st);
        attack_finish();
}
