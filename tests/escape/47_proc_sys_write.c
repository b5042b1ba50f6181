/* SPDX-License-Identifier: MIT */
/* Host-wide kernel knobs: core_pattern (runs a program as host root on a
 * crash), sysrq-trigger, modprobe, hotplug handler. Only access(W_OK) and
 * open(O_WRONLY) are tried: nothing is ever written. */
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        const char *paths[] = {
                "/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger", "/proc/sys/kernel/modprobe",
                "/proc/sys/kernel/hotplug", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/hostname",
                "/proc/sys/kernel/sysrq", "/proc/sys/fs/binfmt_misc/register",
        };
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                char what[96];
                snprintf(what, sizeof(what), "access(%s,W_OK)", paths[i]);
                EXPECT_FAIL_ANY(what, access(paths[i], W_OK));
                errno = 0;
                int fd = open(paths[i], O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        note_hole("open(%s,O_WRONLY) succeeded (nothing written)", paths[i]);
                        close(fd);
                } else if (errno != ENOENT) {
                        note_ok("open(%s,O_WRONLY): %s", paths[i], attack_errname(errno));
                }
        }
        attack_finish();
}
