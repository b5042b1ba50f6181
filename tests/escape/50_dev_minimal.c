/* SPDX-License-Identifier: MIT */
/* /dev holds only null, zero, full, random, urandom, tty/ptmx/pts, fd
 * links and /dev/shm: no block device, no /dev/mem, kmem, port, kmsg,
 * no host ttys, no fuse/kvm/net/tun. Walks /dev (bounded). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "attack.h"

static int bad;

static bool allowed_chr(unsigned ma, unsigned mi)
{
        if (ma == 1 && (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9))
                return true;                  /* null zero full random urandom */
        if (ma == 5 && (mi == 0 || mi == 2))  /* tty ptmx */
                return true;
        if (ma == 136)                        /* pts/N (the sandbox's own) */
                return true;
        return false;
}

static void walk(const char *dir, int depth)
{
        if (depth > 4)
                return;
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        int count = 0;
        while ((de = readdir(d)) && count++ < 2000) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (S_ISBLK(st.st_mode)) {
                        note_hole("block device %s (%u:%u)", path, major(st.st_rdev), minor(st.st_rdev));
                        bad++;
                } else if (S_ISCHR(st.st_mode) && !allowed_chr(major(st.st_rdev), minor(st.st_rdev))) {
                        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
                        if (fd >= 0) {
                                note_hole("char device %s (%u:%u) opens", path, major(st.st_rdev), minor(st.st_rdev));
                                close(fd);
                        } else {
                                note_weak("char device %s (%u:%u) present (open: %s)", path, major(st.st_rdev),
                                          minor(st.st_rdev), attack_errname(errno));
                        }
                        bad++;
                } else if (S_ISDIR(st.st_mode) && strcmp(path, "/dev/shm") != 0) {
                        walk(path, depth + 1);
                }
        }
        closedir(d);
}

int main(void)
{
        walk("/dev", 0);
        const char *must_not[] = { "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda",
                                   "/dev/nvme0n1", "/dev/kvm", "/dev/fuse", "/dev/net/tun", "/dev/console",
                                   "/dev/tty0", "/dev/tty1", "/dev/loop-control", "/dev/vsock", "/dev/mapper" };
        for (size_t i = 0; i < sizeof(must_not) / sizeof(must_not[0]); i++) {
                if (access(must_not[i], F_OK) == 0 && !bad) {
                        note_hole("%s exists", must_not[i]);
                        bad++;
                }
        }
        if (!bad)
                note_ok("/dev minimal: no block devices, no mem/kmsg/kvm/console");
        attack_finish();
}
