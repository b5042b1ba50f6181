/* SPDX-License-Identifier: MIT */
/* Survive the sandbox: double-fork, setsid, ignore every catchable signal,
 * re-exec ourselves with the runner's marker in argv, then let --timeout 2
 * fire. The runner checks with pgrep that no marked process survived. */
#include <signal.h>
#include <sys/wait.h>
#include "attack.h"

int main(int argc, char **argv)
{
        if (argc >= 3 && !strcmp(argv[1], "--linger")) {
                for (int s = 1; s < 32; s++)
                        signal(s, SIG_IGN);
                for (int i = 0; i < 1000; i++)
                        sleep(1);
                return 0;
        }
        const char *marker = getenv("ORPHAN_MARKER");
        if (!marker)
                attack_skip("runner did not pass ORPHAN_MARKER");
        pid_t p = fork();
        if (p == 0) {
                setsid();
                if (fork() == 0) {
                        execl("/proc/self/exe", argv[0], "--linger", marker, (char *)NULL);
                        _exit(127);
                }
                _exit(0);
        }
        waitpid(p, NULL, 0);
        for (int s = 1; s < 32; s++)
                signal(s, SIG_IGN);
        printf("%s: orphan started, waiting for the timeout\n", program_invocation_short_name);
        fflush(stdout);
        for (int i = 0; i < 60; i++)
                sleep(1);
        /* the runner expects the timeout to kill us before this */
        note_hole("still alive 60 s after start: --timeout did not fire");
        attack_finish();
}
