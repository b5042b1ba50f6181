/* SPDX-License-Identifier: MIT */
/* Attach to the sandbox's init (pid 1), which talks to the harness. */
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("ptrace(PTRACE_ATTACH,1)", syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0), EPERM);
        EXPECT_FAIL("ptrace(PTRACE_SEIZE,1)", syscall(SYS_ptrace, PTRACE_SEIZE, 1, 0, 0), EPERM);
        EXPECT_FAIL("ptrace(PTRACE_PEEKDATA,1)", syscall(SYS_ptrace, PTRACE_PEEKDATA, 1, 0x400000, 0), EPERM);
        attack_finish();
}
