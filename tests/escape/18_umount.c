/* SPDX-License-Identifier: MIT */
/* Unmount read-only binds and /proc to reveal what lies below them. */
#include <sys/mount.h>
#include "attack.h"

int main(void)
{
        const char *targets[] = { "/usr", "/proc/sys", "/proc", "/attacks", "/etc/passwd", "/", "/tmp" };
        for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
                char what[96];
                snprintf(what, sizeof(what), "umount2(%s,MNT_DETACH)", targets[i]);
                EXPECT_FAIL(what, umount2(targets[i], MNT_DETACH), EPERM);
        }
        attack_finish();
}
