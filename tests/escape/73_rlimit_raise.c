/* SPDX-License-Identifier: MIT */
/* Raise the hard resource limits set by the sandbox (--cpu, --disk):
 * needs CAP_SYS_RESOURCE. */
#include <sys/resource.h>
#include "attack.h"

static void try_raise(int res, const char *name)
{
        struct rlimit rl;
        if (getrlimit(res, &rl) < 0)
                return;
        if (rl.rlim_max == RLIM_INFINITY) {
                note_weak("%s hard limit is unlimited", name);
                return;
        }
        struct rlimit up = { rl.rlim_max + 1, rl.rlim_max + 1 };
        char what[64];
        snprintf(what, sizeof(what), "setrlimit(%s, hard+1)", name);
        EXPECT_FAIL(what, setrlimit(res, &up), EPERM);
        up.rlim_cur = up.rlim_max = RLIM_INFINITY;
        snprintf(what, sizeof(what), "setrlimit(%s, unlimited)", name);
        EXPECT_FAIL(what, setrlimit(res, &up), EPERM);
}

int main(void)
{
        try_raise(RLIMIT_CPU, "RLIMIT_CPU");
        try_raise(RLIMIT_FSIZE, "RLIMIT_FSIZE");
        try_raise(RLIMIT_NOFILE, "RLIMIT_NOFILE");
        attack_finish();
}
