/* SPDX-License-Identifier: MIT */
/* unshare a nested user namespace (regains every capability inside it)
 * and the other namespace types. */
#include <sched.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        struct { int flag; const char *name; } ns[] = {
                { CLONE_NEWUSER, "NEWUSER" }, { CLONE_NEWNS, "NEWNS" }, { CLONE_NEWNET, "NEWNET" },
                { CLONE_NEWPID, "NEWPID" }, { CLONE_NEWIPC, "NEWIPC" }, { CLONE_NEWUTS, "NEWUTS" },
                { CLONE_NEWCGROUP, "NEWCGROUP" }, { 0x00000080 /* CLONE_NEWTIME */, "NEWTIME" },
                { CLONE_NEWUSER | CLONE_NEWNS, "NEWUSER|NEWNS" },
        };
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
                char what[64];
                snprintf(what, sizeof(what), "unshare(CLONE_%s)", ns[i].name);
                EXPECT_FAIL(what, unshare(ns[i].flag), EPERM);
        }
        /* the kernel reads flags as 32 bits: high bits must not fool the filter */
        EXPECT_FAIL("unshare(1<<32|CLONE_NEWUSER)", syscall(SYS_unshare, (1UL << 32) | CLONE_NEWUSER), EPERM);
        attack_finish();
}
