/* SPDX-License-Identifier: MIT */
/* Memory bomb under --memory 64M: a child touches 1 MiB chunks up to
 * 512 MiB. It must be OOM-killed or get ENOMEM long before that. */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "attack.h"

#define CHUNK (1UL << 20)
#define BOUND 512

int main(void)
{
        int pfd[2];
        if (pipe(pfd) < 0)
                attack_skip("pipe");
        pid_t p = fork();
        if (p == 0) {
                close(pfd[0]);
                int mb = 0;
                for (; mb < BOUND; mb++) {
                        char *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (m == MAP_FAILED)
                                _exit(10);
                        memset(m, 0xa5, CHUNK);
                        if (write(pfd[1], "x", 1) < 0)
                                _exit(11);
                }
                _exit(0);
        }
        close(pfd[1]);
        int mb = 0;
        char c;
        while (read(pfd[0], &c, 1) == 1)
                mb++;
        int st = 0;
        waitpid(p, &st, 0);
        const char *lim = getenv("MEMORY_MB");
        int limit = lim ? atoi(lim) : 64;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                note_hole("allocated and touched %d MiB (limit %d MiB)", mb, limit);
        else if (mb > limit + 8)
                note_hole("touched %d MiB before failing, limit %d MiB", mb, limit);
        else if (WIFSIGNALED(st))
                note_ok("child killed by %s after %d MiB (limit %d MiB)", sigabbrev_np(WTERMSIG(st)), mb, limit);
        else
                note_ok("child stopped with exit %d after %d MiB (ENOMEM)", WEXITSTATUS(st), mb);
        attack_finish();
}
