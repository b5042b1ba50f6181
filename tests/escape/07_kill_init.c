/* SPDX-License-Identifier: MIT */
/* SIGKILL / SIGSTOP the sandbox's init. The kernel ignores these from inside
 * the pid namespace; init must still be alive and running afterwards. */
#include <signal.h>
#include <time.h>
#include "attack.h"

static char init_state(void)
{
        char buf[512];
        if (attack_read_file("/proc/1/stat", buf, sizeof(buf)) <= 0)
                return '?';
        char *p = strrchr(buf, ')');
        return (p && p[1] == ' ') ? p[2] : '?';
}

int main(void)
{
        int r1 = kill(1, SIGSTOP);
        int r2 = kill(1, SIGKILL);
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        char st = init_state();
        if (st == '?' )
                note_hole("init is gone after kill(1,SIGKILL) (r=%d)", r2);
        else if (st == 'T' || st == 't')
                note_hole("init is stopped after kill(1,SIGSTOP) (r=%d)", r1);
        else
                note_ok("kill(1,SIGSTOP)=%d kill(1,SIGKILL)=%d, init still in state %c", r1, r2, st);
        attack_finish();
}
