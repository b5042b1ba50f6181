/* SPDX-License-Identifier: MIT */
/* Remount the read-only binds (/usr, /, /attacks, /etc files) read-write.
 * Nothing is ever written: a successful mount() alone is the hole. */
#include <sys/mount.h>
#include "attack.h"

int main(void)
{
        const char *targets[] = { "/usr", "/", "/attacks", "/etc/passwd", "/proc/sys" };
        for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
                char what[96];
                snprintf(what, sizeof(what), "mount(%s,MS_REMOUNT|MS_BIND)", targets[i]);
                EXPECT_FAIL(what, mount(NULL, targets[i], NULL, MS_REMOUNT | MS_BIND, NULL), EPERM);
                snprintf(what, sizeof(what), "mount(%s,MS_REMOUNT)", targets[i]);
                EXPECT_FAIL(what, mount(NULL, targets[i], NULL, MS_REMOUNT, NULL), EPERM);
        }
        attack_finish();
}
