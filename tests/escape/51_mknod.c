/* SPDX-License-Identifier: MIT */
/* Create device nodes for /dev/mem (1:1) and the host disk (block 8:0 and
 * 253:0): mknod must fail; if it does not, opening the node must. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "attack.h"

static void try_node(const char *path, mode_t type, unsigned ma, unsigned mi)
{
        unlink(path);
        errno = 0;
        if (mknod(path, type | 0600, makedev(ma, mi)) < 0) {
                note_ok("mknod(%s %u:%u): %s", path, ma, mi, attack_errname(errno));
                return;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
                char b[16];
                ssize_t n = read(fd, b, sizeof(b));
                note_hole("mknod+open(%s %u:%u) works (read %zd)", path, ma, mi, n);
                close(fd);
        } else {
                note_weak("mknod(%s %u:%u) succeeded (open: %s)", path, ma, mi, attack_errname(errno));
        }
        unlink(path);
}

int main(void)
{
        try_node("/tmp/mem", S_IFCHR, 1, 1);
        try_node("/tmp/kmsg", S_IFCHR, 1, 11);
        try_node("/tmp/sda", S_IFBLK, 8, 0);
        try_node("/tmp/vda", S_IFBLK, 253, 0);
        try_node("/dev/shm/mem", S_IFCHR, 1, 1);
        attack_finish();
}
