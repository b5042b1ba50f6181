/* SPDX-License-Identifier: MIT */
/* Kernel memory and addresses: /proc/kcore and /proc/kmsg unreadable,
 * /proc/kallsyms addresses zeroed, /proc/self/pagemap PFNs hidden. */
#include <fcntl.h>
#include <stdint.h>
#include "attack.h"

int main(void)
{
        int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                char b[64];
                ssize_t n = read(fd, b, sizeof(b));
                if (n > 0)
                        note_hole("/proc/kcore readable");
                else
                        note_ok("/proc/kcore opens but read: %s", attack_errname(errno));
                close(fd);
        } else {
                note_ok("/proc/kcore: %s", attack_errname(errno));
        }
        EXPECT_FAIL_ANY("open(/proc/kmsg)", open("/proc/kmsg", O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        FILE *f = fopen("/proc/kallsyms", "re");
        if (f) {
                char line[256];
                int nonzero = 0, total = 0;
                while (fgets(line, sizeof(line), f) && total < 5000) {
                        total++;
                        if (strtoull(line, NULL, 16) != 0)
                                nonzero++;
                }
                fclose(f);
                if (nonzero)
                        note_hole("/proc/kallsyms shows %d real addresses", nonzero);
                else
                        note_ok("/proc/kallsyms: %d symbols, addresses zeroed", total);
        } else {
                note_ok("/proc/kallsyms: %s", attack_errname(errno));
        }
        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                static char page[4096];
                page[0] = 1;
                uint64_t ent = 0;
                if (pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)page / 4096 * 8)) == sizeof(ent) &&
                    (ent & ((1ULL << 55) - 1)) != 0 && (ent >> 63))
                        note_hole("pagemap shows physical frame numbers");
                else
                        note_ok("pagemap PFNs hidden");
                close(fd);
        }
        attack_finish();
}
