/* SPDX-License-Identifier: MIT */
/* Read and write init's memory with process_vm_readv / process_vm_writev. */
#include <sys/uio.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        char buf[64];
        struct iovec local = { buf, sizeof(buf) };
        struct iovec remote = { (void *)0x400000, sizeof(buf) };
        EXPECT_FAIL("process_vm_readv(1)", syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0), EPERM);
        EXPECT_FAIL("process_vm_writev(1)", syscall(SYS_process_vm_writev, 1, &local, 1, &remote, 1, 0), EPERM);
        /* even our own memory: the syscalls are simply not for sandboxed code */
        struct iovec me = { buf + 32, 8 };
        EXPECT_FAIL("process_vm_readv(self)",
                    syscall(SYS_process_vm_readv, getpid(), &local, 1, &me, 1, 0), EPERM);
        attack_finish();
}
