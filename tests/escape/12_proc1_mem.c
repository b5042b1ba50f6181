/* SPDX-License-Identifier: MIT */
/* Read init's memory through /proc/1/mem (init holds the channel to the
 * harness). Open or read must fail. */
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        int fd = open("/proc/1/mem", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                note_ok("open(/proc/1/mem): %s", attack_errname(errno));
        } else {
                /* find a mapped address of init */
                char maps[4096];
                unsigned long lo = 0x400000;
                long n = attack_read_file("/proc/1/maps", maps, sizeof(maps));
                if (n > 0)
                        sscanf(maps, "%lx-", &lo);
                char buf[64];
                ssize_t r = pread(fd, buf, sizeof(buf), (off_t)lo);
                if (r > 0)
                        note_hole("read %zd bytes of init's memory at %#lx", r, lo);
                else
                        note_ok("open(/proc/1/mem) ok but pread: %s", r < 0 ? attack_errname(errno) : "EOF");
                close(fd);
        }
        EXPECT_FAIL_ANY("open(/proc/1/mem,O_RDWR)", open("/proc/1/mem", O_RDWR | O_CLOEXEC));
        char buf[64];
        long n = attack_read_file("/proc/1/maps", buf, sizeof(buf));
        if (n > 0)
                note_weak("/proc/1/maps readable (init's layout leaks)");
        else
                note_ok("/proc/1/maps: %s", n < 0 ? attack_errname((int)-n) : "empty");
        attack_finish();
}
