/* SPDX-License-Identifier: MIT */
/* Kernel modules: init_module, finit_module, delete_module. */
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include "attack.h"

int main(void)
{
        char img[64] = { 0x7f, 'E', 'L', 'F' };
        EXPECT_FAIL("init_module", syscall(SYS_init_module, img, sizeof(img), ""), EPERM);
        int fd = open("/attacks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        EXPECT_FAIL("finit_module", syscall(SYS_finit_module, fd, "", 0), EPERM);
        EXPECT_FAIL("delete_module(loop)", syscall(SYS_delete_module, "loop", O_NONBLOCK), EPERM);
        attack_finish();
}
