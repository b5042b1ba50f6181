/* SPDX-License-Identifier: MIT */
/* Open init's binary (bridle-init on the host) through /proc/1/exe for
 * writing. The runner checksums bridle-init before and after. */
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL_ANY("open(/proc/1/exe,O_WRONLY)", open("/proc/1/exe", O_WRONLY | O_CLOEXEC));
        EXPECT_FAIL_ANY("open(/proc/1/exe,O_RDWR)", open("/proc/1/exe", O_RDWR | O_CLOEXEC));
        EXPECT_FAIL_ANY("open(/proc/1/exe,O_WRONLY|O_TRUNC)",
                        open("/proc/1/exe", O_WRONLY | O_TRUNC | O_CLOEXEC));
        int ro = open("/proc/1/exe", O_RDONLY | O_CLOEXEC);
        if (ro >= 0) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/self/fd/%d", ro);
                EXPECT_FAIL_ANY("reopen(/proc/1/exe fd,O_WRONLY)", open(p, O_WRONLY | O_CLOEXEC));
                close(ro);
        } else {
                note_ok("open(/proc/1/exe,O_RDONLY): %s", attack_errname(errno));
        }
        attack_finish();
}
