/* SPDX-License-Identifier: MIT */
/* Fork bomb under --pids 64: fork sleeping children until fork fails.
 * Bounded at 2000 children; reaching the bound means no pids limit. */
#include <signal.h>
#include <sys/wait.h>
#include "attack.h"

#define BOUND 2000

int main(void)
{
        static pid_t kids[BOUND];
        int n = 0, err = 0;
        for (; n < BOUND; n++) {
                pid_t p = fork();
                if (p < 0) {
                        err = errno;
                        break;
                }
                if (p == 0) {
                        for (int i = 0; i < 600; i++)
                                sleep(1);
                        _exit(0);
                }
                kids[n] = p;
        }
        for (int i = 0; i < n; i++)
                kill(kids[i], SIGKILL);
        for (int i = 0; i < n; i++)
                waitpid(kids[i], NULL, 0);
        const char *lim = getenv("PIDS_LIMIT");
        int limit = lim ? atoi(lim) : 64;
        if (n >= BOUND)
                note_hole("forked %d processes without hitting a limit", n);
        else if (n > limit)
                note_hole("forked %d processes, more than --pids %d", n, limit);
        else if (err != EAGAIN)
                note_weak("fork failed after %d children with %s (expected EAGAIN)", n, attack_errname(err));
        else
                note_ok("fork failed after %d children: EAGAIN (--pids %d)", n, limit);
        attack_finish();
}
