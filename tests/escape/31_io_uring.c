/* SPDX-License-Identifier: MIT */
/* io_uring performs syscalls on the kernel's own threads, out of seccomp's
 * sight: setup, enter and register must all be refused. */
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        struct io_uring_params p;
        memset(&p, 0, sizeof(p));
        long r;
        errno = 0;
        r = syscall(SYS_io_uring_setup, 8, &p);
        int e = errno;
        if (r >= 0)
                close((int)r);
        expect_fail_("io_uring_setup(8)", r, e, (const int[]){ EPERM, 0 });
        EXPECT_FAIL("io_uring_enter(0)", syscall(SYS_io_uring_enter, 0, 0, 0, 0, NULL, 0), EPERM);
        EXPECT_FAIL("io_uring_register(0)", syscall(SYS_io_uring_register, 0, 0, NULL, 0), EPERM);
        attack_finish();
}
